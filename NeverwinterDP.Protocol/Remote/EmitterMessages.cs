namespace NeverwinterDP.Protocol.Remote;

/// <summary>
/// Marks the messages of the Akka-remote ingress protocol (EmitterClient ⇄ the node's ingress receptionist);
/// binds them to <see cref="EmitterSerializer"/>.
/// </summary>
public interface IEmitterMessage;

/// <summary>
/// A batch of events of one source (<c>host/process</c>) to make durable. Batches of a source carry
/// consecutive <see cref="BatchSeq"/> numbers (from 1 per client) and are sent in that order; a node makes
/// them durable in that order and answers each with <see cref="EmitAck"/> or <see cref="EmitRefused"/>.
/// </summary>
/// <param name="ClientId">Identifies one EmitterClient instance (random per start): batch numbers restart with it.</param>
/// <param name="SourceId"><c>host/process</c> of every event in the batch.</param>
/// <param name="BatchSeq">Number of this batch within (client, source), from 1.</param>
/// <param name="FirstUnacked">
/// The lowest batch number the client still waits for (≤ <see cref="BatchSeq"/>): every batch below it was
/// acknowledged. A node that has no memory of the source (new, restarted, or it failed over to) takes it as
/// the point to continue from; batches below it are acknowledged without being written again.
/// </param>
/// <param name="Events">The events; as they are to be stored, apart from what ingress stamps.</param>
/// <param name="Key">The Kafka partition key asked for (else each event's <c>key</c> attribute, else its host).</param>
public sealed record EmitBatch(string ClientId, string SourceId, long BatchSeq, long FirstUnacked, IReadOnlyList<LogEvent> Events, string? Key = null)
    : IEmitterMessage
{
    /// <summary>Size of the serialized message when it came over the wire; 0 when sent locally.</summary>
    public int WireBytes { get; init; }
}

/// <summary>Every event of batch <see cref="BatchSeq"/> of the source is durable (Kafka acks=all); the same promise as HTTP 2xx.</summary>
public sealed record EmitAck(string SourceId, long BatchSeq, int Count) : IEmitterMessage;

/// <summary>
/// Batch <see cref="BatchSeq"/> was not accepted and nothing of it is promised. Not <see cref="Permanent"/>:
/// the node is saturated, stopping, or the bus failed; send it again after <see cref="RetryAfter"/>
/// (possibly to another node). <see cref="Permanent"/>: the batch itself is invalid (empty, too many events,
/// too large); sending it again cannot help.
/// </summary>
public sealed record EmitRefused(string SourceId, long BatchSeq, string Reason, TimeSpan RetryAfter, bool Permanent) : IEmitterMessage;

/// <summary>A source process is alive (sent every <see cref="IntervalMs"/> by an EmitterClient for each source it has seen).</summary>
public sealed record Heartbeat(string Host, string Process, long TsMs, long IntervalMs) : IEmitterMessage;
