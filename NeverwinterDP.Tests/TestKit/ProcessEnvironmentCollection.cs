using Xunit;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// Unit tests that set environment variables of this process (which every configuration load reads): xunit runs this
/// collection alone, after the parallel ones, so no other test sees the variables they set.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}
