namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>How errored writes and failed flushes are retried (HOCON <c>nwdp.pump.retry-*</c>, per sink overridable).</summary>
public sealed record SinkRetryOptions
{
    /// <summary>First backoff; doubles per attempt, with jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Attempts before errored records are given up on and dead-lettered; 0 = retry until the store takes them
    /// (the default: a store that is down must not turn into lost records).
    /// </summary>
    public int MaxAttempts { get; init; }
}
