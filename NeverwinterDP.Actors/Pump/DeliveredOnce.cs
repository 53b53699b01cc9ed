using Confluent.Kafka;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// Tells the delivery observer (the loss audit's <c>delivered</c> counts) about each record of a pump once,
/// however often the pump writes it. The pump is at-least-once: what it delivered but has not committed yet is
/// read and written again after a stream restart or a rebalance (a broker outage does both), and an idempotent
/// sink stores it once; counting the second write would make the audit report duplicates that are not in the
/// store. Per partition it keeps the offsets delivered since the last commit, and the committed position
/// (below it everything was delivered or dead-lettered, and counted when delivered). Thread-safe: writes and
/// commits run in different stages.
/// </summary>
public sealed class DeliveredOnce(IDeliveryObserver inner) : IDeliveryObserver
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, int Partition), PartitionState> _partitions = new();

    /// <summary>Records told twice and kept from the observer (for tests and logs).</summary>
    public long Repeated { get; private set; }

    public void Delivered(string sink, IReadOnlyList<SinkRecord> records)
    {
        List<SinkRecord>? fresh = null; // stays null while every record so far is told the first time
        lock (_gate)
        {
            for (var i = 0; i < records.Count; i++)
            {
                var r = records[i];
                var key = (r.Topic, r.Partition);
                if (!_partitions.TryGetValue(key, out var p)) _partitions[key] = p = new PartitionState();
                if (r.Offset >= p.CommittedNext && p.Uncommitted.Add(r.Offset)) fresh?.Add(r);
                else
                {
                    Repeated++;
                    fresh ??= records.Take(i).ToList();
                }
            }
        }
        var told = fresh ?? records;
        if (told.Count > 0) inner.Delivered(sink, told);
    }

    /// <summary>The pump committed these positions (the highest record offset per partition): earlier offsets are never counted again.</summary>
    public void Committed(IReadOnlyDictionary<TopicPartition, long> highestOffsets)
    {
        lock (_gate)
        {
            foreach (var (tp, offset) in highestOffsets)
            {
                var key = (tp.Topic, tp.Partition.Value);
                if (!_partitions.TryGetValue(key, out var p)) _partitions[key] = p = new PartitionState();
                if (offset + 1 <= p.CommittedNext) continue;
                p.CommittedNext = offset + 1;
                p.Uncommitted.RemoveWhere(o => o < p.CommittedNext);
            }
        }
    }

    private sealed class PartitionState
    {
        public long CommittedNext = long.MinValue;
        public readonly HashSet<long> Uncommitted = new();
    }
}

/// <summary>
/// One <see cref="DeliveredOnce"/> per sink for the whole node, shared by that sink's pumps: a sink writer that is
/// restarted, or a partition that moves between two writers of the sink on this node, does not count again what
/// an earlier pump here delivered but did not commit. Given to the pumps as their observer.
/// </summary>
public sealed class DeliveredOnceBySink(IDeliveryObserver inner) : IDeliveryObserver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DeliveredOnce> _sinks = new();

    public DeliveredOnce For(string sink) => _sinks.GetOrAdd(sink, _ => new DeliveredOnce(inner));

    public void Delivered(string sink, IReadOnlyList<SinkRecord> records) => For(sink).Delivered(sink, records);
}
