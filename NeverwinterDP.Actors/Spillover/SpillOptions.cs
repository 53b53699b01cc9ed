using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>The spillover store and its recovery agent (HOCON <c>nwdp.spill</c>; every default in Spillover/reference.conf).</summary>
public sealed record SpillOptions
{
    /// <summary><c>enabled</c>: spill when the bus fails. Off: ingress answers 503 instead.</summary>
    public required bool Enabled { get; init; }

    /// <summary>
    /// <c>after</c>: how long a request waits for Kafka's acknowledgement before its events are spilled (shorter than
    /// the ingress producer's <c>message.timeout.ms</c>). Records the producer already holds stay with it until the
    /// broker answers or that timeout; their spilled copy waits for that (<see cref="Bus.BusWriter.InDoubt"/>).
    /// </summary>
    public required TimeSpan After { get; init; }

    /// <summary><c>quota</c>: bytes of spilled, not yet replayed events a node keeps; past it ingress answers 503.</summary>
    public required long QuotaBytes { get; init; }

    /// <summary><c>probe-interval</c>: while the bus is down, one request per interval tries Kafka (the rest spill at once).</summary>
    public required TimeSpan ProbeInterval { get; init; }

    /// <summary><c>replay-rate</c>: events per second the recovery agent replays per topic, so live traffic keeps flowing.</summary>
    public required int ReplayRate { get; init; }

    /// <summary><c>replay-interval</c>: how often a spillover entity with a backlog looks at the bus.</summary>
    public required TimeSpan ReplayInterval { get; init; }

    /// <summary><c>encryption</c>: AES-GCM sealing of the spilled batches in the journal (off by default).</summary>
    public SpillEncryptionOptions Encryption { get; init; } = SpillEncryptionOptions.None;
}
