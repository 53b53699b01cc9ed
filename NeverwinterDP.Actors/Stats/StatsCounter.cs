using System.Runtime.CompilerServices;
using System.Text;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Actors.Stats;

/// <summary>One (type, process, host) series; <see cref="StatsCounter.Other"/> is where series past the bound go.</summary>
public readonly record struct SeriesKey(string Type, string Process, string Host);

/// <summary>Cumulative lines and bytes of one series per category (a copy, for metrics).</summary>
public sealed record SeriesTotals(SeriesKey Key, long[] Lines, long[] Bytes);

/// <summary>
/// Counts a node's events per UTC minute (of their ingress time) and (type, process, host) in six categories, and
/// per type at the three audit points (accepted, on the bus, delivered per sink). Cheap on the hot path: a batch
/// is summed into a few local cells without a lock (consecutive events of one source share a cell), then merged
/// under one short lock per batch. Bounded: at most <see cref="StatsOptions.MaxSeriesPerMinute"/> series per
/// minute (more are counted under <c>_other</c>), minutes older than <see cref="StatsOptions.Retention"/> dropped.
/// <para>
/// Accepted and Spilled: ingress calls <see cref="Accepted"/> for every durable batch and then <see cref="Spilled"/>
/// for one that went to the spillover store. Accepted counts each event in its category (normal, error,
/// watchdog); Spilled moves the same events from that category to its <c>_spill</c> twin, so a spilled event
/// ends up counted once, only as spill. Both happen before the minute is published (grace), so a published
/// minute never shows the intermediate state. The audit's <c>accepted</c> point counts a spilled event at its
/// replay (<see cref="Replayed"/>) or when it is set aside (<see cref="Quarantined"/>), not at the spill.
/// </para>
/// </summary>
public sealed class StatsCounter : IIngressObserver, IHeartbeatListener, IDeliveryObserver, IDurableDeliveryObserver
{
    public const string OtherLabel = "_other";
    public static readonly SeriesKey Other = new(OtherLabel, OtherLabel, OtherLabel);
    private const long MinuteMs = 60_000;

    private readonly object _gate = new();
    private readonly StatsOptions _options;
    private readonly TimeProvider _clock;
    private readonly SortedDictionary<long, Minute> _minutes = new();
    private readonly Dictionary<SeriesKey, Tally> _totals = new();
    private long _dropped;
    private long _acceptedEvents;
    private long _spilledEvents;
    private long _heartbeats;

    public StatsCounter(StatsOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
    }

    public StatsOptions Options => _options;

    /// <summary>Events counted at no minute because theirs was older than the retention (late replays).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events ingress made durable (Kafka or spill), since start.</summary>
    public long AcceptedEvents => Interlocked.Read(ref _acceptedEvents);

    /// <summary>Of those, spilled.</summary>
    public long SpilledEvents => Interlocked.Read(ref _spilledEvents);

    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>Times the audit's counts were collected ahead of the minute (<see cref="CollectFlows"/>: one per flush before an answer or a commit).</summary>
    public long FlowCollects => Interlocked.Read(ref _flowCollects);

    /// <summary>Records those collects produced.</summary>
    public long FlowRecords => Interlocked.Read(ref _flowRecords);

    private long _flowCollects;
    private long _flowRecords;

    public void Accepted(IReadOnlyList<LogEvent> events)
    {
        if (events.Count == 0) return;
        Interlocked.Add(ref _acceptedEvents, events.Count);
        CountIngress(events, spilled: false);
    }

    public void Spilled(IReadOnlyList<LogEvent> events)
    {
        if (events.Count == 0) return;
        Interlocked.Add(ref _spilledEvents, events.Count);
        CountIngress(events, spilled: true);
    }

    public void WrittenToBus(IReadOnlyList<LogEvent> events)
    {
        if (events.Count > 0) CountFlow(StatsPoints.Bus, null, events, e => e);
    }

    /// <summary>
    /// A spilled batch reached the bus: it counts as accepted now (the spillover store kept it on disk until then,
    /// where a SIGKILL does not take it), and as on the bus.
    /// </summary>
    public void Replayed(IReadOnlyList<LogEvent> events)
    {
        if (events.Count == 0) return;
        CountFlow(StatsPoints.Accepted, null, events, e => e);
        CountFlow(StatsPoints.Bus, null, events, e => e);
    }

    /// <summary>A spilled batch set aside for good: accepted, and never on the bus (the audit shows it as lost).</summary>
    public void Quarantined(IReadOnlyList<LogEvent> events)
    {
        if (events.Count > 0) CountFlow(StatsPoints.Accepted, null, events, e => e);
    }

    public void Delivered(string sink, IReadOnlyList<SinkRecord> records)
    {
        if (records.Count > 0) CountFlow(StatsPoints.Delivered, sink, records, r => r.Event);
    }

    /// <summary>
    /// The pump commits these records' offsets once <see cref="DurableAsync"/> completed: they count as delivered now,
    /// and the <paramref name="positions"/> are published once these counts are (<see cref="CollectFlows"/>).
    /// </summary>
    public void Committing(string sink, IReadOnlyList<DeliveryCount> records, IReadOnlyList<CountedPosition> positions)
    {
        var cells = new List<Cell>(2);
        Dictionary<(long, SeriesKey), Cell>? index = null;
        Cell? last = null;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var minute = Floor(r.SystemTs);
            if (last is null || last.Minute != minute || !ReferenceEquals(last.Type, r.Type)) last = Find(cells, ref index, minute, r.Type, "", "");
            last.Lines[0]++;
            last.Bytes[0] += r.MessageBytes;
        }
        // Under one lock with the counts: a collect that takes a position has taken the counts below it.
        lock (_gate)
        {
            MergeFlowLocked(StatsPoints.Delivered, sink, cells);
            foreach (var p in positions) CountedPositions.Raise(_counted, (sink, p.Topic, p.Partition), p.Next);
        }
    }

    /// <summary>Counted positions told and not collected yet, newest per (sink, topic, partition).</summary>
    private readonly Dictionary<(string Sink, string Topic, int Partition), long> _counted = new();

    private readonly TaskCompletionSource<Func<CancellationToken, Task>> _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// How counts are made durable: the publisher's <see cref="StatsPublisher.DurableAsync"/>, once it runs. Until then
    /// <see cref="DurableAsync"/> waits (a pump does not commit what the audit could not learn of).
    /// </summary>
    public void DurableBy(Func<CancellationToken, Task> publish) => _durable.TrySetResult(publish);

    /// <summary>Completes once every audit count so far (accepted, bus, delivered) is published to <c>nwdp.stats</c> and acknowledged.</summary>
    public async Task DurableAsync(CancellationToken cancellation)
    {
        var publish = await _durable.Task.WaitAsync(cancellation).ConfigureAwait(false);
        await publish(cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Ingress's wait before it answers a batch it made durable in Kafka: the batch's <c>accepted</c> and <c>bus</c>
    /// counts published and acknowledged (<see cref="DurableAsync"/>), for at most
    /// <see cref="StatsOptions.DurableAcceptedTimeout"/>. At once when that is 0 or the publisher has not started yet
    /// (the stats topic does not exist yet): ingress never waits for what may not come.
    /// </summary>
    public Task CountsDurableAsync(CancellationToken cancellation)
    {
        var timeout = _options.DurableAcceptedTimeout;
        if (timeout <= TimeSpan.Zero || !_durable.Task.IsCompletedSuccessfully) return Task.CompletedTask;
        return _durable.Task.Result(cancellation).WaitAsync(timeout, cancellation);
    }

    /// <summary>A heartbeat is one watchdog line of type <c>heartbeat</c> (0 bytes) in the minute it arrived.</summary>
    public void Heartbeat(SourceHeartbeat heartbeat)
    {
        Interlocked.Increment(ref _heartbeats);
        var minute = Floor(_clock.GetUtcNow().ToUnixTimeMilliseconds());
        var key = new SeriesKey("heartbeat", heartbeat.Process, heartbeat.Host);
        lock (_gate)
        {
            if (MinuteFor(minute) is not { } m)
            {
                _dropped++;
                return;
            }
            AddToSeries(m, key, (int)StatsCategory.Watchdog, 1, 0);
        }
    }

    private void CountIngress(IReadOnlyList<LogEvent> events, bool spilled)
    {
        // Sum the batch locally: a batch mostly holds a few sources, often consecutively.
        // The parser shares host/process/type strings between events, so a small cache keyed on the strings'
        // identity finds the cell without hashing their text; a miss falls back to comparing values.
        var cells = new List<Cell>(4);
        Dictionary<(long, SeriesKey), Cell>? index = null;
        var recent = new Cell?[RecentSlots];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var minute = Floor(e.SystemTs);
            var slot = (RuntimeHelpers.GetHashCode(e.Host) ^ RuntimeHelpers.GetHashCode(e.Process) * 397 ^ RuntimeHelpers.GetHashCode(e.Type) * 31 ^ (int)minute) & (RecentSlots - 1);
            var cell = recent[slot];
            if (cell is null || cell.Minute != minute || !ReferenceEquals(cell.Host, e.Host) || !ReferenceEquals(cell.Process, e.Process) || !ReferenceEquals(cell.Type, e.Type))
            {
                cell = Find(cells, ref index, minute, e.Type, e.Process, e.Host);
                // Remember this event's own strings: the next event of the source most likely shares them.
                recent[slot] = ReferenceEquals(cell.Host, e.Host) && ReferenceEquals(cell.Process, e.Process) && ReferenceEquals(cell.Type, e.Type)
                    ? cell : cell.Alias(e.Type, e.Process, e.Host);
            }
            var category = (int)StatsCategories.Of(e);
            cell.Lines[category]++;
            cell.Bytes[category] += e.MessageByteCount();
        }

        lock (_gate)
        {
            foreach (var c in cells)
            {
                var m = MinuteFor(c.Minute);
                long lines = 0, bytes = 0;
                for (var k = 0; k < 3; k++)
                {
                    lines += c.Lines[k];
                    bytes += c.Bytes[k];
                }
                if (m is null)
                {
                    if (!spilled) _dropped += lines;
                    continue;
                }
                var key = new SeriesKey(c.Type, c.Process, c.Host);
                for (var k = 0; k < 3; k++)
                {
                    if (c.Lines[k] == 0) continue;
                    if (spilled)
                    {
                        AddToSeries(m, key, k, -c.Lines[k], -c.Bytes[k]);
                        AddToSeries(m, key, k + 3, c.Lines[k], c.Bytes[k]);
                    }
                    else AddToSeries(m, key, k, c.Lines[k], c.Bytes[k]);
                }
                // A spilled batch counts as accepted when it is replayed (or set aside): until then it is on the
                // spillover store's disk, while a count here would wait in memory for the bus to come back.
                AddToFlow(m, StatsPoints.Accepted, null, c.Type, spilled ? -lines : lines, spilled ? -bytes : bytes);
            }
        }
    }

    private void CountFlow<T>(string point, string? sink, IReadOnlyList<T> items, Func<T, LogEvent> eventOf)
    {
        var cells = new List<Cell>(2);
        Dictionary<(long, SeriesKey), Cell>? index = null;
        Cell? last = null;
        for (var i = 0; i < items.Count; i++)
        {
            var e = eventOf(items[i]);
            var minute = Floor(e.SystemTs);
            if (last is null || last.Minute != minute || !ReferenceEquals(last.Type, e.Type))
            {
                last = Find(cells, ref index, minute, e.Type, "", "");
            }
            last.Lines[0]++;
            last.Bytes[0] += e.MessageByteCount();
        }
        MergeFlow(point, sink, cells);
    }

    private void MergeFlow(string point, string? sink, List<Cell> cells)
    {
        lock (_gate) MergeFlowLocked(point, sink, cells);
    }

    private void MergeFlowLocked(string point, string? sink, List<Cell> cells)
    {
        foreach (var c in cells)
        {
            if (MinuteFor(c.Minute) is { } m) AddToFlow(m, point, sink, c.Type, c.Lines[0], c.Bytes[0]);
            else _dropped += c.Lines[0];
        }
    }

    /// <summary>The batch-local cell of a series: a scan while there are few, a dictionary past that.</summary>
    private static Cell Find(List<Cell> cells, ref Dictionary<(long, SeriesKey), Cell>? index, long minute, string type, string process, string host)
    {
        if (index is null)
        {
            foreach (var c in cells)
                if (c.Minute == minute && c.Type == type && c.Process == process && c.Host == host)
                    return c;
            if (cells.Count >= 8)
            {
                index = new Dictionary<(long, SeriesKey), Cell>();
                foreach (var c in cells) index[(c.Minute, new SeriesKey(c.Type, c.Process, c.Host))] = c;
            }
        }
        else if (index.TryGetValue((minute, new SeriesKey(type, process, host)), out var found)) return found;
        var cell = new Cell(minute, type, process, host);
        cells.Add(cell);
        index?.Add((minute, new SeriesKey(type, process, host)), cell);
        return cell;
    }

    /// <summary>The minute's table, created on first use; null when it is older than the retention.</summary>
    private Minute? MinuteFor(long minute)
    {
        if (_minutes.TryGetValue(minute, out var m))
        {
            m.Dirty = true;
            return m;
        }
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (minute + MinuteMs < now - (long)_options.Retention.TotalMilliseconds) return null;
        m = new Minute(minute) { Dirty = true };
        _minutes[minute] = m;
        return m;
    }

    private void AddToSeries(Minute m, SeriesKey key, int category, long lines, long bytes)
    {
        if (!m.Series.TryGetValue(key, out var tally))
        {
            var bounded = m.Series.Count >= _options.MaxSeriesPerMinute ? Other : key;
            if (!m.Series.TryGetValue(bounded, out tally)) m.Series[bounded] = tally = new Tally();
        }
        tally.Lines[category] += lines;
        tally.Bytes[category] += bytes;
        tally.Dirty = true;

        if (!_totals.TryGetValue(key, out var total))
        {
            var bounded = _totals.Count >= _options.MaxMetricSeries ? Other : key;
            if (!_totals.TryGetValue(bounded, out total)) _totals[bounded] = total = new Tally();
        }
        total.Lines[category] += lines;
        total.Bytes[category] += bytes;
    }

    private void AddToFlow(Minute m, string point, string? sink, string type, long lines, long bytes)
    {
        var key = new FlowKey(point, sink, type);
        if (!m.Flows.TryGetValue(key, out var flow))
        {
            if (m.Flows.Count >= _options.MaxSeriesPerMinute) key = key with { Type = OtherLabel };
            if (!m.Flows.TryGetValue(key, out flow)) m.Flows[key] = flow = new Tally();
        }
        flow.Lines[0] += lines;
        flow.Bytes[0] += bytes;
        flow.Dirty = true;
    }

    /// <summary>
    /// The records due for publishing: of every minute that ended at least <see cref="StatsOptions.Grace"/> ago (or
    /// of all, with <paramref name="all"/>), the series and points that changed since they were last collected
    /// (each record carries the whole count so far). Drops minutes past the retention.
    /// </summary>
    public IReadOnlyList<StatsRecord> Collect(string node, bool all = false)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var records = new List<StatsRecord>();
        lock (_gate)
        {
            List<long>? expired = null;
            foreach (var (start, m) in _minutes)
            {
                if (m.Dirty && (all || start + MinuteMs + (long)_options.Grace.TotalMilliseconds <= now))
                {
                    m.Dirty = false;
                    var minute = StatsRecord.FormatMinute(start);
                    foreach (var (key, t) in m.Series)
                    {
                        if (!t.Dirty) continue;
                        t.Dirty = false;
                        var lines = new Dictionary<string, long>(StatsCategories.Count);
                        var bytes = new Dictionary<string, long>(StatsCategories.Count);
                        for (var k = 0; k < StatsCategories.Count; k++)
                        {
                            lines[StatsCategories.Names[k]] = t.Lines[k];
                            bytes[StatsCategories.Names[k]] = t.Bytes[k];
                        }
                        records.Add(new StatsRecord
                        {
                            Node = node, Point = StatsPoints.Ingress, Minute = minute, MinuteMs = start, Type = key.Type, Process = key.Process, Host = key.Host,
                            Lines = t.Lines.Sum(), Bytes = t.Bytes.Sum(), CategoryLines = lines, CategoryBytes = bytes, PublishedMs = now,
                        });
                    }
                    foreach (var (key, t) in m.Flows)
                    {
                        if (!t.Dirty) continue;
                        t.Dirty = false;
                        records.Add(new StatsRecord
                        {
                            Node = node, Point = key.Point, Sink = key.Sink, Minute = minute, MinuteMs = start, Type = key.Type,
                            Lines = t.Lines[0], Bytes = t.Bytes[0], PublishedMs = now,
                        });
                    }
                }
                if (start + MinuteMs < now - (long)_options.Retention.TotalMilliseconds && !m.Dirty) (expired ??= new()).Add(start);
            }
            if (expired is not null)
                foreach (var start in expired) _minutes.Remove(start);
        }
        return records;
    }

    /// <summary>
    /// The audit's counts (<c>accepted</c>, <c>bus</c>, <c>delivered</c>) that changed since they were last collected,
    /// of every minute, open or not: ingress publishes them before it answers and the pumps before they commit (see
    /// <see cref="DurableAsync"/>), so a SIGKILL takes none of them with it. The per-host series wait for <see cref="Collect"/>.
    /// </summary>
    /// <param name="positions">The counted positions told with those counts or before: to publish once the counts are acknowledged.</param>
    public IReadOnlyList<StatsRecord> CollectFlows(string node, out IReadOnlyList<StatsRecord> positions)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var records = new List<StatsRecord>();
        var counted = new List<StatsRecord>();
        positions = counted;
        lock (_gate)
        {
            foreach (var ((sink, topic, partition), next) in _counted)
                counted.Add(new StatsRecord
                {
                    Node = node, Point = StatsPoints.Counted, Sink = sink, Minute = StatsRecord.FormatMinute(Floor(now)), MinuteMs = Floor(now), Type = "",
                    Topic = topic, Partition = partition, Offset = next, PublishedMs = now,
                });
            _counted.Clear();
            foreach (var (start, m) in _minutes)
            {
                if (!m.Dirty) continue;
                foreach (var (key, t) in m.Flows)
                {
                    if (!t.Dirty) continue;
                    t.Dirty = false;
                    records.Add(new StatsRecord
                    {
                        Node = node, Point = key.Point, Sink = key.Sink, Minute = StatsRecord.FormatMinute(start), MinuteMs = start, Type = key.Type,
                        Lines = t.Lines[0], Bytes = t.Bytes[0], PublishedMs = now,
                    });
                }
            }
        }
        Interlocked.Increment(ref _flowCollects);
        Interlocked.Add(ref _flowRecords, records.Count);
        return records;
    }

    /// <summary>Counted positions that were not published (refused, or their counts were): published with the next counts.</summary>
    public void CountedAgain(IEnumerable<StatsRecord> positions)
    {
        lock (_gate)
            foreach (var p in positions)
                if (p is { Sink: { } sink, Topic: { } topic, Partition: { } partition, Offset: { } offset })
                    CountedPositions.Raise(_counted, (sink, topic, partition), offset);
    }

    /// <summary>A minute whose records did not reach the bus is published again at the next collect.</summary>
    public void MarkUnpublished(long minuteMs)
    {
        lock (_gate)
        {
            if (!_minutes.TryGetValue(minuteMs, out var m)) return;
            m.Dirty = true;
            foreach (var t in m.Series.Values.Concat(m.Flows.Values)) t.Dirty = true;
        }
    }

    /// <summary>Cumulative lines and bytes per series and category since start (the Prometheus counters).</summary>
    public IReadOnlyList<SeriesTotals> Totals()
    {
        lock (_gate) return _totals.Select(kv => new SeriesTotals(kv.Key, (long[])kv.Value.Lines.Clone(), (long[])kv.Value.Bytes.Clone())).ToList();
    }

    /// <summary>Minutes held now (for tests and health).</summary>
    public int MinutesHeld
    {
        get { lock (_gate) return _minutes.Count; }
    }

    private static long Floor(long ms) => ms - ((ms % MinuteMs) + MinuteMs) % MinuteMs;

    private readonly record struct FlowKey(string Point, string? Sink, string Type);

    private sealed class Tally
    {
        /// <summary>Changed since it was last collected.</summary>
        public bool Dirty;

        public readonly long[] Lines = new long[StatsCategories.Count];
        public readonly long[] Bytes = new long[StatsCategories.Count];
    }

    private const int RecentSlots = 32;

    /// <summary>A batch-local sum of one series; an alias shares the sums under other (equal) string instances.</summary>
    private sealed class Cell
    {
        public readonly long Minute;
        public readonly string Type;
        public readonly string Process;
        public readonly string Host;
        public readonly long[] Lines;
        public readonly long[] Bytes;

        public Cell(long minute, string type, string process, string host) : this(minute, type, process, host, new long[3], new long[3])
        {
        }

        private Cell(long minute, string type, string process, string host, long[] lines, long[] bytes)
        {
            Minute = minute;
            Type = type;
            Process = process;
            Host = host;
            Lines = lines;
            Bytes = bytes;
        }

        public Cell Alias(string type, string process, string host) => new(Minute, type, process, host, Lines, Bytes);
    }

    private sealed class Minute(long start)
    {
        public long Start { get; } = start;
        public bool Dirty { get; set; }
        public Dictionary<SeriesKey, Tally> Series { get; } = new();
        public Dictionary<FlowKey, Tally> Flows { get; } = new();
    }
}
