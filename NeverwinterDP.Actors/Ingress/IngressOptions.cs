namespace NeverwinterDP.Actors.Ingress;

/// <summary>Limits and behaviour of the ingress (HOCON <c>nwdp.ingress</c>; every default in Ingress/reference.conf).</summary>
public sealed record IngressOptions
{
    /// <summary><c>max-request-bytes</c>: a larger body (as sent) is answered 413.</summary>
    public required long MaxRequestBytes { get; init; }

    /// <summary><c>max-decompressed-bytes</c>: a gzip body that inflates past this is answered 413.</summary>
    public required long MaxDecompressedBytes { get; init; }

    /// <summary><c>max-events-per-request</c>: more events in one request is answered 413.</summary>
    public required int MaxEventsPerRequest { get; init; }

    /// <summary><c>queue-capacity</c>: requests waiting for the producer; past it, new requests wait <see cref="EnqueueTimeout"/>, then get 429.</summary>
    public required int QueueCapacity { get; init; }

    /// <summary><c>enqueue-timeout</c>.</summary>
    public required TimeSpan EnqueueTimeout { get; init; }

    /// <summary>
    /// <c>max-bus-backlog</c>: records acknowledged by this node's ingress but not yet read by its slowest pump;
    /// past it requests get 429 until the pump catches up. 0 = no limit (a real Kafka cluster's retention is
    /// days). The embedded broker keeps only ~5 MB per partition, so the node sets a limit for it.
    /// </summary>
    public required long MaxBusBacklog { get; init; }

    /// <summary><c>backlog-wait</c>: how long a request past <see cref="MaxBusBacklog"/> waits for the pumps before 429.</summary>
    public required TimeSpan BacklogWait { get; init; }

    /// <summary>
    /// <c>max-bytes-in-flight</c>: one budget of bytes across every HTTP ingress request being read, inflated,
    /// parsed or waiting for Kafka (<see cref="IngressBudget"/>); a request that does not fit is answered 429.
    /// </summary>
    public required long MaxBytesInFlight { get; init; }

    /// <summary>
    /// What a request holds of <see cref="MaxBytesInFlight"/> per byte of its body (inflated): the body, its events
    /// (their text as UTF-16 strings, twice the UTF-8 bytes) and the records encoded from them, all alive until Kafka
    /// answers. At 2 a node under eight concurrent 60 MiB requests rose ~540 MiB over idle with a 256 MiB budget.
    /// </summary>
    public const int BudgetPerBodyByte = 4;

    /// <summary>
    /// What the largest request the limits allow holds of the budget: a plain body of <see cref="MaxRequestBytes"/>,
    /// or a gzip body of that size beside what it may inflate to. The budget must be at least this, or such requests
    /// would be answered 429 for ever.
    /// </summary>
    public long LargestRequestCost =>
        Math.Max(BudgetPerBodyByte * BufferBytes(MaxRequestBytes), MaxRequestBytes + BudgetPerBodyByte * BufferBytes(MaxDecompressedBytes));

    /// <summary>
    /// Body buffers up to this size come from the shared pool; larger ones are allocated and left to the GC, so that a
    /// burst of huge requests does not leave huge arrays cached in the pool (and the process's RSS up) for ever.
    /// </summary>
    public const int PooledBufferLimit = 1 << 20;

    /// <summary>The bytes a body buffer asked for <paramref name="size"/> bytes really takes (the pool's sizes are powers of two).</summary>
    public static long BufferBytes(long size) =>
        size <= PooledBufferLimit ? (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(size, 16)) : size;

    /// <summary><c>retry-after</c>: the Retry-After given with 429 and 503.</summary>
    public required TimeSpan RetryAfter { get; init; }
}
