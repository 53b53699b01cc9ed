using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Bus;

/// <summary>
/// Events Kafka acknowledged through the bus writer, per topic, partition and UTC hour of their <c>system_ts</c>: what
/// the hour markers carry. Counted where the partition of each record becomes known (its delivery report), so a count is
/// exactly what the partition holds from this node. Records that are not LogEvents (markers) are not counted.
/// </summary>
public sealed class HourCounts
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, long Hour), Dictionary<int, long>> _counts = new();
    private long _newestHour = long.MinValue;

    /// <summary>The newest hour of any acknowledged event (long.MinValue: none yet): the hour turned on the bus once it passed an hour.</summary>
    public long NewestHour
    {
        get { lock (_gate) return _newestHour; }
    }

    /// <summary>Counts the acknowledged <paramref name="parts"/> of <paramref name="records"/> (same order, as the producer stage reports them).</summary>
    internal void Acknowledged(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records, IReadOnlyList<Confluent.Kafka.DeliveryResult<byte[]?, byte[]>> parts)
    {
        lock (_gate)
        {
            // A request's records mostly share topic, partition and hour: one dictionary update per run.
            Dictionary<int, long>? partitions = null;
            string? topic = null;
            long hour = long.MinValue, run = 0;
            var partition = -1;
            for (var i = 0; i < parts.Count && i < records.Count; i++)
            {
                if (!LogEventAvro.TryReadSystemTs(records[i].Message.Value, out var systemTs)) continue;
                var h = UtcHours.Of(systemTs);
                var p = parts[i].Partition.Value;
                if (partitions is not null && h == hour && p == partition && parts[i].Topic == topic)
                {
                    run++;
                    continue;
                }
                if (partitions is not null) Add(partitions, partition, run);
                topic = parts[i].Topic;
                hour = h;
                partition = p;
                run = 1;
                partitions = PartitionsOf(topic, hour);
            }
            if (partitions is not null) Add(partitions, partition, run);
        }
    }

    /// <summary>Counts <paramref name="n"/> events of the hour holding <paramref name="systemTs"/> acknowledged in one partition.</summary>
    public void Add(string topic, int partition, long systemTs, long n = 1)
    {
        lock (_gate) Add(PartitionsOf(topic, UtcHours.Of(systemTs)), partition, n);
    }

    private Dictionary<int, long> PartitionsOf(string topic, long hour)
    {
        if (hour > _newestHour) _newestHour = hour;
        if (!_counts.TryGetValue((topic, hour), out var partitions)) _counts[(topic, hour)] = partitions = new Dictionary<int, long>();
        return partitions;
    }

    private static void Add(Dictionary<int, long> partitions, int partition, long n) =>
        partitions[partition] = partitions.GetValueOrDefault(partition) + n;

    /// <summary>The hours that have counts, oldest first.</summary>
    public IReadOnlyList<long> Hours()
    {
        lock (_gate) return _counts.Keys.Select(k => k.Hour).Distinct().Order().ToList();
    }

    /// <summary>The topics with events of <paramref name="hour"/>.</summary>
    public IReadOnlyList<string> TopicsOf(long hour)
    {
        lock (_gate) return _counts.Keys.Where(k => k.Hour == hour).Select(k => k.Topic).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Per partition, the events of <paramref name="topic"/> in <paramref name="hour"/> (partitions without any: absent).</summary>
    public IReadOnlyDictionary<int, long> Of(string topic, long hour)
    {
        lock (_gate) return _counts.TryGetValue((topic, hour), out var p) ? new Dictionary<int, long>(p) : new Dictionary<int, long>();
    }

    /// <summary>Drops the counts of hours before <paramref name="hour"/> (their late events are then not announced any more).</summary>
    public void ForgetBefore(long hour)
    {
        lock (_gate)
            foreach (var key in _counts.Keys.Where(k => k.Hour < hour).ToList()) _counts.Remove(key);
    }
}
