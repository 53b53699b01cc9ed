namespace NeverwinterDP.Client;

/// <summary>What a <see cref="ZeroMqEmitter"/> did so far and holds now; safe to read from any thread.</summary>
public sealed class ZeroMqEmitterMetrics
{
    internal long _batchesSent;
    internal long _batchesAcked;
    internal long _eventsAcked;
    internal long _resends;
    internal long _timeouts;
    internal long _reconnects;
    internal long _refusals;
    internal long _batchesFailed;
    internal long _pendingBatches;

    /// <summary>Batch sends, first attempts and resends.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Batches the node acknowledged as durable.</summary>
    public long BatchesAcked => Interlocked.Read(ref _batchesAcked);

    public long EventsAcked => Interlocked.Read(ref _eventsAcked);

    /// <summary>Batches sent again (after a timeout and reconnect, or a 429/503 answer).</summary>
    public long Resends => Interlocked.Read(ref _resends);

    /// <summary>Times a batch went unanswered for the ack timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Times the socket was closed and connected again.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Transient refusals received (429, 503): the batch is sent again later.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>Batches given up on: refused for good (400, 413, 415) or unacknowledged when the emitter stopped.</summary>
    public long BatchesFailed => Interlocked.Read(ref _batchesFailed);

    /// <summary>Batches sent or waiting to be, not yet acknowledged or failed.</summary>
    public long PendingBatches => Interlocked.Read(ref _pendingBatches);
}
