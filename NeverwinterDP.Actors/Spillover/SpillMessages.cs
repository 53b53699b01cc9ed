using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>One record as ingress would have produced it: key and (Confluent-framed Avro) value.</summary>
public sealed record SpilledRecord(byte[]? Key, byte[] Value);

/// <summary>Spill these records of one topic (one request's share); answered <see cref="SpillAccepted"/> once durable.</summary>
/// <param name="MaybeOnBusFrom">
/// Set when Kafka did not confirm a produce of these records that may have reached the bus all the same: per
/// partition, where they can have landed at the earliest (partitions absent: from their start). Their replay looks
/// for them on the bus first.
/// </param>
public sealed record SpillBatch(string Topic, IReadOnlyList<SpilledRecord> Records, IReadOnlyDictionary<int, long>? MaybeOnBusFrom = null) : IShardedMessage
{
    public string EntityId => Topic;

    public long Bytes => Records.Sum(r => (long)r.Value.Length + (r.Key?.Length ?? 0));
}

public sealed record SpillAccepted(string Topic, long SequenceNr);

public sealed record SpillRefused(string Topic, string Reason);

/// <summary>The spillover entity's journal event: one spilled batch (one row per batch, not per record).</summary>
/// <param name="MaybeOnBusFrom">As in <see cref="SpillBatch"/>: the records may be on the bus already, at or after these offsets.</param>
public sealed record SpilledBatch(string Topic, long SpilledAtMs, IReadOnlyList<SpilledRecord> Records, IReadOnlyDictionary<int, long>? MaybeOnBusFrom = null)
{
    public long Bytes => Records.Sum(r => (long)r.Value.Length + (r.Key?.Length ?? 0));
}

/// <summary>Journal event: the batch at <paramref name="SequenceNr"/> is in Kafka (it is deleted from the journal after).</summary>
public sealed record SpillReplayed(long SequenceNr);

/// <summary>
/// Journal event, written before the batch at <paramref name="SequenceNr"/> is first submitted to Kafka: the end
/// offset of each partition of the topic read just before. Its records can only land at or after these offsets,
/// so after a crash (a marker without <see cref="SpillReplayed"/>) the recovery agent scans from there for the
/// records already on the bus (their <see cref="SpillHeader"/>) and produces only the others.
/// </summary>
public sealed record SpillReplayStarting(long SequenceNr, IReadOnlyDictionary<int, long> EndOffsets);

/// <summary>The Kafka header on every replayed record: <c>nwdp-spill = "&lt;persistenceId&gt;/&lt;seq&gt;/&lt;index&gt;"</c>.</summary>
public static class SpillHeader
{
    public const string Name = "nwdp-spill";

    /// <summary>What every record of one batch's header starts with.</summary>
    public static string Prefix(string persistenceId, long sequenceNr) => $"{persistenceId}/{sequenceNr}/";

    public static byte[] Value(string persistenceId, long sequenceNr, int index) => System.Text.Encoding.UTF8.GetBytes(Prefix(persistenceId, sequenceNr) + index);
}

/// <summary>A journal row that did not read back as a batch (garbled): kept aside, not replayed.</summary>
public sealed record DamagedSpilledBatch(byte[] Raw, string Reason);

/// <summary>
/// A journal row sealed with a spill key that is not configured: not damaged, so never quarantined nor deleted; the
/// entity skips it (and keeps the journal from deleting past it) until the node starts with its key.
/// </summary>
public sealed record LockedSpilledBatch(string Reason);

/// <summary>Journal event: the row at <paramref name="SequenceNr"/> was damaged, written to the quarantine directory, and is skipped.</summary>
public sealed record SpillQuarantined(long SequenceNr, string Reason);

/// <summary>Asks a spillover entity for its backlog.</summary>
public sealed record GetSpillStatus(string Topic) : IShardedMessage, INodeMessage
{
    public static string Manifest => "O1";

    public string EntityId => Topic;
}

/// <summary>A topic's spill backlog: batches, events and bytes waiting for replay, the oldest's age, what was replayed.</summary>
public sealed record SpillStatus(string Topic, int Batches, long Events, long Bytes, long OldestSpilledAtMs, long ReplayedBatches, long ReplayedEvents,
    long QuarantinedBatches, string State) : INodeMessage
{
    public static string Manifest => "O2";
}
