using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Sinks.Catalog;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Compliance;

public sealed class SinkComplianceCoverageTests
{
    private static IEnumerable<Type> Suites() => typeof(SinkComplianceSuite).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsSubclassOf(typeof(SinkComplianceSuite)));

    [Fact]
    public void Every_registered_sink_kind_has_a_compliance_suite()
    {
        using var provider = new ServiceCollection().AddSinkKinds().BuildServiceProvider();
        var registered = provider.GetServices<SinkKind>().Select(k => k.Kind).ToList();
        Assert.NotEmpty(registered);
        var covered = Suites()
            .SelectMany(t => t.GetCustomAttributes(typeof(SinkKindAttribute), inherit: false).Cast<SinkKindAttribute>().SelectMany(a => a.Kinds))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        var missing = registered.Where(k => !covered.Contains(k)).ToList();
        Assert.True(missing.Count == 0,
            $"registered sink kinds without a compliance suite: {string.Join(", ", missing)}; add a SinkComplianceSuite subclass with [SinkKind(\"...\")]");
    }

    [Fact]
    public void Every_compliance_suite_names_the_kinds_it_covers_and_they_are_registered()
    {
        using var provider = new ServiceCollection().AddSinkKinds().BuildServiceProvider();
        var registered = provider.GetServices<SinkKind>().Select(k => k.Kind).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var suite in Suites())
        {
            var kinds = suite.GetCustomAttributes(typeof(SinkKindAttribute), inherit: false).Cast<SinkKindAttribute>().SelectMany(a => a.Kinds).ToList();
            Assert.True(kinds.Count > 0, $"{suite.Name} has no [SinkKind(...)]");
            Assert.All(kinds, k => Assert.True(registered.Contains(k), $"{suite.Name} names kind '{k}', which is not registered"));
        }
    }
}
