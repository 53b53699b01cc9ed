namespace NeverwinterDP.Actors.Bus;

/// <summary>
/// Whether the bus is taking writes, from what ingress saw: after a failure it is down, and while down only one
/// request per probe interval tries Kafka (the others spill at once instead of each waiting for the timeout);
/// the first success closes it again. The recovery agent replays only while it is up.
/// </summary>
/// <param name="replay">The spill backlog: while it holds batches, its replay probes the bus for ingress (null: no spillover).</param>
public sealed class BusCircuit(TimeSpan probeInterval, TimeProvider? clock = null, ISpillBacklog? replay = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private long _downSinceTicks; // 0 = up
    private long _nextProbeTicks;

    public bool IsUp => Interlocked.Read(ref _downSinceTicks) == 0;

    /// <summary>When the bus went down (null while up).</summary>
    public DateTimeOffset? DownSince => Interlocked.Read(ref _downSinceTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>Whether an ingress request should try Kafka: while up; while down only if no replay probes for it.</summary>
    /// <remarks>
    /// While this node's spillover entities hold a backlog, their replay attempts probe the bus, so ingress
    /// requests need not (a probing request waits out the produce timeout; a replay waits for nobody).
    /// </remarks>
    public bool ShouldIngressTryBus() => IsUp || (replay?.HoldsBatches != true && ShouldTryBus());

    /// <summary>True if this attempt should try Kafka: always while up; one per probe interval while down.</summary>
    public bool ShouldTryBus()
    {
        if (IsUp) return true;
        var now = _clock.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextProbeTicks);
        return now >= next && Interlocked.CompareExchange(ref _nextProbeTicks, now + probeInterval.Ticks, next) == next;
    }

    public void Failed()
    {
        var now = _clock.GetUtcNow().UtcTicks;
        if (Interlocked.CompareExchange(ref _downSinceTicks, now, 0) == 0) Interlocked.Exchange(ref _nextProbeTicks, now + probeInterval.Ticks);
    }

    public void Succeeded() => Interlocked.Exchange(ref _downSinceTicks, 0);
}

/// <summary>What the circuit needs to know of the spillover store: whether it holds batches (whose replay probes the bus).</summary>
public interface ISpillBacklog
{
    bool HoldsBatches { get; }
}
