using NeverwinterDP.Actors.Sinks.Files;

namespace NeverwinterDP.Host.Hosting;

/// <summary>The sinks this build knows: one registration line each (enabled by <c>nwdp.sinks.&lt;name&gt;.enabled</c>).</summary>
public static class SinkRegistrations
{
    public static IServiceCollection AddFilesSink(this IServiceCollection services) =>
        services.AddSink(c => c.Hocon.GetBoolean("nwdp.sinks.files.enabled", true),
            c => new FilesSink(FilesSinkOptions.FromConfig(c.Hocon.GetConfig("nwdp.sinks.files"), c.FilesSinkDirectory)));
}
