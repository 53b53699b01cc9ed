using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Actors.Stats;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/report/summary|keys|values?type=T&amp;since=24h[&amp;key=K]</c>: the coverage and summary reports of a log
/// type for the whole cluster (this node's live sketches merged with every node's on <c>nwdp.coverage</c>), what
/// <c>nwdp report</c> shows. 400 without a type or with a bad <c>since</c>; 404 when no node saw the type in the
/// window (the answer names the types that were seen); 409 when coverage is off on this node.
/// </summary>
public static class ReportAdmin
{
    private static readonly TimeSpan DefaultSince = TimeSpan.FromHours(24);

    public static IResult Summary(HttpRequest request, CoverageReporter reporter, CoverageOptions options, StatsStore stats, TimeProvider clock)
    {
        if (!TryArgs(request, reporter, options, out var type, out var since, out var problem)) return problem;
        var report = reporter.Summary(type, since);
        // Per sink, what it delivered of the type in the window (the audit's delivered counts, whole minutes).
        var sinceMs = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)since.TotalMilliseconds;
        var sinks = stats.Audit(sinceMs).Where(r => r.Type == type).SelectMany(r => r.Sinks)
            .GroupBy(s => s.Sink, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SinkSummary(g.Key, g.Sum(s => s.Delivered))).ToList();
        return AdminApi.Json(report with { Sinks = sinks }, AdminJson.Default.SummaryReport);
    }

    public static IResult Keys(HttpRequest request, CoverageReporter reporter, CoverageOptions options)
    {
        if (!TryArgs(request, reporter, options, out var type, out var since, out var problem)) return problem;
        return AdminApi.Json(reporter.Keys(type, since), AdminJson.Default.KeysReport);
    }

    public static IResult Values(HttpRequest request, CoverageReporter reporter, CoverageOptions options)
    {
        if (!TryArgs(request, reporter, options, out var type, out var since, out var problem)) return problem;
        var key = request.Query["key"].ToString();
        var report = reporter.Values(type, since, string.IsNullOrEmpty(key) ? null : key);
        if (!string.IsNullOrEmpty(key) && report.Keys.Count == 0)
            return AdminApi.Fail(404, $"no attribute key '{key}' in type '{type}' in the window; see nwdp report keys");
        return AdminApi.Json(report, AdminJson.Default.ValuesReport);
    }

    private static bool TryArgs(HttpRequest request, CoverageReporter reporter, CoverageOptions options, out string type, out TimeSpan since, out IResult problem)
    {
        type = request.Query["type"].ToString();
        since = DefaultSince;
        problem = Results.Empty;
        if (!options.Enabled)
        {
            problem = AdminApi.Fail(409, "coverage reports are off on this node (nwdp.coverage.enabled = off)");
            return false;
        }
        if (string.IsNullOrEmpty(type))
        {
            problem = AdminApi.Fail(400, "'type' is required: the log type to report on");
            return false;
        }
        var values = request.Query["since"];
        if (values.Count > 1 || (values.Count == 1 && (!Durations.TryParse(values.ToString(), out since) || since <= TimeSpan.Zero)))
        {
            problem = AdminApi.Fail(400, $"'since' must be one duration like 24h, 90m or 30s, got '{values}'");
            return false;
        }
        var types = reporter.Types(since);
        if (!types.Contains(type))
        {
            var window = values.Count == 1 ? values.ToString() : "24h";
            problem = AdminApi.Fail(404, types.Count == 0
                ? $"no events of any type in the last {window}"
                : $"no events of type '{type}' in the last {window}; types seen: {string.Join(", ", types)}");
            return false;
        }
        return true;
    }
}
