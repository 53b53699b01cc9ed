namespace NeverwinterDP.Actors.Ingress;

/// <summary>Limits and behaviour of the ingress (HOCON <c>nwdp.ingress</c>).</summary>
public sealed record IngressOptions
{
    /// <summary><c>max-request-bytes</c>: a larger body (as sent) is answered 413.</summary>
    public long MaxRequestBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary><c>max-decompressed-bytes</c>: a gzip body that inflates past this is answered 413.</summary>
    public long MaxDecompressedBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary><c>max-events-per-request</c>: more events in one request is answered 413.</summary>
    public int MaxEventsPerRequest { get; init; } = 100_000;

    /// <summary><c>queue-capacity</c>: requests waiting for the producer; past it, new requests wait <see cref="EnqueueTimeout"/>, then get 429.</summary>
    public int QueueCapacity { get; init; } = 512;

    /// <summary><c>enqueue-timeout</c>.</summary>
    public TimeSpan EnqueueTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// <c>max-bus-backlog</c>: records acknowledged by this node's ingress but not yet read by its slowest pump;
    /// past it requests get 429 until the pump catches up. 0 = no limit (a real Kafka cluster's retention is
    /// days). The embedded broker keeps only ~5 MB per partition, so the node sets a limit for it.
    /// </summary>
    public long MaxBusBacklog { get; init; }

    /// <summary><c>retry-after</c>: the Retry-After given with 429 and 503.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
}
