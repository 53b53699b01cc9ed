using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Hdfs;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// The sink kinds this build knows: one registration line each. Instances are configured under
/// <c>nwdp.sinks.&lt;name&gt;</c> (<c>kind</c> defaults to the name); see README "Writing a sink".
/// </summary>
public static class SinkRegistrations
{
    public static IServiceCollection AddSinks(this IServiceCollection services) => services
        .AddSinkKind("files", s => new FilesSink(FilesSinkOptions.FromConfig(s.Config, Path.Combine(s.DataDir, "sinks", s.Name)), s.Name))
        .AddSinkKind("hdfs", s => new HdfsSink(HdfsSinkOptions.FromConfig(s), s.Name));
}
