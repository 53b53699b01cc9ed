using NeverwinterDP.Actors.Emitter;

namespace NeverwinterDP.Host.Admin;

/// <summary><c>GET /v1/sources</c> and <c>GET /v1/watchdog</c>: read from the emitter registry (the emitter and watchdog entities, wherever they run).</summary>
public static class RegistryAdmin
{
    public static async Task<IResult> SourcesAsync(IRegistryQueries registry, CancellationToken cancellation) =>
        AdminApi.Json(new SourcesResponse(await registry.SourcesAsync(cancellation)), AdminJson.Default.SourcesResponse);

    public static async Task<IResult> WatchdogAsync(IRegistryQueries registry, CancellationToken cancellation) =>
        AdminApi.Json(new WatchdogResponse(await registry.HostsAsync(cancellation)), AdminJson.Default.WatchdogResponse);
}
