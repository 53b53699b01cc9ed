using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Stats;

/// <summary>One row of <c>GET /v1/stats</c>: a minute and (type, process, host), summed over the nodes that counted it.</summary>
public sealed record StatsRow(long MinuteMs, string Minute, string Type, string Process, string Host, IReadOnlyDictionary<string, long> Lines, IReadOnlyDictionary<string, long> Bytes);

/// <summary>What one sink did with one (type, minute): delivered lines and the verdict.</summary>
public sealed record AuditSink(string Sink, long Delivered, string Verdict);

/// <summary>One row of <c>GET /v1/audit</c>: a type and minute at the three points, a verdict per sink.</summary>
public sealed record AuditRow(long MinuteMs, string Minute, string Type, long Accepted, long OnBus, bool Settled, IReadOnlyList<AuditSink> Sinks);

/// <summary>Audit verdicts.</summary>
public static class AuditVerdicts
{
    public const string Ok = "ok";
    public const string Lost = "lost";
    public const string Duplicated = "duplicated";
    public const string Pending = "pending";
}

/// <summary>
/// The <c>nwdp.stats</c> records of every node, newest per (node, point, sink, minute, type, process, host), for a
/// bounded window (<see cref="StatsOptions.Window"/>, at most <see cref="StatsOptions.MaxStoredRecords"/>), so any
/// node answers for the whole cluster. Fed by <see cref="StatsFeed"/>; thread-safe.
/// </summary>
public sealed class StatsStore(StatsOptions options, TimeProvider clock) : IDeliveredPositions
{
    private const long MinuteMs = 60_000;
    private readonly object _gate = new();
    private readonly Dictionary<(string Sink, string Topic, int Partition), long> _counted = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SortedDictionary<long, MinuteRecords> _minutes = new();
    private int _count;

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Records taken since start (for tests: the feed caught up).</summary>
    public long Received { get; private set; }

    public void Add(StatsRecord record)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            Received++;
            if (record.Point == StatsPoints.Counted)
            {
                if (record is { Sink: { } sink, Topic: { } topic, Partition: { } partition, Offset: { } offset })
                    CountedPositions.Raise(_counted, (sink, topic, partition), offset);
                return;
            }
            if (record.MinuteMs + MinuteMs < now - (long)options.Window.TotalMilliseconds) return;
            if (!_minutes.TryGetValue(record.MinuteMs, out var m)) _minutes[record.MinuteMs] = m = new MinuteRecords();
            var key = new RecordKey(record.Node, record.Point, record.Sink, record.Type, record.Process, record.Host);
            if (m.Records.TryGetValue(key, out var old))
            {
                if (old.PublishedMs > record.PublishedMs) return;
                if (old.Lines != record.Lines || old.Bytes != record.Bytes) m.Changed[record.Type] = now;
            }
            else
            {
                _count++;
                m.Changed[record.Type] = now;
            }
            m.Records[key] = record;
            Evict(now);
        }
    }

    /// <summary>The highest counted position any node published for the sink's partition (<see cref="StatsPoints.Counted"/>).</summary>
    public long CountedNext(string sink, string topic, int partition)
    {
        lock (_gate) return _counted.GetValueOrDefault((sink, topic, partition), long.MinValue);
    }

    /// <summary>The feed read what <c>nwdp.stats</c> held when it started.</summary>
    public void CaughtUp() => _caughtUp.TrySetResult();

    /// <summary>Whether <see cref="CaughtUp"/> was called.</summary>
    public bool IsCaughtUp => _caughtUp.Task.IsCompleted;

    private volatile bool _gaveUp;

    /// <summary>Completes once the feed caught up, or after <see cref="StatsOptions.PositionsWait"/> (counted positions are then possibly incomplete).</summary>
    public async Task ReadyAsync(CancellationToken cancellation)
    {
        if (_caughtUp.Task.IsCompleted || _gaveUp) return;
        try
        {
            await _caughtUp.Task.WaitAsync(options.PositionsWait, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _gaveUp = true; // once: later commits do not wait again
        }
    }

    private void Evict(long now)
    {
        var horizon = now - (long)options.Window.TotalMilliseconds;
        while (_minutes.Count > 0)
        {
            var (start, oldest) = _minutes.First();
            if (start + MinuteMs >= horizon && (_count <= options.MaxStoredRecords || _minutes.Count == 1)) break;
            _count -= oldest.Records.Count;
            _minutes.Remove(start);
        }
    }

    /// <summary>Per minute since <paramref name="sinceMs"/> and (type, process, host), the six categories summed over nodes.</summary>
    public IReadOnlyList<StatsRow> Stats(long sinceMs, string? type = null, string? host = null)
    {
        var rows = new List<StatsRow>();
        lock (_gate)
        {
            foreach (var (start, m) in _minutes)
            {
                if (start + MinuteMs <= sinceMs) continue;
                var sums = new Dictionary<(string, string, string), (Dictionary<string, long> Lines, Dictionary<string, long> Bytes)>();
                foreach (var r in m.Records.Values)
                {
                    if (r.Point != StatsPoints.Ingress || r.CategoryLines is null) continue;
                    if (type is not null && r.Type != type) continue;
                    if (host is not null && r.Host != host) continue;
                    var k = (r.Type, r.Process ?? "", r.Host ?? "");
                    if (!sums.TryGetValue(k, out var s)) sums[k] = s = (Zeroes(), Zeroes());
                    foreach (var name in StatsCategories.Names)
                    {
                        s.Lines[name] += r.CategoryLines.GetValueOrDefault(name);
                        s.Bytes[name] += r.CategoryBytes?.GetValueOrDefault(name) ?? 0;
                    }
                }
                foreach (var ((t, p, h), s) in sums.OrderBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item3, StringComparer.Ordinal)
                             .ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal))
                    rows.Add(new StatsRow(start, StatsRecord.FormatMinute(start), t, p, h, s.Lines, s.Bytes));
            }
        }
        return rows;
    }

    /// <summary>
    /// Per type and minute since <paramref name="sinceMs"/>: accepted, on the bus and delivered per sink (summed over
    /// nodes), with a verdict per sink. A minute is <em>settled</em> once it ended at least
    /// <see cref="StatsOptions.SettleTime"/> ago and none of its counts for that type changed in the last
    /// settle time (nodes publish a minute again whenever a late delivery changes it). Until then the verdict is
    /// pending; then ok (delivered = accepted), lost (delivered &lt; accepted) or duplicated (delivered &gt; accepted).
    /// </summary>
    /// <param name="sinkTakes">The sinks configured on this node and whether each reads a type's topic: such a sink
    /// is audited for the type even when it delivered nothing. Sinks seen only in records are audited too.</param>
    public IReadOnlyList<AuditRow> Audit(long sinceMs, IReadOnlyDictionary<string, Func<string, bool>>? sinkTakes = null)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var settle = (long)options.SettleTime.TotalMilliseconds;
        var rows = new List<AuditRow>();
        lock (_gate)
        {
            foreach (var (start, m) in _minutes)
            {
                if (start + MinuteMs <= sinceMs) continue;
                var byType = new SortedDictionary<string, (long Accepted, long Bus, SortedDictionary<string, long> Delivered)>(StringComparer.Ordinal);
                foreach (var r in m.Records.Values)
                {
                    if (r.Point is not (StatsPoints.Accepted or StatsPoints.Bus or StatsPoints.Delivered)) continue;
                    if (!byType.TryGetValue(r.Type, out var t)) t = (0, 0, new SortedDictionary<string, long>(StringComparer.Ordinal));
                    switch (r.Point)
                    {
                        case StatsPoints.Accepted: t.Accepted += r.Lines; break;
                        case StatsPoints.Bus: t.Bus += r.Lines; break;
                        default: t.Delivered[r.Sink ?? ""] = t.Delivered.GetValueOrDefault(r.Sink ?? "") + r.Lines; break;
                    }
                    byType[r.Type] = t;
                }
                foreach (var (type, t) in byType)
                {
                    foreach (var (sink, takes) in sinkTakes ?? new Dictionary<string, Func<string, bool>>())
                        if (!t.Delivered.ContainsKey(sink) && takes(type)) t.Delivered[sink] = 0;
                    var settled = now >= start + MinuteMs + settle && now >= m.Changed.GetValueOrDefault(type) + settle;
                    var sinks = t.Delivered.Select(d => new AuditSink(d.Key, d.Value,
                        !settled ? AuditVerdicts.Pending
                        : d.Value == t.Accepted ? AuditVerdicts.Ok
                        : d.Value < t.Accepted ? AuditVerdicts.Lost
                        : AuditVerdicts.Duplicated)).ToList();
                    rows.Add(new AuditRow(start, StatsRecord.FormatMinute(start), type, t.Accepted, t.Bus, settled, sinks));
                }
            }
        }
        return rows;
    }

    private static Dictionary<string, long> Zeroes() => StatsCategories.Names.ToDictionary(n => n, _ => 0L);

    private readonly record struct RecordKey(string Node, string Point, string? Sink, string Type, string? Process, string? Host);

    private sealed class MinuteRecords
    {
        public Dictionary<RecordKey, StatsRecord> Records { get; } = new();

        /// <summary>Per type, when a count of it last changed (the node's clock).</summary>
        public Dictionary<string, long> Changed { get; } = new(StringComparer.Ordinal);
    }
}
