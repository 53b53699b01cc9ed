namespace NeverwinterDP.Actors.Spill;

/// <summary>The spillover store and its recovery agent (HOCON <c>nwdp.spill</c>).</summary>
public sealed record SpillOptions
{
    /// <summary><c>enabled</c>: spill when the bus fails (default on). Off: ingress answers 503 instead.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// <c>after</c>: how long a request waits for Kafka before its events are spilled (the ingress producer's
    /// <c>message.timeout.ms</c>: librdkafka reports records it never sent as not persisted then).
    /// </summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>quota</c>: bytes of spilled, not yet replayed events a node keeps; past it ingress answers 503.</summary>
    public long QuotaBytes { get; init; } = 1L << 30;

    /// <summary><c>probe-interval</c>: while the bus is down, one request per interval tries Kafka (the rest spill at once).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>replay-rate</c>: events per second the recovery agent replays per topic, so live traffic keeps flowing.</summary>
    public int ReplayRate { get; init; } = 50_000;

    /// <summary><c>replay-interval</c>: how often a spillover entity with a backlog looks at the bus.</summary>
    public TimeSpan ReplayInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}
