using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Tools.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using LogEvent = NeverwinterDP.Protocol.LogEvent;

namespace NeverwinterDP.Client;

/// <summary>Who waits for a batch: told exactly once, acknowledged or failed.</summary>
internal interface IBatchOwner
{
    void Acked(int events);

    void Failed(int events, Exception error);

    /// <summary>The batch was written to the spill store (durable there). True: keep telling this owner (it waits for the acknowledgement).</summary>
    bool Spilled(int events);
}

/// <summary>
/// The heart of an <see cref="EmitterClient"/>: numbers each source's batches, keeps at most a window of them in
/// flight through the ClusterClient, and sends them again in order (after a backoff with jitter) when one is
/// refused or goes unanswered. Completes a batch only on the node's <see cref="EmitAck"/>.
/// </summary>
internal sealed class EmitterSender : ReceiveActor, IWithTimers
{
    private readonly IActorRef _clusterClient;
    private readonly EmitterClientOptions _options;
    private readonly EmitterClientMetrics _metrics;
    private readonly string _clientId;
    private readonly Dictionary<string, Source> _sources = new();
    private readonly HashSet<(string Host, string Process)> _seen = new();
    private readonly List<IActorRef> _idleWaiters = new();
    private readonly EmitterSpillStore? _store;
    private readonly Action _spillHandled;
    private bool _storeFailed;

    public EmitterSender(IActorRef clusterClient, EmitterClientOptions options, EmitterClientMetrics metrics, string clientId, EmitterSpillStore? store,
        Action spillHandled)
    {
        _clusterClient = clusterClient;
        _options = options;
        _metrics = metrics;
        _clientId = clientId;
        _store = store;
        _spillHandled = spillHandled;
        Receive<Enqueue>(OnEnqueue);
        Receive<SpillNow>(_ =>
        {
            // The Post buffer is full: every source holding batches spills, which frees the buffer.
            foreach (var source in _sources.Values.Where(s => !s.Spilling && (s.InFlight.Count > 0 || s.Unsent.Count > 0)).ToList())
                StartSpill(source, "the Post buffer is full");
            _spillHandled();
        });
        Receive<SpillAll>(_ => Sender.Tell(SpillEverything()));
        Receive<SyncAcks>(_ => SyncStoreAcks());
        Receive<EmitAck>(OnAck);
        Receive<EmitRefused>(OnRefused);
        Receive<Retry>(r =>
        {
            if (_sources.TryGetValue(r.SourceId, out var source)) Resend(source);
        });
        Receive<CheckTimeouts>(_ => CheckForTimeouts());
        Receive<SendHeartbeats>(_ =>
        {
            foreach (var (host, process) in _seen) SendHeartbeat(host, process);
        });
        Receive<WhenIdle>(_ =>
        {
            if (IsIdle) Sender.Tell(Idle.Instance);
            else _idleWaiters.Add(Sender);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef clusterClient, EmitterClientOptions options, EmitterClientMetrics metrics, string clientId) =>
        Props(clusterClient, options, metrics, clientId, null, () => { });

    public static Props Props(IActorRef clusterClient, EmitterClientOptions options, EmitterClientMetrics metrics, string clientId, EmitterSpillStore? store,
        Action spillHandled) =>
        Akka.Actor.Props.Create(() => new EmitterSender(clusterClient, options, metrics, clientId, store, spillHandled));

    private bool IsIdle => _metrics.PendingBatches == 0 && (_store is null || _store.BacklogBatches == 0);

    protected override void PreStart()
    {
        var check = TimeSpan.FromTicks(Math.Clamp(_options.AckTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        Timers.StartPeriodicTimer(CheckTimeouts.Instance, CheckTimeouts.Instance, check);
        Timers.StartPeriodicTimer(SendHeartbeats.Instance, SendHeartbeats.Instance, _options.HeartbeatInterval);
        if (_store is null) return;
        Timers.StartPeriodicTimer(SyncAcks.Instance, SyncAcks.Instance, TimeSpan.FromSeconds(1));
        if (_store.Recovered.Count == 0) return;
        // What a previous client (or a crashed process) left: resent first, in the order written, per source.
        foreach (var record in _store.Recovered)
        {
            var source = SourceOf(record.SourceId);
            source.Spilling = true;
            source.Spilled.Enqueue(new SpillRef(record, null, 0));
            // Not added to the heartbeat sources: the process that wrote them may be gone.
        }
        Context.GetLogger().Warning("NeverwinterDP EmitterClient: the spill store holds {0} batches ({1} events) of {2} sources from before; resending them once the cluster answers",
            _store.BacklogBatches, _store.BacklogEvents, _sources.Count);
        foreach (var source in _sources.Values) Pump(source);
    }

    protected override void PostStop()
    {
        var stopped = new InvalidOperationException("the EmitterClient stopped before the cluster acknowledged the batch");
        var inStore = new InvalidOperationException("the EmitterClient stopped before the cluster acknowledged the batch; it is in the spill store, and the next client with that directory sends it");
        foreach (var source in _sources.Values)
        {
            foreach (var b in source.InFlight.Concat(source.Unsent).Concat(source.Held))
            {
                if (b.Record is null) Interlocked.Add(ref _metrics._eventsFailed, b.Events.Count);
                Finish(b, b.Record is null ? stopped : inStore);
            }
            foreach (var r in source.Spilled)
                if (r.Owner is not null) Tell(r.Owner, r.Record.Events, inStore);
            source.InFlight.Clear();
            source.Unsent.Clear();
            source.Held.Clear();
            source.Spilled.Clear();
        }
        SyncStoreAcks();
    }

    private Source SourceOf(string id)
    {
        if (!_sources.TryGetValue(id, out var source)) _sources[id] = source = new Source(id);
        return source;
    }

    private void OnEnqueue(Enqueue enqueue)
    {
        var source = SourceOf(enqueue.SourceId);
        if (_seen.Add((enqueue.Host, enqueue.Process))) SendHeartbeat(enqueue.Host, enqueue.Process); // a new source is alive now
        var events = enqueue.Events;
        if (_options.AssignSourceSeq)
        {
            LogEvent[]? numbered = null;
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (e.Lineage.SourceSeq != 0) continue;
                numbered ??= events.ToArray();
                numbered[i] = e with { Lineage = e.Lineage with { SourceSeq = ++source.EventSeq } };
            }
            if (numbered is not null) events = numbered;
        }
        var batch = new OutBatch(enqueue.Host, enqueue.Process, events, enqueue.Key, enqueue.Owner, null);
        Interlocked.Increment(ref _metrics._pendingBatches);
        Interlocked.Add(ref _metrics._pendingEvents, events.Count);
        if (source.Spilling) SpillBatches(source, [batch]); // behind what this source spilled, until that is drained
        else Queue(source, batch);
        Pump(source);
    }

    /// <summary>
    /// Queues a batch to send. A batch that was numbered before it spilled keeps its number: a copy sent under it
    /// earlier (the ClusterClient delivers what it buffered once it reconnects) is then the same batch to the node,
    /// written once.
    /// </summary>
    private void Queue(Source source, OutBatch batch)
    {
        if (batch.Seq == 0) batch.Seq = source.NextSeq++;
        source.Unsent.Enqueue(batch);
    }

    private void OnAck(EmitAck ack)
    {
        if (!_sources.TryGetValue(ack.SourceId, out var source)) return;
        var index = source.InFlight.FindIndex(b => b.Seq == ack.BatchSeq);
        if (index < 0) return; // a second answer for a batch sent twice
        var batch = source.InFlight[index];
        source.InFlight.RemoveAt(index);
        source.Attempt = 0;
        Interlocked.Increment(ref _metrics._batchesAcked);
        Interlocked.Add(ref _metrics._eventsAcked, batch.Events.Count);
        if (batch.Record is not null)
        {
            Interlocked.Add(ref _metrics._eventsResent, batch.Events.Count);
            StoreAck(batch.Record);
        }
        Finish(batch, null);
        if (source.RetryAt is null) Pump(source);
    }

    private void OnRefused(EmitRefused refused)
    {
        Interlocked.Increment(ref _metrics._refusals);
        if (!_sources.TryGetValue(refused.SourceId, out var source)) return;
        var index = source.InFlight.FindIndex(b => b.Seq == refused.BatchSeq);
        if (index < 0) return;
        if (refused.Permanent)
        {
            var batch = source.InFlight[index];
            source.InFlight.RemoveAt(index);
            Interlocked.Add(ref _metrics._eventsFailed, batch.Events.Count);
            // Invalid: resending it can never help. A spilled batch is set aside in the store (kept on disk beside the
            // reason, counted in QuarantinedRecords and RefusedBatches), not resent by this client or the next.
            if (batch.Record is not null) StoreQuarantine(batch.Record, "refused permanently by the cluster: " + refused.Reason);
            Interlocked.Increment(ref _metrics._refusedBatches);
            Finish(batch, new EmitRefusedException(refused.SourceId, refused.BatchSeq, refused.Reason));
            if (source.RetryAt is null) Pump(source);
            return;
        }
        // The node refuses whatever waited behind the refused batch too: everything in flight goes again, in order.
        ScheduleRetry(source, refused.RetryAfter);
    }

    private void CheckForTimeouts()
    {
        var now = DateTime.UtcNow;
        foreach (var source in _sources.Values.ToList())
        {
            if (_store is not null && !_storeFailed && !source.Spilling && Oldest(source) is { } oldest && now - oldest.EnqueuedAt >= _options.SpillAfter)
            {
                StartSpill(source, $"its oldest batch waited {_options.SpillAfter} without an acknowledgement");
                Pump(source);
                continue;
            }
            if (source.RetryAt is not null || source.InFlight.Count == 0) continue;
            if (now - source.InFlight[0].SentAt < _options.AckTimeout) continue;
            Interlocked.Increment(ref _metrics._timeouts);
            ScheduleRetry(source, TimeSpan.Zero);
        }
    }

    private void ScheduleRetry(Source source, TimeSpan retryAfter)
    {
        if (source.RetryAt is not null) return;
        // Exponential backoff with jitter (half fixed, half random), never sooner than the node asked.
        var exponential = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(source.Attempt, 30)));
        var delay = TimeSpan.FromMilliseconds(exponential * (0.5 + Random.Shared.NextDouble() / 2));
        if (delay < retryAfter) delay = retryAfter;
        source.Attempt++;
        source.RetryAt = DateTime.UtcNow + delay;
        Timers.StartSingleTimer("retry:" + source.Id, new Retry(source.Id), delay);
    }

    private void Resend(Source source)
    {
        source.RetryAt = null;
        foreach (var batch in source.InFlight)
        {
            Interlocked.Increment(ref _metrics._retries);
            Send(source, batch);
        }
        Pump(source);
    }

    private void Pump(Source source)
    {
        if (source.Spilling) LoadSpilled(source);
        while (source.RetryAt is null && source.InFlight.Count < _options.WindowPerSource && source.Unsent.TryDequeue(out var batch))
        {
            source.InFlight.Add(batch);
            Send(source, batch);
        }
        if (source.InFlight.Count == 0 && source.Unsent.Count == 0 && IsIdle && _idleWaiters.Count > 0)
        {
            foreach (var waiter in _idleWaiters) waiter.Tell(Idle.Instance);
            _idleWaiters.Clear();
        }
    }

    private void Send(Source source, OutBatch batch)
    {
        batch.SentAt = DateTime.UtcNow;
        Interlocked.Increment(ref _metrics._batchesSent);
        var message = new EmitBatch(_clientId, source.Id, batch.Seq, source.InFlight[0].Seq, batch.Events, batch.Key);
        _clusterClient.Tell(new ClusterClient.Send(RemoteIngressAddress.Path, message, localAffinity: true));
    }

    private void SendHeartbeat(string host, string process)
    {
        Interlocked.Increment(ref _metrics._heartbeatsSent);
        var beat = new Heartbeat(host, process, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), (long)_options.HeartbeatInterval.TotalMilliseconds);
        _clusterClient.Tell(new ClusterClient.Send(RemoteIngressAddress.Path, beat, localAffinity: true));
    }

    private void Finish(OutBatch batch, Exception? error)
    {
        Interlocked.Decrement(ref _metrics._pendingBatches);
        Interlocked.Add(ref _metrics._pendingEvents, -batch.Events.Count);
        if (batch.Owner is not null) Tell(batch.Owner, batch.Events.Count, error);
    }

    private void Tell(IBatchOwner owner, int events, Exception? error)
    {
        try
        {
            if (error is null) owner.Acked(events);
            else owner.Failed(events, error);
        }
        catch (Exception e)
        {
            Context.GetLogger().Error(e, "An EmitterClient batch owner failed");
        }
    }

    private static OutBatch? Oldest(Source source) =>
        source.InFlight.Count > 0 ? source.InFlight[0] : source.Unsent.TryPeek(out var b) ? b : null;

    /// <summary>From now on the source's batches go through the store: what it holds in memory is written there first.</summary>
    private void StartSpill(Source source, string why)
    {
        if (_store is null || _storeFailed) return;
        var batches = source.InFlight.Concat(source.Unsent).ToList();
        source.InFlight.Clear();
        source.Unsent.Clear();
        source.RetryAt = null;
        source.Attempt = 0;
        Timers.Cancel("retry:" + source.Id);
        source.Spilling = true;
        Context.GetLogger().Warning("NeverwinterDP EmitterClient: source {0} spills to {1} ({2}); its batches are resent from there once the cluster answers",
            source.Id, _options.SpillDirectory, why);
        // Batches read back from the store are in it already: they go back to the front of its queue.
        var fromStore = batches.Where(b => b.Record is not null).ToList();
        foreach (var b in fromStore) Unload(b);
        if (fromStore.Count > 0)
        {
            var rest = source.Spilled.ToList();
            source.Spilled.Clear();
            foreach (var b in fromStore) source.Spilled.Enqueue(new SpillRef(b.Record!, b.Owner, b.Seq));
            foreach (var r in rest) source.Spilled.Enqueue(r);
        }
        SpillBatches(source, batches.Where(b => b.Record is null).ToList());
    }

    /// <summary>A batch leaves memory (it is in the store).</summary>
    private void Unload(OutBatch batch)
    {
        Interlocked.Decrement(ref _metrics._pendingBatches);
        Interlocked.Add(ref _metrics._pendingEvents, -batch.Events.Count);
    }

    /// <summary>
    /// Writes batches of a spilling source to the store, in order, behind what it holds for the source; a batch that
    /// does not fit (store full, or failed) waits in memory, and so do the ones after it. Room in the Post buffer is
    /// freed only once the store made them durable (fsync). Returns the events written.
    /// </summary>
    private int SpillBatches(Source source, List<OutBatch> batches)
    {
        var written = new List<(OutBatch Batch, SpillRecordRef Record)>();
        foreach (var b in batches)
        {
            if (source.Held.Count > 0 || _storeFailed || !TryAppend(b, out var record))
            {
                source.Held.Enqueue(b);
                continue;
            }
            written.Add((b, record));
        }
        if (written.Count == 0) return 0;
        try
        {
            _store!.Sync();
        }
        catch (IOException e)
        {
            // Not durable: the batches stay in memory (a later client may find and resend some of them: duplicates).
            FailStore(e);
            var held = source.Held.ToList();
            source.Held.Clear();
            foreach (var (b, _) in written) source.Held.Enqueue(b);
            foreach (var b in held) source.Held.Enqueue(b);
            return 0;
        }
        var events = 0;
        foreach (var (b, record) in written)
        {
            Unload(b);
            events += b.Events.Count;
            Interlocked.Increment(ref _metrics._batchesSpilled);
            Interlocked.Add(ref _metrics._eventsSpilled, b.Events.Count);
            var keep = b.Owner is not null && b.Owner.Spilled(b.Events.Count);
            source.Spilled.Enqueue(new SpillRef(record, keep ? b.Owner : null, b.Seq));
        }
        return events;
    }

    private bool TryAppend(OutBatch batch, out SpillRecordRef record)
    {
        try
        {
            return _store!.TryAppend(batch.Host, batch.Process, batch.Events, batch.Key, out record);
        }
        catch (IOException e)
        {
            FailStore(e);
            record = null!;
            return false;
        }
    }

    private void FailStore(IOException e)
    {
        if (_storeFailed) return;
        _storeFailed = true;
        Context.GetLogger().Error(e, "NeverwinterDP EmitterClient: the spill store in {0} failed; batches stay in memory from now on", _options.SpillDirectory ?? "");
    }

    private void StoreAck(SpillRecordRef record)
    {
        try
        {
            _store!.Ack(record);
        }
        catch (IOException e)
        {
            Context.GetLogger().Error(e, "NeverwinterDP EmitterClient: could not record in the spill store that a batch was acknowledged; a later client may send it again");
        }
    }

    private void StoreQuarantine(SpillRecordRef record, string reason)
    {
        try
        {
            _store!.Quarantine(record, reason);
        }
        catch (IOException e)
        {
            Context.GetLogger().Error(e, "NeverwinterDP EmitterClient: could not set a refused batch aside in the spill store; a later client may send it again");
        }
    }

    private void SyncStoreAcks()
    {
        try
        {
            _store?.SyncAcks();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Context.GetLogger().Error(e, "NeverwinterDP EmitterClient: could not sync the spill store's acknowledgements");
        }
    }

    /// <summary>
    /// The recovery agent of a spilling source: reads its spilled batches back in order, a window at a time (one
    /// more as each is acknowledged, none while the source waits out a backoff, so a returning cluster is not
    /// swamped), then what waited in memory behind them; when nothing is left the source sends from memory again.
    /// </summary>
    private void LoadSpilled(Source source)
    {
        while (source.RetryAt is null && source.InFlight.Count + source.Unsent.Count < _options.WindowPerSource)
        {
            if (source.Spilled.TryDequeue(out var spilled))
            {
                SpilledBatch read;
                try
                {
                    read = _store!.Read(spilled.Record);
                }
                catch (Exception e) when (e is IOException or MalformedRecordException or InvalidOperationException)
                {
                    Context.GetLogger().Error("NeverwinterDP EmitterClient: a spilled batch of {0} ({1} events) cannot be read back and is quarantined: {2}",
                        source.Id, spilled.Record.Events, e.Message);
                    try
                    {
                        _store!.Quarantine(spilled.Record, e.Message);
                    }
                    catch (IOException)
                    {
                    }
                    Interlocked.Add(ref _metrics._eventsFailed, spilled.Record.Events);
                    if (spilled.Owner is not null) Tell(spilled.Owner, spilled.Record.Events, e);
                    continue;
                }
                Interlocked.Increment(ref _metrics._pendingBatches);
                Interlocked.Add(ref _metrics._pendingEvents, read.Events.Count);
                Queue(source, new OutBatch(read.Host, read.Process, read.Events, read.Key, spilled.Owner, spilled.Record) { Seq = spilled.Seq });
                continue;
            }
            if (source.Held.TryDequeue(out var held))
            {
                Queue(source, held);
                continue;
            }
            break;
        }
        if (source.Spilled.Count == 0 && source.Held.Count == 0 && source.Unsent.Count == 0 && source.InFlight.Count == 0)
        {
            source.Spilling = false;
            Context.GetLogger().Info("NeverwinterDP EmitterClient: the spill backlog of source {0} is drained; it sends from memory again", source.Id);
        }
    }

    /// <summary>At dispose: everything not acknowledged goes to the store for the next client with this directory.</summary>
    private SpilledAtStop SpillEverything()
    {
        if (_store is null) return new SpilledAtStop(0, 0);
        var events = 0;
        var batches = 0;
        foreach (var source in _sources.Values)
        {
            var all = source.InFlight.Concat(source.Unsent).ToList();
            source.InFlight.Clear();
            source.Unsent.Clear();
            source.RetryAt = null;
            Timers.Cancel("retry:" + source.Id);
            source.Spilling = true;
            foreach (var b in all.Where(b => b.Record is not null))
            {
                // Read back from the store: still there.
                Unload(b);
                source.Spilled.Enqueue(new SpillRef(b.Record!, b.Owner, b.Seq));
            }
            var toWrite = all.Where(b => b.Record is null).Concat(source.Held).ToList();
            source.Held.Clear();
            var before = _metrics.BatchesSpilled;
            events += SpillBatches(source, toWrite);
            batches += (int)(_metrics.BatchesSpilled - before);
        }
        SyncStoreAcks();
        return new SpilledAtStop(batches, events);
    }

    /// <summary>A batch of one source to send; the events already carry host and process.</summary>
    internal sealed record Enqueue(string SourceId, string Host, string Process, IReadOnlyList<LogEvent> Events, string? Key, IBatchOwner Owner);

    /// <summary>Answered with <see cref="Idle"/> once nothing is pending.</summary>
    internal sealed class WhenIdle
    {
        public static readonly WhenIdle Instance = new();
    }

    internal sealed class Idle
    {
        public static readonly Idle Instance = new();
    }

    /// <summary>The Post buffer is full: spill every source that holds batches.</summary>
    internal sealed class SpillNow
    {
        public static readonly SpillNow Instance = new();
    }

    /// <summary>At dispose, after the flush timeout: write what is not acknowledged to the store; answered with <see cref="SpilledAtStop"/>.</summary>
    internal sealed class SpillAll
    {
        public static readonly SpillAll Instance = new();
    }

    internal sealed record SpilledAtStop(int Batches, int Events);

    private sealed class SyncAcks
    {
        public static readonly SyncAcks Instance = new();
    }

    private sealed class Source(string id)
    {
        public string Id { get; } = id;
        public long NextSeq = 1;
        public long EventSeq;
        public int Attempt;
        public DateTime? RetryAt;
        public readonly Queue<OutBatch> Unsent = new();
        public readonly List<OutBatch> InFlight = new();

        /// <summary>Its batches go through the store until it holds none of them (<see cref="Spilled"/> and <see cref="Held"/> empty).</summary>
        public bool Spilling;

        /// <summary>Its batches in the store, in order, not yet read back.</summary>
        public readonly Queue<SpillRef> Spilled = new();

        /// <summary>Batches behind <see cref="Spilled"/> that did not fit in the store: they wait in memory, in order.</summary>
        public readonly Queue<OutBatch> Held = new();
    }

    /// <summary>A spilled batch, the call that waits for it (an <see cref="EmitterClient.EmitAsync"/>, else null), and its number if it had one (else 0).</summary>
    private sealed record SpillRef(SpillRecordRef Record, IBatchOwner? Owner, long Seq);

    private sealed class OutBatch(string host, string process, IReadOnlyList<LogEvent> events, string? key, IBatchOwner? owner, SpillRecordRef? record)
    {
        public long Seq;
        public string Host { get; } = host;
        public string Process { get; } = process;
        public IReadOnlyList<LogEvent> Events { get; } = events;
        public string? Key { get; } = key;
        public IBatchOwner? Owner { get; } = owner;

        /// <summary>Where it lies in the spill store, when it was read back from there.</summary>
        public SpillRecordRef? Record { get; } = record;

        public DateTime EnqueuedAt { get; } = DateTime.UtcNow;
        public DateTime SentAt;
    }

    private sealed record Retry(string SourceId);

    private sealed class CheckTimeouts
    {
        public static readonly CheckTimeouts Instance = new();
    }

    private sealed class SendHeartbeats
    {
        public static readonly SendHeartbeats Instance = new();
    }
}
