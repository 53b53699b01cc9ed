using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Stats;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>One minute of a type (<see cref="SummaryReport.Minutes"/>).</summary>
public sealed record MinuteSummary(string Minute, long Events, long Bytes, long Errors);

/// <summary>What one sink delivered of the type in the window (from <c>nwdp.stats</c>).</summary>
public sealed record SinkSummary(string Sink, long Delivered);

/// <summary>
/// <c>nwdp report summary</c>: a type's events, bytes, error-level events and distinct hosts and sources
/// (host/process; HyperLogLog, ± <c>distinct_error_pct</c> standard error) over the hours of the window, per minute for
/// the last hour, and per sink what was delivered.
/// </summary>
public sealed record SummaryReport(
    string Type, string Since, string From, IReadOnlyList<string> Nodes, long Events, long Bytes, long Errors, double ErrorRatio,
    long DistinctHosts, long DistinctSources, double DistinctErrorPct, long Unsketched, int Keys, long KeysDropped, string? FirstSeen, string? LastSeen,
    IReadOnlyList<MinuteSummary> Minutes, IReadOnlyList<SinkSummary> Sinks);

/// <summary>One attribute key: the events that carried it and their share of the type's events.</summary>
public sealed record KeyCoverage(string Key, long Events, double Share, string? FirstSeen, string? LastSeen);

/// <summary>
/// <c>nwdp report keys</c>: per attribute key, the share of the type's events that carry it. <c>resolution</c> is
/// <c>minute</c> when the window is at most an hour (counted per minute), else <c>hour</c> (whole hours, from <c>from</c>).
/// </summary>
public sealed record KeysReport(string Type, string Since, string From, string Resolution, long Events, IReadOnlyList<KeyCoverage> Keys, long KeysDropped, int MaxKeysPerType);

/// <summary>A frequent value: <c>count - max_over &lt;= true count &lt;= count</c>; <c>share</c> is of the events that carry the key.</summary>
public sealed record ValueShare(string Value, long Count, double Share, long MaxOver);

/// <summary>
/// The values of one key: distinct values (exact while <c>distinct_exact</c>, else a HyperLogLog estimate), the share of
/// empty values, the values that parse as numbers and their min/max, and the top values. A value not listed occurred
/// at most <c>unlisted_max</c> times.
/// </summary>
public sealed record ValueCoverage(string Key, long Events, long Distinct, bool DistinctExact, double EmptyShare, long Numeric, double? Min, double? Max,
    long UnlistedMax, IReadOnlyList<ValueShare> Top);

/// <summary><c>nwdp report values</c>: per key (or one key), what its values look like, over whole hours from <c>from</c>.</summary>
public sealed record ValuesReport(string Type, string Since, string From, long Events, double DistinctErrorPct, int TopValues, IReadOnlyList<ValueCoverage> Keys);

/// <summary>
/// Answers the coverage and summary reports for the whole cluster: this node's live sketches
/// (<see cref="CoverageCollector"/>) merged with every other node's newest published ones (<see cref="CoverageStore"/>).
/// Windows are whole UTC hours (every hour that ends after <c>now - since</c>), except the per-minute figures.
/// </summary>
public sealed class CoverageReporter(CoverageCollector collector, CoverageStore store, CoverageOptions options, TimeProvider clock, Func<string> nodeId)
{
    /// <summary>The types known in the window (this node's and the others').</summary>
    public IReadOnlyList<string> Types(TimeSpan since)
    {
        var sinceMs = Now - (long)since.TotalMilliseconds;
        return collector.Types(sinceMs).Concat(store.Types(sinceMs)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    public SummaryReport Summary(string type, TimeSpan since)
    {
        var (sketch, nodes, sinceMs) = Merged(type, since);
        var lastHour = Math.Max(sinceMs, Now - UtcHours.Ms);
        var minutes = sketch.Minutes.Where(m => m.Key + CoverageSketch.MinuteMs > lastHour)
            .Select(m => new MinuteSummary(Time(m.Key), m.Value.Events, m.Value.Bytes, m.Value.Errors)).ToList();
        return new SummaryReport(type, Time(sinceMs), Time(UtcHours.Of(sinceMs)), nodes, sketch.Events, sketch.Bytes, sketch.Errors,
            Ratio(sketch.Errors, sketch.Events), sketch.Hosts.Estimate(), sketch.Sources.Estimate(), ErrorPct, sketch.Unsketched, sketch.Keys.Count,
            sketch.KeysDropped, sketch.Events > 0 ? Time(sketch.FirstMs) : null, sketch.Events > 0 ? Time(sketch.LastMs) : null, minutes, []);
    }

    public KeysReport Keys(string type, TimeSpan since)
    {
        var (sketch, _, sinceMs) = Merged(type, since);
        List<KeyCoverage> keys;
        long events;
        string resolution;
        if (since <= TimeSpan.FromHours(1))
        {
            resolution = "minute";
            var firstMinute = sinceMs - ((sinceMs % CoverageSketch.MinuteMs) + CoverageSketch.MinuteMs) % CoverageSketch.MinuteMs;
            var inWindow = sketch.Minutes.Where(m => m.Key >= firstMinute).Select(m => m.Value).ToList();
            events = inWindow.Sum(m => m.Events);
            keys = inWindow.SelectMany(m => m.Keys).GroupBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(g => Key(g.Key, g.Sum(kv => kv.Value), events, sketch.Keys.GetValueOrDefault(g.Key))).ToList();
        }
        else
        {
            resolution = "hour";
            events = sketch.Sketched;
            keys = sketch.Keys.Select(kv => Key(kv.Key, kv.Value.Present, events, kv.Value)).ToList();
        }
        keys.Sort((a, b) => b.Events != a.Events ? b.Events.CompareTo(a.Events) : string.CompareOrdinal(a.Key, b.Key));
        return new KeysReport(type, Time(sinceMs), Time(resolution == "minute" ? sinceMs - ((sinceMs % 60_000) + 60_000) % 60_000 : UtcHours.Of(sinceMs)),
            resolution, events, keys, sketch.KeysDropped, options.MaxKeysPerType);
    }

    public ValuesReport Values(string type, TimeSpan since, string? key = null)
    {
        var (sketch, _, sinceMs) = Merged(type, since);
        var keys = sketch.Keys.Where(kv => key is null || kv.Key == key)
            .OrderByDescending(kv => kv.Value.Present).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv =>
            {
                var k = kv.Value;
                var top = k.Top.Top().Select(t => new ValueShare(t.Value, t.Count, Ratio(t.Count, k.Present), t.Error)).ToList();
                return new ValueCoverage(kv.Key, k.Present, k.Distinct.Estimate(), k.Distinct.IsExact, Ratio(k.Empty, k.Present), k.Numeric, k.Min, k.Max,
                    k.Top.MinCount, top);
            }).ToList();
        return new ValuesReport(type, Time(sinceMs), Time(UtcHours.Of(sinceMs)), sketch.Sketched, ErrorPct, options.TopValues, keys);
    }

    private static KeyCoverage Key(string key, long present, long events, KeySketch? sketch) =>
        new(key, present, Ratio(present, events),
            sketch is { Present: > 0 } ? Time(sketch.FirstSeenMs) : null,
            sketch is { Present: > 0 } ? Time(sketch.LastSeenMs) : null);

    private (CoverageSketch Sketch, IReadOnlyList<string> Nodes, long SinceMs) Merged(string type, TimeSpan since)
    {
        var sinceMs = Now - (long)since.TotalMilliseconds;
        var sketch = CoverageSketch.Empty(type, UtcHours.Of(sinceMs), options);
        var self = nodeId();
        var (others, _) = store.MergeInto(sketch, type, sinceMs, exceptNode: self);
        var nodes = others.ToList();
        if (collector.MergeInto(sketch, type, sinceMs) > 0) nodes.Add(self);
        nodes.Sort(StringComparer.Ordinal);
        return (sketch, nodes, sinceMs);
    }

    private double ErrorPct => Math.Round(HyperLogLog.StandardErrorOf(options.HllPrecision) * 100, 2, MidpointRounding.AwayFromZero);

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private static double Ratio(long part, long whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 6);

    private static string Time(long ms) => StatsRecord.FormatMinute(ms);
}
