using NeverwinterDP.Actors.Emitter;

namespace NeverwinterDP.Host.Admin;

/// <summary><c>GET /v1/sources</c> and <c>GET /v1/watchdog</c>: read from the emitter registry (the emitter and watchdog entities, wherever they run).</summary>
public static class RegistryAdmin
{
    // A partial answer (200, "unavailable" naming who did not answer): for ~20 s after a member crashed, until it is
    // removed and its shards move, the entities it held cannot answer; the rest of the list is still worth seeing.
    public static async Task<IResult> SourcesAsync(IRegistryQueries registry, CancellationToken cancellation)
    {
        var listing = await registry.ListSourcesAsync(cancellation);
        return AdminApi.Json(new SourcesResponse(listing.Items, listing.Unavailable), AdminJson.Default.SourcesResponse);
    }

    public static async Task<IResult> WatchdogAsync(IRegistryQueries registry, CancellationToken cancellation)
    {
        var listing = await registry.ListHostsAsync(cancellation);
        return AdminApi.Json(new WatchdogResponse(listing.Items, listing.Unavailable), AdminJson.Default.WatchdogResponse);
    }
}
