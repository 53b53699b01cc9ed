using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Actors.RemoteIngress;

/// <summary>
/// Limits of the Akka-remote ingress (HOCON <c>nwdp.remote-ingress</c>). A node reads every value from the
/// configuration (<see cref="FromConfig"/>; defaults in RemoteIngress/reference.conf); the property defaults are
/// for tests that build the record directly, and a test checks that they equal reference.conf's.
/// </summary>
public sealed record RemoteIngressOptions
{
    /// <summary><c>enabled</c>: serve EmitterClients on this node.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>max-batch-events</c>: a batch with more events is refused, permanently.</summary>
    public int MaxBatchEvents { get; init; } = 10_000;

    /// <summary>
    /// <c>max-batch-bytes</c>: a batch larger than this on the wire is refused, permanently. Keep it below
    /// <c>akka.remote.dot-netty.tcp.maximum-frame-size</c> (larger messages never arrive).
    /// </summary>
    public long MaxBatchBytes { get; init; } = 4L << 20;

    /// <summary><c>max-batches-in-flight</c>: batches held on this node (submitted or waiting behind their source's earlier batch); past it new ones are refused (retry).</summary>
    public int MaxBatchesInFlight { get; init; } = 256;

    /// <summary><c>max-batches-per-source</c>: batches of one source held at once (the window a client may keep in flight).</summary>
    public int MaxBatchesPerSource { get; init; } = 16;

    /// <summary><c>source-idle-timeout</c>: how long the sequence state of an idle source is kept (it only spares duplicates).</summary>
    public TimeSpan SourceIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The retry-after of refusals for a saturated, stopping or failing node; the node gives its <c>nwdp.ingress.retry-after</c>.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Reads <c>nwdp.remote-ingress</c>; every key is required (RemoteIngress/reference.conf has them all).</summary>
    /// <exception cref="ArgumentException">A value is missing or out of range; the message names the key.</exception>
    public static RemoteIngressOptions FromConfig(ConfigReader section) => new()
    {
        Enabled = section.Bool("enabled"),
        MaxBatchEvents = section.PositiveInt("max-batch-events"),
        MaxBatchBytes = section.Bytes("max-batch-bytes"),
        MaxBatchesInFlight = section.PositiveInt("max-batches-in-flight"),
        MaxBatchesPerSource = section.PositiveInt("max-batches-per-source"),
        SourceIdleTimeout = section.PositiveDuration("source-idle-timeout"),
    };
}
