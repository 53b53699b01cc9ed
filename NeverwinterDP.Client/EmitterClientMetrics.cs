namespace NeverwinterDP.Client;

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
    internal long _eventsSpilled;
    internal long _batchesSpilled;
    internal long _spillBytes;
    internal long _spillBacklogEvents;
    internal long _spillBacklogBatches;
    internal long _eventsResent;
    internal long _quarantinedRecords;
    internal long _refusedBatches;

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

    /// <summary>Events written to the spill store (each once; also at dispose).</summary>
    public long EventsSpilled => Interlocked.Read(ref _eventsSpilled);

    public long BatchesSpilled => Interlocked.Read(ref _batchesSpilled);

    /// <summary>Bytes of the spill store's segment files on disk now (bounded by <see cref="EmitterClientOptions.SpillMaxBytes"/>).</summary>
    public long SpillBytes => Interlocked.Read(ref _spillBytes);

    /// <summary>Events in the spill store not yet acknowledged (including what a previous client left there).</summary>
    public long SpillBacklogEvents => Interlocked.Read(ref _spillBacklogEvents);

    public long SpillBacklogBatches => Interlocked.Read(ref _spillBacklogBatches);

    /// <summary>Events read back from the spill store and acknowledged by a node.</summary>
    public long EventsResent => Interlocked.Read(ref _eventsResent);

    /// <summary>
    /// Batches the cluster refused permanently (invalid: sending them again cannot help); those that came from the
    /// spill store are kept aside in it as quarantine files (counted in <see cref="QuarantinedRecords"/> too).
    /// </summary>
    public long RefusedBatches => Interlocked.Read(ref _refusedBatches);

    /// <summary>Parts of the spill store moved aside into quarantine files: damaged records (a torn tail counts once) and batches refused permanently.</summary>
    public long QuarantinedRecords => Interlocked.Read(ref _quarantinedRecords);

    public override string ToString() =>
        $"acked={EventsAcked} events/{BatchesAcked} batches, sent={BatchesSent}, retries={Retries}, timeouts={Timeouts}, refusals={Refusals}, " +
        $"failed={EventsFailed}, pending={PendingEvents} events/{PendingBatches} batches, post-rejected={PostRejected}, heartbeats={HeartbeatsSent}, " +
        $"spilled={EventsSpilled} events/{BatchesSpilled} batches, spill-bytes={SpillBytes}, spill-backlog={SpillBacklogEvents} events/{SpillBacklogBatches} batches, " +
        $"resent={EventsResent}, quarantined={QuarantinedRecords}, refused={RefusedBatches}";
}

/// <summary>A batch was refused permanently (it is invalid: empty, too many events, too large); sending it again cannot help.</summary>
public sealed class EmitRefusedException(string sourceId, long batchSeq, string reason)
    : Exception($"batch {batchSeq} of source {sourceId} was refused: {reason}")
{
    public string SourceId { get; } = sourceId;

    public long BatchSeq { get; } = batchSeq;

    public string Reason { get; } = reason;
}
