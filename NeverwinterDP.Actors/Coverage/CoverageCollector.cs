using System.Threading.Channels;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// Sketches what this node's ingress accepts, per log type and UTC hour (<see cref="CoverageSketch"/>), for the
/// coverage and summary reports. Off the hot path: <see cref="Accepted"/> only hands the batch to a bounded queue
/// (<see cref="CoverageOptions.QueueBatches"/> batches, <see cref="CoverageOptions.QueueBytes"/> of events) that one
/// background task drains; when the queue is full the batch is counted (events, bytes, errors) but not sketched, and
/// reports show how many events that was. The byte bound matters because a queued batch keeps its events alive after
/// their request was answered, outside the ingress budget (<c>nwdp.ingress.max-bytes-in-flight</c>). Bounded: at most
/// <see cref="CoverageOptions.MaxTypes"/> types per hour (more count under <c>_other</c>), hours dropped
/// <see cref="CoverageOptions.Retention"/> after they ended.
/// </summary>
public sealed class CoverageCollector : IIngressObserver, IAsyncDisposable, IDisposable
{
    public const string OtherType = "_other";

    private readonly object _gate = new();
    private readonly CoverageOptions _options;
    private readonly TimeProvider _clock;
    private readonly Channel<(IReadOnlyList<LogEvent> Events, long Bytes)> _queue;
    private readonly Dictionary<(string Type, long Hour), CoverageSketch> _hours = new();
    private readonly Dictionary<long, int> _typesPerHour = new();
    private readonly Task _worker;
    private long _received;
    private long _processed;
    private long _late;
    private long _queuedBytes;

    public CoverageCollector(CoverageOptions options, TimeProvider clock) : this(options, clock, drain: true)
    {
    }

    /// <param name="drain">False: nothing drains the queue (tests of its bounds).</param>
    internal CoverageCollector(CoverageOptions options, TimeProvider clock, bool drain)
    {
        _options = options;
        _clock = clock;
        _queue = Channel.CreateBounded<(IReadOnlyList<LogEvent>, long)>(new BoundedChannelOptions(options.QueueBatches)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite answers false when full: that batch is counted, not sketched
        });
        _worker = options.Enabled && drain ? Task.Run(DrainAsync) : Task.CompletedTask;
    }

    public CoverageOptions Options => _options;

    /// <summary>Events handed over since start (for tests and health).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Events counted (sketched or not) since start; equals <see cref="Received"/> once the queue is drained.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Events of an hour already dropped (older than the retention) when they arrived.</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>Estimated memory of the events waiting to be sketched (at most <see cref="CoverageOptions.QueueBytes"/>).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    public void Accepted(IReadOnlyList<LogEvent> events)
    {
        if (!_options.Enabled || events.Count == 0) return;
        Interlocked.Add(ref _received, events.Count);
        var bytes = EstimatedBytes(events);
        if (Interlocked.Add(ref _queuedBytes, bytes) > _options.QueueBytes || !_queue.Writer.TryWrite((events, bytes)))
        {
            Interlocked.Add(ref _queuedBytes, -bytes);
            Count(events, sketch: false);
        }
    }

    /// <summary>
    /// What a batch keeps alive while it waits, estimated from its strings (2 bytes a character) and a fixed cost per
    /// event and attribute for the objects around them. Walks the attributes: cheap next to parsing them.
    /// </summary>
    internal static long EstimatedBytes(IReadOnlyList<LogEvent> events)
    {
        const int PerEvent = 200, PerAttribute = 64;
        long chars = 0, fixedCost = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            chars += e.Message.Length + e.Host.Length + e.Process.Length + e.Type.Length + e.Level.Length + e.Ip.Length + e.Version.Length;
            fixedCost += PerEvent;
            if (e.Attributes.Count == 0) continue;
            // The parsers' Dictionary: its struct enumerator, not the interface's boxed one (5x slower here).
            if (e.Attributes is Dictionary<string, string> attributes)
                foreach (var (key, value) in attributes) chars += key.Length + value.Length;
            else
                foreach (var (key, value) in e.Attributes) chars += key.Length + value.Length;
            fixedCost += (long)PerAttribute * e.Attributes.Count;
        }
        return 2 * chars + fixedCost;
    }

    private async Task DrainAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
            while (reader.TryRead(out var batch))
            {
                Count(batch.Events, sketch: true);
                Interlocked.Add(ref _queuedBytes, -batch.Bytes);
            }
    }

    /// <summary>Adds a batch to the sketches now (the queue's reader; tests call it directly).</summary>
    public void Count(IReadOnlyList<LogEvent> events, bool sketch = true)
    {
        var horizon = _clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.Retention.TotalMilliseconds - UtcHours.Ms;
        lock (_gate)
        {
            CoverageSketch? last = null;
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                var hour = UtcHours.Of(e.SystemTs);
                if (last is null || last.HourStartMs != hour || !string.Equals(last.Type, e.Type, StringComparison.Ordinal))
                {
                    if (hour < horizon)
                    {
                        Interlocked.Increment(ref _late);
                        continue;
                    }
                    last = SketchOf(e.Type, hour);
                }
                var error = StatsCategories.IsErrorLevel(e.Level);
                last.Add(e, error, sketch && last.Type != OtherType);
            }
        }
        Interlocked.Add(ref _processed, events.Count);
    }

    private CoverageSketch SketchOf(string type, long hour)
    {
        if (_hours.TryGetValue((type, hour), out var sketch)) return sketch;
        var types = _typesPerHour.GetValueOrDefault(hour);
        if (types >= _options.MaxTypes)
        {
            type = OtherType;
            if (_hours.TryGetValue((type, hour), out sketch)) return sketch;
        }
        _typesPerHour[hour] = types + 1;
        return _hours[(type, hour)] = new CoverageSketch(type, hour, _options);
    }

    /// <summary>
    /// The records due on <c>nwdp.coverage</c>: every sketch that changed since it was last collected, as
    /// (type, hour, record). Drops hours past the retention (after their last change was collected).
    /// </summary>
    public IReadOnlyList<(string Type, long HourMs, byte[] Record)> Collect(string node)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var horizon = now - (long)_options.Retention.TotalMilliseconds - UtcHours.Ms;
        var due = new List<(string, long, byte[])>();
        lock (_gate)
        {
            List<(string, long)>? expired = null;
            foreach (var (key, sketch) in _hours)
            {
                if (sketch.Dirty)
                {
                    sketch.Dirty = false;
                    due.Add((key.Type, key.Hour, sketch.ToRecord(node, now)));
                }
                else if (key.Hour < horizon) (expired ??= new()).Add(key);
            }
            foreach (var key in expired ?? [])
            {
                _hours.Remove(key);
                if (_typesPerHour.TryGetValue(key.Item2, out var n) && n <= 1) _typesPerHour.Remove(key.Item2);
                else if (n > 1) _typesPerHour[key.Item2] = n - 1;
            }
        }
        return due;
    }

    /// <summary>A record Kafka did not take is published again at the next collect.</summary>
    public void MarkUnpublished(string type, long hourMs)
    {
        lock (_gate)
            if (_hours.TryGetValue((type, hourMs), out var sketch)) sketch.Dirty = true;
    }

    /// <summary>Adds this node's sketches of <paramref name="type"/> for hours that end after <paramref name="sinceMs"/> into <paramref name="into"/>.</summary>
    public int MergeInto(CoverageSketch into, string type, long sinceMs)
    {
        var merged = 0;
        lock (_gate)
        {
            foreach (var (key, sketch) in _hours)
            {
                if (key.Type != type || key.Hour + UtcHours.Ms <= sinceMs) continue;
                into.Merge(sketch);
                merged++;
            }
        }
        return merged;
    }

    /// <summary>The types this node sketched in hours that end after <paramref name="sinceMs"/>.</summary>
    public IReadOnlyCollection<string> Types(long sinceMs)
    {
        lock (_gate) return _hours.Keys.Where(k => k.Hour + UtcHours.Ms > sinceMs).Select(k => k.Type).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Sketches what is queued, then stops the background task.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _worker.GetAwaiter().GetResult();
    }
}
