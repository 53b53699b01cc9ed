using NeverwinterDP.Actors.Emitter;

namespace NeverwinterDP.Host.Admin;

/// <summary><c>GET /v1/sources</c> and <c>GET /v1/watchdog</c>: read from the emitter registry, when this node runs one.</summary>
public static class RegistryAdmin
{
    private const string NotRunning = "emitter registry not running on this node";

    public static async Task<IResult> SourcesAsync(IServiceProvider services, CancellationToken cancellation) =>
        services.GetService<IRegistryQueries>() is { } registry
            ? AdminApi.Json(new SourcesResponse(await registry.SourcesAsync(cancellation)), AdminJson.Default.SourcesResponse)
            : AdminApi.Fail(503, NotRunning);

    public static async Task<IResult> WatchdogAsync(IServiceProvider services, CancellationToken cancellation) =>
        services.GetService<IRegistryQueries>() is { } registry
            ? AdminApi.Json(new WatchdogResponse(await registry.HostsAsync(cancellation)), AdminJson.Default.WatchdogResponse)
            : AdminApi.Fail(503, NotRunning);
}
