namespace NeverwinterDP.Actors.Client;

/// <summary>What an <see cref="EmitterClient"/> did so far and holds now; safe to read from any thread.</summary>
public sealed class EmitterClientMetrics
{
    internal long _eventsAcked;
    internal long _batchesAcked;
    internal long _batchesSent;
    internal long _retries;
    internal long _timeouts;
    internal long _refusals;
    internal long _eventsFailed;
    internal long _pendingEvents;
    internal long _pendingBatches;
    internal long _postRejected;
    internal long _heartbeatsSent;

    /// <summary>Events a node acknowledged as durable.</summary>
    public long EventsAcked => Interlocked.Read(ref _eventsAcked);

    public long BatchesAcked => Interlocked.Read(ref _batchesAcked);

    /// <summary>Batch sends, first attempts and retries.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Batches sent again (after a refusal or a timeout).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Times the oldest batch of a source went unanswered for the ack timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Refusals received (transient and permanent).</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>Events given up on: refused permanently (invalid batch) or still unacknowledged when the client stopped.</summary>
    public long EventsFailed => Interlocked.Read(ref _eventsFailed);

    /// <summary>Events handed to the client's sender and not yet acknowledged or failed.</summary>
    public long PendingEvents => Interlocked.Read(ref _pendingEvents);

    public long PendingBatches => Interlocked.Read(ref _pendingBatches);

    /// <summary><see cref="EmitterClient.Post"/> calls that returned false (buffer full or client stopped).</summary>
    public long PostRejected => Interlocked.Read(ref _postRejected);

    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    public override string ToString() =>
        $"acked={EventsAcked} events/{BatchesAcked} batches, sent={BatchesSent}, retries={Retries}, timeouts={Timeouts}, refusals={Refusals}, " +
        $"failed={EventsFailed}, pending={PendingEvents} events/{PendingBatches} batches, post-rejected={PostRejected}, heartbeats={HeartbeatsSent}";
}

/// <summary>A batch was refused permanently (it is invalid: empty, too many events, too large); sending it again cannot help.</summary>
public sealed class EmitRefusedException(string sourceId, long batchSeq, string reason)
    : Exception($"batch {batchSeq} of source {sourceId} was refused: {reason}")
{
    public string SourceId { get; } = sourceId;

    public long BatchSeq { get; } = batchSeq;

    public string Reason { get; } = reason;
}
