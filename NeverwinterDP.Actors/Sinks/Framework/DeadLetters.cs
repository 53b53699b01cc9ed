namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>A record a sink refused for good, and why; <paramref name="Attempts"/> counts the times it was dead-lettered
/// (1 from the pump, one more each time a dead-letter replay is refused again).</summary>
public sealed record DeadLetterRecord(SinkRecord Record, string Reason, int Attempts = 1);

/// <summary>
/// Where rejected records go (<c>nwdp.dlq.&lt;sink&gt;</c> on the bus). <see cref="SendAsync"/> returns once the
/// letters are durable: the pump commits the records' offsets only after that.
/// </summary>
public interface IDeadLetterQueue
{
    Task SendAsync(string sink, IReadOnlyList<DeadLetterRecord> letters, CancellationToken cancellation);
}

/// <summary>Told which records a sink delivered (per-sink counts for metrics and the loss audit); must not block.</summary>
public interface IDeliveryObserver
{
    void Delivered(string sink, IReadOnlyList<SinkRecord> records);
}

/// <summary>What the loss audit needs of one delivered record: its ingress time, type and message size (UTF-8 bytes).</summary>
public readonly record struct DeliveryCount(long SystemTs, string Type, int MessageBytes)
{
    public static DeliveryCount Of(SinkRecord record) => new(record.SystemTs, record.Type, record.MessageBytes);
}

/// <summary>
/// The delivered counts the pump makes durable together with its offsets: it tells <see cref="Committing"/> the
/// records a commit covers, waits for <see cref="DurableAsync"/> (the counts are where the audit reads them), and
/// only then commits. A node killed at any moment has therefore published the count of every record it
/// committed, and the records it had not committed are delivered again by the next owner, which counts only those
/// past the positions the node published (<see cref="IDeliveredPositions"/>): its counts of them were durable.
/// </summary>
public interface IDurableDeliveryObserver
{
    /// <summary>
    /// These records' offsets are about to be committed: count them, and publish the <paramref name="positions"/>
    /// below which the sink's records are now counted, once their counts are durable (must not block). The caller
    /// reuses <paramref name="records"/> once this returns: read it here, do not keep it.
    /// </summary>
    void Committing(string sink, IReadOnlyList<DeliveryCount> records, IReadOnlyList<CountedPosition> positions);

    /// <summary>Completes once every count told so far is durable; fails when it could not be made so (the pump then does not commit).</summary>
    Task DurableAsync(CancellationToken cancellation);
}

/// <summary>A sink's records of <paramref name="Topic"/>/<paramref name="Partition"/> below <paramref name="Next"/> are counted as delivered.</summary>
public readonly record struct CountedPosition(string Topic, int Partition, long Next);

/// <summary>
/// The positions every node published with its delivered counts (<see cref="IDurableDeliveryObserver.Committing"/>):
/// a node killed after its counts were durable and before its commit leaves records the next owner delivers again
/// but must not count again.
/// </summary>
public interface IDeliveredPositions
{
    /// <summary>Below this offset <paramref name="sink"/>'s records of the partition were counted (by any node); <see cref="long.MinValue"/> when unknown.</summary>
    long CountedNext(string sink, string topic, int partition);

    /// <summary>Completes once the positions published before this node started are read (or after a bounded wait).</summary>
    Task ReadyAsync(CancellationToken cancellation);
}
