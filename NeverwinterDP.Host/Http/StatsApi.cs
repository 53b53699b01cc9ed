using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Host.Hosting;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// <c>GET /admin/stats?type=&amp;host=&amp;since=10m</c> (per minute and (type, process, host): the six categories'
/// lines and bytes) and <c>GET /admin/audit?since=1h</c> (per type and minute: accepted, on the bus, delivered
/// per sink, verdicts), answered from this node's <see cref="StatsStore"/> for the whole cluster.
/// </summary>
public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/admin/stats", (HttpRequest request, StatsStore store, TimeProvider clock) =>
        {
            if (!TrySince(request, TimeSpan.FromMinutes(10), clock, out var since, out var problem)) return problem;
            var type = NullIfEmpty(request.Query["type"]);
            var host = NullIfEmpty(request.Query["host"]);
            var rows = store.Stats(since, type, host);
            return Results.Json(new
            {
                since = StatsRecord.FormatMinute(since - since % 60_000),
                rows = rows.Select(r => new { minute = r.Minute, minute_ms = r.MinuteMs, type = r.Type, process = r.Process, host = r.Host, lines = r.Lines, bytes = r.Bytes }),
            });
        });
        routes.MapGet("/admin/audit", (HttpRequest request, StatsStore store, TimeProvider clock, SinkCatalog catalog, StatsOptions options) =>
        {
            if (!TrySince(request, TimeSpan.FromHours(1), clock, out var since, out var problem)) return problem;
            var sinks = catalog.Sections.ToDictionary(s => s.Name, s =>
            {
                var pattern = new Regex(s.Topics, RegexOptions.CultureInvariant);
                return (Func<string, bool>)(type => pattern.IsMatch(TopicNames.ForType(type)));
            });
            var rows = store.Audit(since, sinks);
            return Results.Json(new
            {
                since = StatsRecord.FormatMinute(since - since % 60_000),
                settle_time_s = options.SettleTime.TotalSeconds,
                lost = rows.Sum(r => r.Sinks.Count(s => s.Verdict == AuditVerdicts.Lost)),
                duplicated = rows.Sum(r => r.Sinks.Count(s => s.Verdict == AuditVerdicts.Duplicated)),
                rows = rows.Select(r => new
                {
                    minute = r.Minute, minute_ms = r.MinuteMs, type = r.Type, accepted = r.Accepted, on_bus = r.OnBus, settled = r.Settled,
                    sinks = r.Sinks.Select(s => new { sink = s.Sink, delivered = s.Delivered, verdict = s.Verdict }),
                }),
            });
        });
        return routes;
    }

    private static bool TrySince(HttpRequest request, TimeSpan fallback, TimeProvider clock, out long sinceMs, out IResult problem)
    {
        var raw = request.Query["since"].ToString();
        var span = fallback;
        problem = Results.Empty;
        sinceMs = 0;
        if (raw.Length > 0 && !CliArgs.TryParseDuration(raw, out span))
        {
            problem = Results.Json(new { error = $"since must be a duration like 10m, 1h or 30s, got '{raw}'" }, statusCode: 400);
            return false;
        }
        sinceMs = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)span.TotalMilliseconds;
        return true;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
