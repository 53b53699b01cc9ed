using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// Writes this ingress node's hour markers. Once an hour H is over (an event of a later hour was acknowledged and
/// <see cref="WatermarkOptions.MarkerDelay"/> passed since H ended, or <see cref="WatermarkOptions.IdleAfter"/> passed
/// without one), it writes an <see cref="HourMarker"/> into every partition of every log topic it wrote to in H or in the
/// hour before (a node that went quiet says "none from me" for one more hour, so the pump does not wait for it), each
/// with the count of H's events Kafka acknowledged in that partition (<see cref="HourCounts"/>). Events of H acknowledged
/// after its markers (late) are announced by a new marker of that partition with the larger count.
/// </summary>
/// <remarks>Markers go through the bus writer like events (acks=all); markers that did not get through are written again at the next check.</remarks>
public sealed class HourMarkerWriter : IAsyncDisposable
{
    private readonly BusWriter _bus;
    private readonly HourCounts _counts;
    private readonly Func<string> _nodeId;
    private readonly IPartitionCounts _partitions;
    private readonly WatermarkOptions _options;
    private readonly TimeProvider _clock;
    private readonly Action<string>? _warn;
    private readonly SemaphoreSlim _checking = new(1, 1);
    // What was marked, per topic and hour: the count written into each partition.
    private readonly Dictionary<(string Topic, long Hour), Dictionary<int, long>> _marked = new();
    private ITimer? _timer;
    private long _written;

    /// <param name="nodeId">This node's id, as its events' lineage carries it (read when a marker is written).</param>
    public HourMarkerWriter(BusWriter bus, HourCounts counts, Func<string> nodeId, IPartitionCounts partitions, WatermarkOptions options, TimeProvider clock,
        Action<string>? warn = null)
    {
        _bus = bus;
        _counts = counts;
        _nodeId = nodeId;
        _partitions = partitions;
        _options = options;
        _clock = clock;
        _warn = warn;
    }

    /// <summary>Markers this node wrote (each partition of each topic and hour counts once per marker).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Checks every <see cref="WatermarkOptions.CheckInterval"/> (by the node's clock).</summary>
    public void Start() =>
        _timer ??= _clock.CreateTimer(_ => _ = CheckSafelyAsync(), null, _options.CheckInterval, _options.CheckInterval);

    private async Task CheckSafelyAsync()
    {
        try
        {
            await CheckAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _warn?.Invoke($"hour markers: {e.GetBaseException().Message}; trying again in {_options.CheckInterval.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Writes the markers that are due now; answers how many were written. One check at a time (a timer tick during one is skipped).</summary>
    public async Task<int> CheckAsync(CancellationToken cancellation)
    {
        if (!await _checking.WaitAsync(0, cancellation).ConfigureAwait(false)) return 0;
        try
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var newest = _counts.NewestHour;
            var records = new List<ProducerRecord<byte[]?, byte[]>>();
            var pending = new List<(string Topic, long Hour, int Partition, long Count)>();
            var node = _nodeId();
            foreach (var hour in DueHours(now, newest))
            {
                foreach (var topic in _counts.TopicsOf(hour).Union(_counts.TopicsOf(hour - UtcHours.Ms)).Distinct(StringComparer.Ordinal))
                {
                    var partitions = _partitions.Of(topic);
                    var counts = _counts.Of(topic, hour);
                    _marked.TryGetValue((topic, hour), out var marked);
                    for (var p = 0; p < partitions; p++)
                    {
                        var count = counts.GetValueOrDefault(p);
                        if (marked is not null && marked.TryGetValue(p, out var was) && was == count) continue; // written, nothing late since
                        records.Add(new ProducerRecord<byte[]?, byte[]>(topic, new Confluent.Kafka.Message<byte[]?, byte[]>
                        {
                            Value = HourMarkerAvro.EncodeFramed(new HourMarker(topic, hour, node, p, count)),
                        }, p));
                        pending.Add((topic, hour, p, count));
                    }
                }
            }
            if (records.Count > 0)
            {
                var (outcome, error) = await _bus.SubmitAsync(records, cancellation).ConfigureAwait(false);
                if (outcome != IngressOutcome.Durable)
                {
                    _warn?.Invoke($"hour markers: {records.Count} not written ({outcome}{(error is null ? "" : ": " + error.Message)}); trying again at the next check");
                    return 0;
                }
                foreach (var (topic, hour, p, count) in pending)
                {
                    if (!_marked.TryGetValue((topic, hour), out var marked)) _marked[(topic, hour)] = marked = new Dictionary<int, long>();
                    marked[p] = count;
                }
                Interlocked.Add(ref _written, records.Count);
            }
            Forget(now);
            return records.Count;
        }
        finally
        {
            _checking.Release();
        }
    }

    /// <summary>The hours with counts (or whose hour before has counts) that are over and whose markers are due.</summary>
    private IEnumerable<long> DueHours(long now, long newest)
    {
        var hours = _counts.Hours();
        foreach (var hour in hours.Concat(hours.Select(h => h + UtcHours.Ms)).Distinct().Order())
        {
            var end = hour + UtcHours.Ms;
            var due = newest > hour ? end + (long)_options.MarkerDelay.TotalMilliseconds : end + (long)_options.IdleAfter.TotalMilliseconds;
            if (now >= due) yield return hour;
        }
    }

    private void Forget(long now)
    {
        var before = UtcHours.Of(now - (long)_options.Keep.TotalMilliseconds);
        _counts.ForgetBefore(before);
        foreach (var key in _marked.Keys.Where(k => k.Hour < before).ToList()) _marked.Remove(key);
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is { } timer) await timer.DisposeAsync().ConfigureAwait(false);
        await _checking.WaitAsync().ConfigureAwait(false); // a check in progress ends first
        _checking.Release();
    }
}
