namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// How the data pump reads and batches (HOCON <c>nwdp.pump</c>). A node reads every value from the configuration
/// (defaults in Pump/reference.conf); the property defaults are for tests that build the record directly, and a
/// test checks that they equal reference.conf's.
/// </summary>
public sealed record PumpOptions
{
    /// <summary><c>group-id</c>: the consumer group of the pump (one per sink instance: <c>&lt;group-id&gt;.&lt;sink&gt;</c>).</summary>
    public string GroupId { get; init; } = "nwdp-pump";

    /// <summary><c>topic-pattern</c>: the topics the pump reads.</summary>
    public string TopicPattern { get; init; } = @"^nwdp\.logs\..*";

    /// <summary><c>batch-size</c>: records per sink write.</summary>
    public int BatchSize { get; init; } = 5000;

    /// <summary><c>batch-bytes</c>: ...or this many bytes of records (as they are on the bus), whichever comes first.</summary>
    public long BatchBytes { get; init; } = 16L << 20;

    /// <summary>
    /// <c>buffer-bytes</c>: the records (their bytes on the bus) the pump's consumer holds, all partitions together, before
    /// it pauses fetching (<c>akka.kafka.consumer.max-buffered-bytes</c> of the pump's consumer); 0 = bounded by
    /// <c>akka.kafka.consumer.max-buffered-per-partition</c> records only.
    /// </summary>
    public long BufferBytes { get; init; } = 16L << 20;

    /// <summary>
    /// <c>fetch-bytes</c>: librdkafka's prefetch for the pump's consumer: one fetch response at most (<c>fetch.max.bytes</c>)
    /// and the queue it refills (<c>queued.max.messages.kbytes</c>); 0 = as <c>akka.kafka.consumer.kafka-clients</c> sets them.
    /// </summary>
    public long FetchBytes { get; init; } = 8L << 20;

    /// <summary>
    /// The most the pump holds of its records at once, in bytes, by the formula of docs/reliability.md: librdkafka's queue
    /// and one fetch (2 × <see cref="FetchBytes"/>), the consumer's buffers (<see cref="BufferBytes"/>), and the batches on
    /// their way to the sink (<see cref="BatchBytes"/> being taken, being decoded, and two decoded, at about twice their
    /// bytes on the bus: 6 × <see cref="BatchBytes"/>); plus one record per partition. 0 when a term is unbounded.
    /// </summary>
    public long HeldBytesBound => BufferBytes <= 0 || FetchBytes <= 0 ? 0 : 2 * FetchBytes + BufferBytes + 6 * BatchBytes;

    /// <summary><c>batch-interval</c>: a smaller batch is written after this long.</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary><c>flush-interval</c>: the sink is flushed (files published) and offsets committed this often...</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>flush-records</c>: ...or after this many records, whichever comes first.</summary>
    public int FlushRecords { get; init; } = 500_000;

    /// <summary><c>retry-min-backoff</c> / <c>retry-max-backoff</c>: errored writes are retried with exponential backoff and jitter.</summary>
    public TimeSpan RetryMinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan RetryMaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>retry-max-attempts</c>: attempts before errored records are dead-lettered; 0 = until the store takes them.</summary>
    public int RetryMaxAttempts { get; init; }

    /// <summary><c>lag-interval</c>: the consumer lag (<c>/metrics</c>, <c>GET /v1/lag</c>, <c>nwdp lag</c>) is computed at most this often; askers in between get the last figures.</summary>
    public TimeSpan LagInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Not configured: added to the Kafka offsets the pump hands its sink (<see cref="Kafka.Embedded.BusEpoch"/>): 0 on a
    /// real Kafka cluster, the incarnation's base on the embedded broker, whose offsets restart at each start.
    /// </summary>
    public long SinkOffsetBase { get; init; }

    /// <summary><c>lag-timeout</c>: how long one Kafka request of a lag computation may wait.</summary>
    public TimeSpan LagTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
