using Confluent.Kafka;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// Counts each record of a sink's pumps on this node once, when its offset is committed (the loss audit's
/// <c>delivered</c> counts), and makes the counts durable before the commit.
/// <para>
/// The pump is at-least-once: what it delivered but has not committed is read and written again after a stream
/// restart, a rebalance or a crash, and an idempotent sink stores it once. Counting at the write would count such
/// a record twice when another node writes it again after a crash, and counts published after the commit die
/// with a node killed in between (a committed record is never written again, so its count is then lost for good:
/// a false LOST). So the pump tells this class each record it wrote (<see cref="Delivered"/>: kept, compact, per
/// partition and offset; written again, it replaces itself), and before it commits, the positions it commits
/// (<see cref="Committing"/>): the records up to them are counted then, and <see cref="DurableAsync"/> waits for
/// those counts to be published. Below the counted position of a partition nothing is counted again here (a
/// commit that failed after its counts were published is followed by the same records once more).
/// </para>
/// <para>
/// The counted positions are published too, after their counts (<see cref="IDurableDeliveryObserver.Committing"/>),
/// and read back from every node (<paramref name="published"/>): a node killed after its counts were durable and
/// before its commit leaves records that the next owner reads and writes again, but counts only past the position
/// the dead node published. (A kill between the counts' and the position's acknowledgement still counts them twice.)
/// </para>
/// Thread-safe: writes and commits run in different stages.
/// </summary>
public sealed class DeliveredOnce(IDurableDeliveryObserver inner, string sink, IDeliveredPositions? published = null) : IDeliveryObserver
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, int Partition), PartitionState> _partitions = new();

    /// <summary>Records written again before they were counted, or after (for tests and logs).</summary>
    public long Repeated { get; private set; }

    /// <summary>Records written and not counted yet (waiting for their commit).</summary>
    public int Held
    {
        get { lock (_gate) return _partitions.Values.Sum(p => p.Held.Count); }
    }

    public void Delivered(string sink, IReadOnlyList<SinkRecord> records)
    {
        lock (_gate)
        {
            for (var i = 0; i < records.Count; i++)
            {
                var r = records[i];
                var key = (r.Topic, r.Partition);
                if (!_partitions.TryGetValue(key, out var p)) _partitions[key] = p = new PartitionState();
                if (r.Offset < p.CountedNext)
                {
                    Repeated++;
                    continue;
                }
                if (!p.Held.Hold(r.Offset, DeliveryCount.Of(r))) Repeated++;
            }
        }
    }

    /// <summary>
    /// A consumer of the pump starts reading <paramref name="partition"/> at <paramref name="offset"/> (its committed
    /// position, after an assignment or a restart): what is held below it was committed, and counted, by whoever
    /// committed it (here or on another node while the partition was away), so it is dropped, not counted.
    /// </summary>
    public void ReadFrom(TopicPartition partition, long offset)
    {
        lock (_gate)
        {
            if (_partitions.TryGetValue((partition.Topic, partition.Partition.Value), out var p)) p.Held.RemoveBelow(offset, into: null);
        }
    }

    /// <summary>
    /// The pump is about to commit these positions (the highest record offset per partition): the records written
    /// up to them and not counted yet are counted now. Call <see cref="DurableAsync"/> before the commit.
    /// </summary>
    public void Committing(IReadOnlyDictionary<TopicPartition, long> highestOffsets)
    {
        List<DeliveryCount>? counted = null;
        List<CountedPosition>? positions = null;
        lock (_gate)
        {
            // One list for the counts of every commit (a flush's can be ~500,000 records): taken here, given back below.
            var taken = _countedSpare ?? new List<DeliveryCount>();
            _countedSpare = null;
            foreach (var (tp, offset) in highestOffsets)
            {
                var key = (tp.Topic, tp.Partition.Value);
                if (!_partitions.TryGetValue(key, out var p)) _partitions[key] = p = new PartitionState();
                if (offset + 1 <= p.CountedNext) continue;
                // Counted by another node that published its counts and died before its commit: held, not counted.
                var elsewhere = Math.Min(published?.CountedNext(sink, tp.Topic, tp.Partition.Value) ?? long.MinValue, offset + 1);
                if (elsewhere > p.CountedNext)
                {
                    CountedElsewhere += p.Held.RemoveBelow(elsewhere, into: null);
                    p.CountedNext = elsewhere;
                }
                var from = p.CountedNext;
                p.CountedNext = offset + 1;
                p.Held.RemoveBelow(offset + 1, taken);
                if (p.CountedNext > from) (positions ??= new List<CountedPosition>()).Add(new CountedPosition(tp.Topic, tp.Partition.Value, p.CountedNext));
            }
            if (taken.Count > 0) counted = taken;
            else _countedSpare = taken;
        }
        if (counted is null && positions is null) return;
        inner.Committing(sink, counted ?? [], positions ?? []);
        if (counted is null) return;
        counted.Clear();
        lock (_gate) _countedSpare = counted;
    }

    private List<DeliveryCount>? _countedSpare;

    /// <summary>Records held that another node had counted (it published them and died before its commit).</summary>
    public long CountedElsewhere { get; private set; }

    /// <summary>Completes once the positions other nodes published before this one started are known (before the first count).</summary>
    public Task ReadyAsync(CancellationToken cancellation) => published?.ReadyAsync(cancellation) ?? Task.CompletedTask;

    /// <summary>Completes once the counts told so far are durable (published); the pump commits only then.</summary>
    public Task DurableAsync(CancellationToken cancellation) => inner.DurableAsync(cancellation);

    private sealed class PartitionState
    {
        /// <summary>Below this offset every record was counted (or dead-lettered, or never written here).</summary>
        public long CountedNext = long.MinValue;

        /// <summary>Written and not counted yet, in offset order.</summary>
        public readonly HeldRecords Held = new();
    }
}

/// <summary>
/// One <see cref="DeliveredOnce"/> per sink for the whole node, shared by that sink's pumps: a sink writer that is
/// restarted, or a partition that moves between two writers of the sink on this node, does not count again what
/// an earlier pump here counted. Given to the pumps as their observer.
/// </summary>
public sealed class DeliveredOnceBySink(IDurableDeliveryObserver inner, IDeliveredPositions? published = null) : IDeliveryObserver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DeliveredOnce> _sinks = new();

    public DeliveredOnce For(string sink) => _sinks.GetOrAdd(sink, s => new DeliveredOnce(inner, s, published));

    public void Delivered(string sink, IReadOnlyList<SinkRecord> records) => For(sink).Delivered(sink, records);
}
