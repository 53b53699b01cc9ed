using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/watermarks?sink=S&amp;topic=T&amp;all=true</c>: the hour completions announced by this node's pumps (what
/// <c>nwdp watermarks</c> shows); the last version of each hour unless <c>all</c> asks for every version.
/// </summary>
public static class WatermarksAdmin
{
    public static IResult Watermarks(HttpRequest request, NodeConfig config, IServiceProvider services)
    {
        var sink = request.Query["sink"].ToString();
        var topic = request.Query["topic"].ToString();
        var all = string.Equals(request.Query["all"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
        var hub = services.GetService<WatermarkHub>();
        var completions = hub?.Completions(sink.Length > 0 ? sink : null, topic.Length > 0 ? topic : null) ?? [];
        if (!all)
            completions = completions.GroupBy(c => (c.Sink, c.Topic, c.HourMs)).Select(g => g.Last()).ToList();
        var rows = completions
            .OrderBy(c => c.HourMs).ThenBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Sink, StringComparer.Ordinal).ThenBy(c => c.Version)
            .Select(c => new WatermarkInfo(c.Sink, c.Topic, c.HourMs, c.HourText, c.Version, c.State, c.Reason, c.Events, c.Counts, c.Nodes,
                c.Delivered, c.LateEvents, c.AnnouncedAtMs))
            .ToList();
        return AdminApi.Json(new WatermarksResponse(hub is not null, config.PumpEnabled, rows), AdminJson.Default.WatermarksResponse);
    }
}
