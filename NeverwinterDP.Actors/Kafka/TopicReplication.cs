namespace NeverwinterDP.Actors.Kafka;

/// <summary>
/// How many copies of each topic the node creates (<c>nwdp.kafka.topic-replication-factor</c>) and how many must have a
/// record before the broker acknowledges it to a producer with <c>acks=all</c> (<c>nwdp.kafka.topic-min-insync-replicas</c>,
/// the topic config <c>min.insync.replicas</c>). Null = auto, decided at topic creation from the brokers the cluster's
/// metadata lists: 3 and 2 with three brokers or more (every acknowledged record is on two brokers, and one broker may
/// be down without stopping producers), 1 and 1 otherwise.
/// </summary>
public sealed record TopicReplication(short? ReplicationFactor, int? MinInsyncReplicas)
{
    public static readonly TopicReplication Auto = new(null, null);

    /// <summary>Both fixed: no need to ask the cluster.</summary>
    public bool IsFixed => ReplicationFactor is not null && MinInsyncReplicas is not null;

    /// <summary>The replication factor and min.insync.replicas of a topic created on a cluster of <paramref name="brokers"/> brokers.</summary>
    public (short ReplicationFactor, int MinInsyncReplicas) For(int brokers)
    {
        var factor = ReplicationFactor ?? (short)(brokers >= 3 ? 3 : 1);
        var minInsync = MinInsyncReplicas ?? (factor >= 3 ? 2 : 1);
        return (factor, Math.Min(minInsync, factor));
    }

    /// <summary>Reads the two keys: <c>auto</c> or a positive number each; min.insync.replicas above the factor is refused.</summary>
    public static TopicReplication Parse(string replicationFactor, string minInsyncReplicas)
    {
        var factor = Number(replicationFactor, "nwdp.kafka.topic-replication-factor", short.MaxValue);
        var minInsync = Number(minInsyncReplicas, "nwdp.kafka.topic-min-insync-replicas", short.MaxValue);
        if (factor is not null && minInsync is not null && minInsync > factor)
            throw new ArgumentException($"nwdp.kafka.topic-min-insync-replicas ({minInsync}) must not exceed nwdp.kafka.topic-replication-factor ({factor}): producers with acks=all could never be acknowledged");
        return new TopicReplication((short?)factor, minInsync);
    }

    private static int? Number(string text, string key, int max)
    {
        var value = text.Trim();
        if (value.Equals("auto", StringComparison.OrdinalIgnoreCase)) return null;
        return int.TryParse(value, out var n) && n >= 1 && n <= max ? n : throw new ArgumentException($"{key} must be auto or a number from 1, got '{text}'");
    }
}
