using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks;

/// <summary>
/// One record handed to a sink: the event and where it came from on the bus (for idempotent ids and file names). The
/// pump makes records for a sink that <see cref="IEncodedRecordSink.ReadsEncoded">reads encoded records</see> from the
/// bus bytes (<see cref="FromBus"/>): <see cref="Event"/> is then decoded on first use, and the sink may write
/// <see cref="Framed"/> as it is. Equal when topic, partition, offset and event are.
/// </summary>
public sealed record SinkRecord
{
    private LogEvent? _event;
    private readonly LogEventHeader _header;
    private readonly byte[]? _framed;

    public SinkRecord(string topic, int partition, long offset, LogEvent @event)
    {
        Topic = topic;
        Partition = partition;
        Offset = offset;
        _event = @event;
    }

    private SinkRecord(string topic, int partition, long offset, byte[] framed, LogEventHeader header)
    {
        Topic = topic;
        Partition = partition;
        Offset = offset;
        _framed = framed;
        _header = header;
    }

    /// <summary>
    /// The record of a bus value (a Confluent-framed LogEvent or typed record): encoded when <paramref name="strings"/> is
    /// given (the sink <see cref="IEncodedRecordSink.ReadsEncoded">reads encoded records</see>) and
    /// <see cref="LogEventAvro.TryScanFramed"/> takes it, else decoded.
    /// </summary>
    /// <exception cref="MalformedRecordException">The value is not a record of ours (an empty or null one neither).</exception>
    public static SinkRecord FromBus(string topic, int partition, long offset, byte[] framed, RecentStrings? strings) =>
        strings is not null && LogEventAvro.TryScanFramed(framed, strings, out var header)
            ? new SinkRecord(topic, partition, offset, framed, header)
            : new SinkRecord(topic, partition, offset, LogEventAvro.DecodeFramed(framed));

    public string Topic { get; init; }

    public int Partition { get; init; }

    public long Offset { get; init; }

    /// <summary>The bus record's value (a Confluent-framed LogEvent) when this record was made from it; else null.</summary>
    public byte[]? Framed => _framed;

    /// <summary>
    /// The event; for an encoded record, decoded at the first call (the scan checked it decodes). Setting it (a copy
    /// made with <c>with</c>) makes the record a decoded one.
    /// </summary>
    public LogEvent Event
    {
        get => _event ??= LogEventAvro.DecodeFramed(_framed!);
        init
        {
            _event = value;
            _framed = null;
        }
    }

    /// <summary>The event's <c>system_ts</c>, without decoding an encoded record.</summary>
    public long SystemTs => _framed is null ? _event!.SystemTs : _header.SystemTs;

    /// <summary>The event's type, without decoding an encoded record.</summary>
    public string Type => _framed is null ? _event!.Type : _header.Type;

    /// <summary>The node that took the event in ("" when none), without decoding an encoded record.</summary>
    public string IngressNode => _framed is null ? _event!.Lineage.IngressNode ?? "" : _header.IngressNode;

    /// <summary>The event's message in UTF-8 bytes, without decoding an encoded record.</summary>
    public int MessageBytes => _framed is null ? _event!.MessageByteCount() : _header.MessageBytes;

    /// <summary>True when there is no event (a record made with a null one: refused by the sinks).</summary>
    public bool HasNoEvent => _framed is null && _event is null;

    public bool Equals(SinkRecord? other) =>
        other is not null && Topic == other.Topic && Partition == other.Partition && Offset == other.Offset && Equals(Event, other.Event);

    public override int GetHashCode() => HashCode.Combine(Topic, Partition, Offset);

    public override string ToString() => $"SinkRecord {{ Topic = {Topic}, Partition = {Partition}, Offset = {Offset}, Event = {Event} }}";
}

/// <summary>
/// A sink that can write records as the bus carries them (<see cref="SinkRecord.Framed"/>) rather than decoded: the
/// pump then skips the decode of plain LogEvents and hands it encoded records (the files sink's NDJSON lines are written
/// straight from the Avro bytes).
/// </summary>
public interface IEncodedRecordSink
{
    bool ReadsEncoded { get; }
}

/// <summary>The outcome of one record in a written batch (the vocabulary of Vector's acknowledgements).</summary>
public enum SinkOutcome
{
    /// <summary>Accepted by the store (durable once <see cref="ISink.FlushAsync"/> returns).</summary>
    Delivered,

    /// <summary>A transient failure: the framework retries the record with backoff.</summary>
    Errored,

    /// <summary>The store refuses the record for good: the framework dead-letters it and goes on.</summary>
    Rejected,
}

/// <summary>Per-record outcomes of a batch, in batch order; <see cref="AllDelivered"/> for the common case.</summary>
public sealed record SinkWriteResult(IReadOnlyList<SinkOutcome> Outcomes, IReadOnlyList<string?>? Reasons = null)
{
    public static SinkWriteResult AllDelivered(int count) => new(Enumerable.Repeat(SinkOutcome.Delivered, count).ToArray());

    public bool IsAllDelivered => Outcomes.All(o => o == SinkOutcome.Delivered);
}

/// <summary>Whether the sink can reach its store.</summary>
public sealed record SinkHealth(bool Healthy, string Detail);

/// <summary>
/// A sink: where the data pump delivers records. One class implements this and is registered with one line;
/// the pump around it batches, retries, dead-letters, and commits offsets only after <see cref="FlushAsync"/>
/// returned, so a sink must make everything delivered so far durable and visible by then. Records may be
/// handed over again after a crash (at-least-once): a sink writes idempotently, keyed on topic-partition-offset.
/// Calls are never concurrent for one instance.
/// </summary>
public interface ISink : IAsyncDisposable
{
    /// <summary>The sink instance's name (<c>files</c>, <c>es-main</c>, ...), used in metrics and the dead-letter topic.</summary>
    string Name { get; }

    Task OpenAsync(CancellationToken cancellation);

    Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation);

    /// <summary>Makes every delivered record durable and published; after it returns, their offsets are committed.</summary>
    Task FlushAsync(CancellationToken cancellation);

    Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation);
}

/// <summary>
/// A sink that keeps its own per-partition state of what it already stored (the part-file sinks skip offsets at
/// or below the highest one in their published file names). The pump tells it when its consumer is given
/// partitions and when it loses them, on the consumer's poll thread and before the change takes effect, so two
/// writers of the same sink never both publish one record: the writer that loses a partition finishes with it,
/// the one that gets it reads its state afresh. Calls wait for the sink's turn like the other calls.
/// </summary>
public interface IPartitionAwareSink
{
    /// <summary>The partitions are this writer's now (maybe again): what it remembers of them may be out of date.</summary>
    void Assigned(IReadOnlyList<(string Topic, int Partition)> partitions);

    /// <summary>
    /// The partitions go to another writer: publish what was written of them now (before it starts) and store
    /// no more of their records until they are assigned again (records still in flight are reported delivered
    /// and not stored; the pump does not commit them).
    /// </summary>
    void Revoked(IReadOnlyList<(string Topic, int Partition)> partitions);
}

/// <summary>
/// A sink that acts when an hour of a topic is complete (<see cref="HourCompletion"/>): the files sink writes the hour
/// directory's <c>_SUCCESS</c> only then. Called once per completion version, after the sink flushed every record of the
/// hour it was given; a failure is retried at the next check.
/// </summary>
public interface IHourCompletionListener
{
    Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation);

    /// <summary>
    /// The key (<c>nwdp.sinks.&lt;name&gt;.&lt;key&gt;</c>) that makes this instance wait for completions for something a
    /// reader needs (HDFS <c>success-on = complete</c>, Hive <c>register-on = complete</c>), or null. A node with
    /// <c>nwdp.watermarks.enabled = off</c> announces none, so it refuses to start with such a sink, naming the key.
    /// </summary>
    string? RequiresCompletions => null;
}
