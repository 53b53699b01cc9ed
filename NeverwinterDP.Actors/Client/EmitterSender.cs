using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Tools.Client;
using NeverwinterDP.Actors.Remote;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using LogEvent = NeverwinterDP.Protocol.LogEvent;

namespace NeverwinterDP.Actors.Client;

/// <summary>Who waits for a batch: told exactly once, acknowledged or failed.</summary>
internal interface IBatchOwner
{
    void Acked(int events);

    void Failed(int events, Exception error);
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

    public EmitterSender(IActorRef clusterClient, EmitterClientOptions options, EmitterClientMetrics metrics, string clientId)
    {
        _clusterClient = clusterClient;
        _options = options;
        _metrics = metrics;
        _clientId = clientId;
        Receive<Enqueue>(OnEnqueue);
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
            if (_metrics.PendingBatches == 0) Sender.Tell(Idle.Instance);
            else _idleWaiters.Add(Sender);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef clusterClient, EmitterClientOptions options, EmitterClientMetrics metrics, string clientId) =>
        Akka.Actor.Props.Create(() => new EmitterSender(clusterClient, options, metrics, clientId));

    protected override void PreStart()
    {
        var check = TimeSpan.FromTicks(Math.Clamp(_options.AckTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        Timers.StartPeriodicTimer(CheckTimeouts.Instance, CheckTimeouts.Instance, check);
        Timers.StartPeriodicTimer(SendHeartbeats.Instance, SendHeartbeats.Instance, _options.HeartbeatInterval);
    }

    protected override void PostStop()
    {
        var stopped = new InvalidOperationException("the EmitterClient stopped before the cluster acknowledged the batch");
        foreach (var source in _sources.Values)
        {
            foreach (var b in source.InFlight.Concat(source.Unsent)) Finish(b, stopped);
            source.InFlight.Clear();
            source.Unsent.Clear();
        }
    }

    private void OnEnqueue(Enqueue enqueue)
    {
        if (!_sources.TryGetValue(enqueue.SourceId, out var source)) _sources[enqueue.SourceId] = source = new Source(enqueue.SourceId);
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
        source.Unsent.Enqueue(new OutBatch(source.NextSeq++, events, enqueue.Key, enqueue.Owner));
        Interlocked.Increment(ref _metrics._pendingBatches);
        Interlocked.Add(ref _metrics._pendingEvents, events.Count);
        Pump(source);
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
        foreach (var source in _sources.Values)
        {
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
        while (source.RetryAt is null && source.InFlight.Count < _options.WindowPerSource && source.Unsent.TryDequeue(out var batch))
        {
            source.InFlight.Add(batch);
            Send(source, batch);
        }
        if (source.InFlight.Count == 0 && source.Unsent.Count == 0 && _metrics.PendingBatches == 0 && _idleWaiters.Count > 0)
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
        _clusterClient.Tell(new ClusterClient.Send(IngressReceptionist.ServicePath, message, localAffinity: true));
    }

    private void SendHeartbeat(string host, string process)
    {
        Interlocked.Increment(ref _metrics._heartbeatsSent);
        var beat = new Heartbeat(host, process, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), (long)_options.HeartbeatInterval.TotalMilliseconds);
        _clusterClient.Tell(new ClusterClient.Send(IngressReceptionist.ServicePath, beat, localAffinity: true));
    }

    private void Finish(OutBatch batch, Exception? error)
    {
        Interlocked.Decrement(ref _metrics._pendingBatches);
        Interlocked.Add(ref _metrics._pendingEvents, -batch.Events.Count);
        try
        {
            if (error is null) batch.Owner.Acked(batch.Events.Count);
            else batch.Owner.Failed(batch.Events.Count, error);
        }
        catch (Exception e)
        {
            Context.GetLogger().Error(e, "An EmitterClient batch owner failed");
        }
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

    private sealed class Source(string id)
    {
        public string Id { get; } = id;
        public long NextSeq = 1;
        public long EventSeq;
        public int Attempt;
        public DateTime? RetryAt;
        public readonly Queue<OutBatch> Unsent = new();
        public readonly List<OutBatch> InFlight = new();
    }

    private sealed class OutBatch(long seq, IReadOnlyList<LogEvent> events, string? key, IBatchOwner owner)
    {
        public long Seq { get; } = seq;
        public IReadOnlyList<LogEvent> Events { get; } = events;
        public string? Key { get; } = key;
        public IBatchOwner Owner { get; } = owner;
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
