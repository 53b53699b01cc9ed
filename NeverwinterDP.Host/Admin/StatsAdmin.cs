using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/stats?type=&amp;host=&amp;since=10m</c> (per minute and (type, process, host): the six categories'
/// lines and bytes) and <c>GET /v1/audit?since=1h</c> (per type and minute: accepted, on the bus, delivered per
/// sink, verdicts), answered from this node's <see cref="StatsStore"/> for the whole cluster (what
/// <c>nwdp stats</c> and <c>nwdp audit</c> show).
/// </summary>
public static class StatsAdmin
{
    public static IResult Stats(HttpRequest request, StatsStore store, TimeProvider clock)
    {
        if (!TrySince(request, TimeSpan.FromMinutes(10), clock, out var since, out var problem)) return problem;
        var rows = store.Stats(since, NullIfEmpty(request.Query["type"]), NullIfEmpty(request.Query["host"]));
        return AdminApi.Json(new StatsResponse(StatsRecord.FormatMinute(since - since % 60_000), rows), AdminJson.Default.StatsResponse);
    }

    public static IResult Audit(HttpRequest request, StatsStore store, TimeProvider clock, SinkCatalog catalog, StatsOptions options)
    {
        if (!TrySince(request, TimeSpan.FromHours(1), clock, out var since, out var problem)) return problem;
        var sinks = catalog.Sections.ToDictionary(s => s.Name, s =>
        {
            var pattern = new Regex(s.Topics, RegexOptions.CultureInvariant);
            return (Func<string, bool>)(type => pattern.IsMatch(TopicNames.ForType(type)));
        });
        var rows = store.Audit(since, sinks);
        return AdminApi.Json(new AuditResponse(
            StatsRecord.FormatMinute(since - since % 60_000),
            options.SettleTime.TotalSeconds,
            rows.Sum(r => r.Sinks.Count(s => s.Verdict == AuditVerdicts.Lost)),
            rows.Sum(r => r.Sinks.Count(s => s.Verdict == AuditVerdicts.Duplicated)),
            rows), AdminJson.Default.AuditResponse);
    }

    /// <summary>The start of the window: <c>since</c> (a duration like 10m) before now; 400 naming the parameter when it is not one.</summary>
    private static bool TrySince(HttpRequest request, TimeSpan fallback, TimeProvider clock, out long sinceMs, out IResult problem)
    {
        var values = request.Query["since"];
        var raw = values.ToString();
        var span = fallback;
        problem = Results.Empty;
        sinceMs = 0;
        if (values.Count > 1 || (values.Count == 1 && !Durations.TryParse(raw, out span)))
        {
            problem = AdminApi.Fail(400, $"'since' must be one duration like 10m, 1h or 30s, got '{raw}'");
            return false;
        }
        sinceMs = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)span.TotalMilliseconds;
        return true;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
