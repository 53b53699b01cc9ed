namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>Counters of one sink instance (exported as <c>nwdp_sink_*</c> metrics; read by health and tests).</summary>
public sealed class SinkMetrics(string sink)
{
    private long _delivered;
    private long _deadLettered;
    private long _errored;
    private long _retries;
    private long _batches;
    private long _flushes;
    private long _writeTicks;

    public string Sink { get; } = sink;

    /// <summary>Records the store accepted.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records rejected for good, sent to <c>nwdp.dlq.&lt;sink&gt;</c>.</summary>
    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Record-attempts that failed transiently (each was retried).</summary>
    public long Errored => Interlocked.Read(ref _errored);

    /// <summary>Retries of a write or flush.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public long Batches => Interlocked.Read(ref _batches);

    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Total time spent delivering batches (including retries).</summary>
    public TimeSpan WriteTime => TimeSpan.FromTicks(Interlocked.Read(ref _writeTicks));

    internal void AddBatch(int delivered, int deadLettered, TimeSpan took)
    {
        Interlocked.Add(ref _delivered, delivered);
        Interlocked.Add(ref _deadLettered, deadLettered);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _writeTicks, took.Ticks);
    }

    internal void AddErrored(int n) => Interlocked.Add(ref _errored, n);
    internal void AddRetry() => Interlocked.Increment(ref _retries);
    internal void AddFlush() => Interlocked.Increment(ref _flushes);
}
