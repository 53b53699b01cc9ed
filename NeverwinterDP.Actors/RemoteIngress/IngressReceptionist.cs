using Akka;
using Akka.Actor;
using Akka.Event;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watchdog;
using LogEvent = NeverwinterDP.Protocol.LogEvent;

namespace NeverwinterDP.Actors.RemoteIngress;

/// <summary>Submits events to the bus: <see cref="EventIngress.AcceptAsync"/> on a node.</summary>
public delegate Task<(IngressOutcome Outcome, Exception? Error)> IngressAccept(IReadOnlyList<LogEvent> events, string? requestKey, CancellationToken cancellation);

/// <summary>
/// The node's end of the Akka-remote ingress, registered with the ClusterClientReceptionist on every node so
/// that EmitterClients reach it at <see cref="ServicePath"/>. Takes <see cref="EmitBatch"/>es, stamps them as
/// the HTTP ingress does, makes them durable through the same <see cref="IngressAccept"/> and answers
/// <see cref="EmitAck"/> only once they are; hands <see cref="Heartbeat"/>s to the heartbeat listeners.
/// </summary>
/// <remarks>
/// Order per source: batches of one (client, source) are submitted one at a time in batch-number order; a
/// batch that arrives while an earlier one is in flight waits behind it (up to
/// <see cref="RemoteIngressOptions.MaxBatchesPerSource"/>), and when a batch is refused, those waiting behind
/// it are refused too, so the client sends them again in order. A batch whose number is at or below what
/// this node made durable (or below the client's <see cref="EmitBatch.FirstUnacked"/>) is acknowledged
/// without being written again: a client that timed out and resent gets no duplicate from the same node.
/// Bounded: past <see cref="RemoteIngressOptions.MaxBatchesInFlight"/> held batches, new ones are refused.
/// </remarks>
public sealed class IngressReceptionist : ReceiveActor, IWithTimers
{
    /// <summary>Name of the actor under <c>/user</c>.</summary>
    public const string Name = RemoteIngressAddress.Name;

    /// <summary>What clients send to: <c>ClusterClient.Send(ServicePath, ...)</c>.</summary>
    public const string ServicePath = RemoteIngressAddress.Path;

    private readonly IngressAccept _accept;
    private readonly IngressContexts _contexts;
    private readonly IHeartbeatListener[] _listeners;
    private readonly RemoteIngressOptions _options;
    private readonly RemoteIngressMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<(string Client, string Source), SourceState> _sources = new();
    private int _held;
    private bool _stopping;

    public IngressReceptionist(IngressAccept accept, IngressContexts contexts, IEnumerable<IHeartbeatListener> listeners,
        RemoteIngressOptions options, RemoteIngressMetrics metrics, TimeProvider clock)
    {
        _accept = accept;
        _contexts = contexts;
        _listeners = listeners.ToArray();
        _options = options;
        _metrics = metrics;
        _clock = clock;
        Receive<EmitBatch>(OnBatch);
        Receive<Completed>(OnCompleted);
        Receive<Heartbeat>(OnHeartbeat);
        Receive<StopAccepting>(_ =>
        {
            _stopping = true;
            Sender.Tell(Done.Instance);
        });
        Receive<EvictIdle>(_ => Evict());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IngressAccept accept, IngressContexts contexts, IEnumerable<IHeartbeatListener> listeners,
        RemoteIngressOptions options, RemoteIngressMetrics metrics, TimeProvider clock) =>
        Akka.Actor.Props.Create(() => new IngressReceptionist(accept, contexts, listeners, options, metrics, clock));

    /// <summary>Tells the receptionist to refuse new batches (the node is stopping); batches it holds are still answered. Replies <see cref="Done"/>.</summary>
    public sealed class StopAccepting
    {
        public static readonly StopAccepting Instance = new();

        private StopAccepting() { }
    }

    protected override void PreStart()
    {
        var every = TimeSpan.FromTicks(Math.Min(_options.SourceIdleTimeout.Ticks / 2, TimeSpan.FromMinutes(1).Ticks));
        Timers.StartPeriodicTimer(EvictIdle.Instance, EvictIdle.Instance, every);
    }

    private void OnBatch(EmitBatch batch)
    {
        if (Invalid(batch) is { } problem)
        {
            _metrics.Refused();
            Sender.Tell(new EmitRefused(batch.SourceId, batch.BatchSeq, problem, TimeSpan.Zero, Permanent: true));
            return;
        }
        if (_stopping)
        {
            Refuse(Sender, batch, "the node is shutting down; send to another node", _options.RetryAfter);
            return;
        }

        var key = (batch.ClientId, batch.SourceId);
        if (!_sources.TryGetValue(key, out var state)) _sources[key] = state = new SourceState();
        state.LastTouched = Now;
        state.Durable = Math.Max(state.Durable, batch.FirstUnacked - 1);
        if (state.RefusedForGood.TryGetValue(batch.BatchSeq, out var why))
        {
            // Resent (its refusal was lost): refused again, never acknowledged as if it were durable.
            _metrics.Refused();
            Sender.Tell(new EmitRefused(batch.SourceId, batch.BatchSeq, why, TimeSpan.Zero, Permanent: true));
            return;
        }
        if (batch.BatchSeq <= state.Durable)
        {
            _metrics.Duplicate();
            Sender.Tell(new EmitAck(batch.SourceId, batch.BatchSeq, batch.Events.Count));
            return;
        }
        if (state.Find(batch.BatchSeq) is { } same)
        {
            same.Senders.Add(Sender); // resent while in flight: answer both, write once
            return;
        }

        var last = state.Waiting.Count > 0 ? state.Waiting.Last!.Value.Batch.BatchSeq : state.InFlight?.Batch.BatchSeq ?? state.Durable;
        if (batch.BatchSeq != last + 1)
        {
            Refuse(Sender, batch, $"out of order: batch {batch.BatchSeq} of {batch.SourceId} came before batch {last + 1}", TimeSpan.Zero);
            return;
        }
        if (state.InFlight is not null && state.Waiting.Count + 1 >= _options.MaxBatchesPerSource)
        {
            Refuse(Sender, batch, $"more than {_options.MaxBatchesPerSource} batches of {batch.SourceId} in flight", _options.RetryAfter);
            return;
        }
        if (_held >= _options.MaxBatchesInFlight)
        {
            Refuse(Sender, batch, $"the node holds {_held} batches (max-batches-in-flight); retry later", _options.RetryAfter);
            return;
        }

        var pending = new Pending(batch, [Sender]);
        _held++;
        _metrics.SetHeld(_held);
        if (state.InFlight is null) Submit(key, state, pending);
        else state.Waiting.AddLast(pending);
    }

    private string? Invalid(EmitBatch batch)
    {
        if (batch.Events.Count == 0) return "empty batch: a batch carries at least one event";
        if (batch.Events.Count > _options.MaxBatchEvents)
            return $"{batch.Events.Count} events in one batch; the limit is {_options.MaxBatchEvents} (nwdp.remote-ingress.max-batch-events)";
        if (batch.WireBytes > _options.MaxBatchBytes)
            return $"batch is {batch.WireBytes} bytes; the limit is {_options.MaxBatchBytes} (nwdp.remote-ingress.max-batch-bytes)";
        if (batch.BatchSeq < 1 || batch.FirstUnacked < 1 || batch.FirstUnacked > batch.BatchSeq)
            return $"bad batch numbers: batch {batch.BatchSeq}, first unacknowledged {batch.FirstUnacked}";
        if (string.IsNullOrEmpty(batch.ClientId) || string.IsNullOrEmpty(batch.SourceId)) return "batch without client or source id";
        return null;
    }

    private void Submit((string, string) key, SourceState state, Pending pending)
    {
        state.InFlight = pending;
        var batch = pending.Batch;
        var contexts = _contexts;
        var accept = _accept;
        var seq = batch.BatchSeq;
        // Stamping and encoding run off the actor, so sources do not wait for each other's; a source still has
        // one batch at a time in flight, which keeps its order (and its node-assigned sequence numbers).
        Task.Run(() =>
        {
            var context = contexts.For(null, LogEvent.DefaultProcess, "");
            var events = new LogEvent[batch.Events.Count];
            for (var i = 0; i < events.Length; i++) events[i] = context.Complete(batch.Events[i]);
            return accept(events, batch.Key, CancellationToken.None);
        }).PipeTo(Self,
            success: r => new Completed(key, seq, r.Outcome, r.Error),
            failure: e => new Completed(key, seq, IngressOutcome.Failed, e));
    }

    private void OnCompleted(Completed done)
    {
        if (!_sources.TryGetValue(done.Key, out var state) || state.InFlight?.Batch.BatchSeq != done.Seq) return;
        var pending = state.InFlight;
        state.InFlight = null;
        Release(1);
        var batch = pending.Batch;
        if (done.Outcome == IngressOutcome.Refused)
        {
            // The bus can never take it (an event larger than it accepts): refused for good, and the source goes on
            // with the batches after it, which must not wait for one that will never come.
            var reason = done.Error is EventTooLargeException tooLarge
                ? $"event {tooLarge.Index + 1} of batch {batch.BatchSeq}: {tooLarge.Message}"
                : "the bus refused the events permanently: " + (done.Error?.Message ?? "unknown error");
            _log.Warning("remote ingress: batch {0} of {1} refused: {2}", batch.BatchSeq, batch.SourceId, reason);
            _metrics.Refused();
            foreach (var sender in pending.Senders) sender.Tell(new EmitRefused(batch.SourceId, batch.BatchSeq, reason, TimeSpan.Zero, Permanent: true));
            state.Durable = Math.Max(state.Durable, batch.BatchSeq);
            state.RefusedForGood[batch.BatchSeq] = reason;
            Next(done.Key, state);
            return;
        }
        if (done.Outcome != IngressOutcome.Durable)
        {
            var reason = done.Outcome switch
            {
                IngressOutcome.Saturated => "the bus is saturated; retry later",
                IngressOutcome.Stopping => "the node is shutting down; send to another node",
                _ => "the bus did not acknowledge the events: " + (done.Error?.Message ?? "unknown error"),
            };
            foreach (var sender in pending.Senders) Refuse(sender, batch, reason, _options.RetryAfter);
            // Those behind it must not overtake it: refused too, the client sends them again in order.
            foreach (var waiting in state.Waiting)
                foreach (var sender in waiting.Senders)
                    Refuse(sender, waiting.Batch, $"batch {batch.BatchSeq} before it was refused: {reason}", _options.RetryAfter);
            Release(state.Waiting.Count);
            state.Waiting.Clear();
            return;
        }

        state.Durable = Math.Max(state.Durable, batch.BatchSeq);
        _metrics.Accepted(batch.Events.Count);
        foreach (var sender in pending.Senders) sender.Tell(new EmitAck(batch.SourceId, batch.BatchSeq, batch.Events.Count));
        Next(done.Key, state);
    }

    /// <summary>Submits the first batch waiting behind the one just settled (acknowledging those the client already knows durable).</summary>
    private void Next((string, string) key, SourceState state)
    {
        while (state.Waiting.First is { } first)
        {
            var next = first.Value;
            state.Waiting.RemoveFirst();
            if (next.Batch.BatchSeq <= state.Durable)
            {
                // The client learned from another node that it is durable (its FirstUnacked moved past it).
                Release(1);
                foreach (var sender in next.Senders) sender.Tell(new EmitAck(next.Batch.SourceId, next.Batch.BatchSeq, next.Batch.Events.Count));
                continue;
            }
            Submit(key, state, next);
            break;
        }
    }

    private void OnHeartbeat(Heartbeat heartbeat)
    {
        _metrics.Heartbeat();
        var beat = new SourceHeartbeat(heartbeat.Host, heartbeat.Process, heartbeat.TsMs, TimeSpan.FromMilliseconds(heartbeat.IntervalMs));
        foreach (var listener in _listeners)
        {
            try
            {
                listener.Heartbeat(beat);
            }
            catch (Exception e)
            {
                _log.Warning(e, "Heartbeat listener {0} failed", listener.GetType().Name);
            }
        }
    }

    private void Evict()
    {
        var before = Now - (long)_options.SourceIdleTimeout.TotalMilliseconds;
        foreach (var (key, state) in _sources.Where(kv => kv.Value.InFlight is null && kv.Value.LastTouched < before).ToList())
            _sources.Remove(key);
    }

    private void Refuse(IActorRef sender, EmitBatch batch, string reason, TimeSpan retryAfter)
    {
        _metrics.Refused();
        sender.Tell(new EmitRefused(batch.SourceId, batch.BatchSeq, reason, retryAfter, Permanent: false));
    }

    private void Release(int batches)
    {
        _held -= batches;
        _metrics.SetHeld(_held);
    }

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed record Pending(EmitBatch Batch, List<IActorRef> Senders);

    /// <summary>Per (client, source): what is durable, the batch in flight, and the batches waiting behind it in order.</summary>
    private sealed class SourceState
    {
        public long Durable;
        public Pending? InFlight;
        public readonly LinkedList<Pending> Waiting = new();
        public long LastTouched;

        /// <summary>Batches settled by a permanent refusal (at or below <see cref="Durable"/>, yet not durable), with the reason.</summary>
        public readonly Dictionary<long, string> RefusedForGood = new();

        public Pending? Find(long seq)
        {
            if (InFlight?.Batch.BatchSeq == seq) return InFlight;
            foreach (var p in Waiting)
                if (p.Batch.BatchSeq == seq) return p;
            return null;
        }
    }

    private sealed record Completed((string, string) Key, long Seq, IngressOutcome Outcome, Exception? Error);

    private sealed class EvictIdle
    {
        public static readonly EvictIdle Instance = new();
    }
}

/// <summary>Counters of the Akka-remote ingress on this node.</summary>
public sealed class RemoteIngressMetrics
{
    private long _batchesAccepted;
    private long _eventsAccepted;
    private long _batchesRefused;
    private long _batchesDuplicate;
    private long _heartbeats;
    private long _held;

    /// <summary>Batches made durable.</summary>
    public long BatchesAccepted => Interlocked.Read(ref _batchesAccepted);

    public long EventsAccepted => Interlocked.Read(ref _eventsAccepted);

    /// <summary>Refusals sent (transient and permanent).</summary>
    public long BatchesRefused => Interlocked.Read(ref _batchesRefused);

    /// <summary>Batches acknowledged again without being written (resent after a lost ack).</summary>
    public long BatchesDuplicate => Interlocked.Read(ref _batchesDuplicate);

    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>Batches held now (in flight to the bus or waiting behind their source's earlier batch).</summary>
    public long Held => Interlocked.Read(ref _held);

    internal void Accepted(int events)
    {
        Interlocked.Increment(ref _batchesAccepted);
        Interlocked.Add(ref _eventsAccepted, events);
    }

    internal void Refused() => Interlocked.Increment(ref _batchesRefused);

    internal void Duplicate() => Interlocked.Increment(ref _batchesDuplicate);

    internal void Heartbeat() => Interlocked.Increment(ref _heartbeats);

    internal void SetHeld(int held) => Interlocked.Exchange(ref _held, held);
}
