using Akka.Actor;
using Akka.Event;
using LogEvent = NeverwinterDP.Protocol.LogEvent;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Emitter;

/// <summary>
/// The node's door to the emitter registry and the watchdog. Ingress reports each durable batch here; a local
/// actor sums the batches per source and, every <c>flush-interval</c>, sends one <see cref="SourceActivity"/>
/// per source to its emitter entity and one <see cref="HostBeat"/> per host to the watchdog (so the registry's
/// cost does not grow with the event rate). Heartbeats go straight to the watchdog. Queries list the entities
/// from the journal (persistence ids), so they see every source ever registered, running or not.
/// </summary>
public sealed class EmitterRegistry : IIngressObserver, IHeartbeatListener, IRegistryQueries
{
    private readonly ActorSystem _system;
    private readonly IActorRef _emitters;
    private readonly IActorRef _watchdogs;
    private readonly IActorRef _aggregator;
    private readonly TimeSpan _askTimeout;
    private readonly SourceTallies _tallies = new();

    /// <param name="resendAfter">How long a source's report waits for its emitter's acknowledgement before it is sent
    /// again (default: five flush intervals, at least 3 s).</param>
    public EmitterRegistry(ActorSystem system, IActorRef emitters, IActorRef watchdogs, TimeSpan flushInterval, TimeSpan defaultBeatInterval, TimeSpan? askTimeout = null,
        TimeSpan? resendAfter = null)
    {
        _system = system;
        _emitters = emitters;
        _watchdogs = watchdogs;
        _askTimeout = askTimeout ?? TimeSpan.FromSeconds(10);
        var resend = resendAfter ?? TimeSpan.FromTicks(Math.Max(flushInterval.Ticks * 5, TimeSpan.FromSeconds(3).Ticks));
        _aggregator = system.ActorOf(Props.Create(() => new ActivityAggregator(_tallies, emitters, watchdogs, flushInterval, (long)defaultBeatInterval.TotalMilliseconds, resend)),
            "emitter-registry");
        // The last counts go out once ingress has stopped (the phase after the host stopped its data path) and
        // before the regions hand off.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "nwdp-registry-flush", async () =>
        {
            try
            {
                await FlushAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                system.Log.Warning("The emitter registry's last counts were not sent: {0}", e.Message);
            }
            return Akka.Done.Instance;
        });
    }

    /// <remarks>Summed in <see cref="SourceTallies"/> on the request's thread; the aggregator sends one activity per source and flush.</remarks>
    public void Accepted(IReadOnlyList<LogEvent> events) => _tallies.Add(events);

    public void Heartbeat(SourceHeartbeat heartbeat) =>
        _watchdogs.Tell(new HostBeat(heartbeat.Host, heartbeat.Process, heartbeat.TsMs, (long)(heartbeat.Interval ?? TimeSpan.Zero).TotalMilliseconds, IsHeartbeat: true));

    /// <summary>Sends what is summed so far now (tests, shutdown).</summary>
    public Task FlushAsync() => _aggregator.Ask<Akka.Done>(ActivityAggregator.Flush.Instance, _askTimeout);

    public static string SourceIdOf(string host, string process) => host + "/" + process;

    public async Task<RegistryListing<SourceInfo>> ListSourcesAsync(CancellationToken cancellation)
    {
        var ids = await EntityIdsAsync(EmitterEntity.TypeName, cancellation).ConfigureAwait(false);
        var (answers, unavailable) = await AskAllAsync(ids, id => new GetSource(id), cancellation).ConfigureAwait(false);
        return new(answers.OfType<SourceInfo>().OrderBy(s => s.SourceId, StringComparer.Ordinal).ToList(), unavailable);
    }

    public async Task<RegistryListing<HostStatus>> ListHostsAsync(CancellationToken cancellation)
    {
        var ids = await EntityIdsAsync(WatchdogEntity.TypeName, cancellation).ConfigureAwait(false);
        var (answers, unavailable) = await AskAllAsync(ids, id => new GetHostStatus(id), cancellation, watchdog: true).ConfigureAwait(false);
        return new(answers.OfType<HostStatus>().OrderBy(h => h.Host, StringComparer.Ordinal).ToList(), unavailable);
    }

    private Task<IReadOnlyList<string>> EntityIdsAsync(string typeName, CancellationToken cancellation) =>
        PersistentEntities.IdsAsync(_system, typeName, cancellation);

    /// <summary>
    /// Asks each entity; one that does not answer within the ask timeout is listed as unavailable, not an error of the
    /// whole. The first entity of every shard is asked first: a shard has one home, so once one of its entities timed
    /// out (its member crashed and is not removed yet) the others are listed unavailable without waiting for them too,
    /// and a listing costs at most one timeout per round of shards, not one per chunk of entities.
    /// </summary>
    private async Task<(List<object> Answers, List<string> Unavailable)> AskAllAsync(IReadOnlyList<string> ids, Func<string, IShardedMessage> query,
        CancellationToken cancellation, bool watchdog = false)
    {
        var region = watchdog ? _watchdogs : _emitters;
        var results = new List<object>(ids.Count);
        var unavailable = new List<string>();
        var shardOf = ids.ToDictionary(id => id, id => Shards.ShardId(id), StringComparer.Ordinal);
        // Rounds: the first entity of every shard, then the second, ...; a chunk never holds two entities of one shard.
        var rounds = ids.GroupBy(id => shardOf[id], StringComparer.Ordinal)
            .SelectMany(shard => shard.Select((id, round) => (id, round)))
            .GroupBy(x => x.round).OrderBy(g => g.Key).Select(g => g.Select(x => x.id).ToList());
        var silentShards = new HashSet<string>(StringComparer.Ordinal);
        // A few at a time: a query must not flood the cluster with entity recoveries.
        foreach (var chunk in rounds.SelectMany(round => round.Chunk(32)))
        {
            var asked = chunk.Where(id => !silentShards.Contains(shardOf[id])).ToArray();
            unavailable.AddRange(chunk.Where(id => silentShards.Contains(shardOf[id])));
            var asks = asked.Select(id => region.Ask<object>(query(id), _askTimeout, cancellation)).ToArray();
            try
            {
                await Task.WhenAll(asks).ConfigureAwait(false);
            }
            catch (AskTimeoutException) when (!cancellation.IsCancellationRequested)
            {
                // Some did not answer: sorted out below.
            }
            for (var i = 0; i < asked.Length; i++)
            {
                if (asks[i].IsCompletedSuccessfully) results.Add(asks[i].Result);
                else if (asks[i].Exception?.InnerException is AskTimeoutException)
                {
                    unavailable.Add(asked[i]);
                    silentShards.Add(shardOf[asked[i]]);
                }
                else await asks[i].ConfigureAwait(false); // another failure: the caller's
            }
        }
        unavailable.Sort(StringComparer.Ordinal);
        return (results, unavailable);
    }

    private static readonly EntityMessageExtractor Shards = new(EntityShards.Count);

    /// <summary>
    /// Every flush interval (and on <see cref="FlushAsync"/>), sends what the tallies summed per source. Reports are
    /// acknowledged: one per source is outstanding at a time, what comes meanwhile is summed into the next, and an
    /// outstanding report is sent again (same <see cref="SourceActivity.ReportSeq"/>) until its emitter answers. A
    /// report told to a node that died before its removal is lost in transit, and the counts of the events accepted
    /// then would be missing from <c>nwdp sources</c>; sent again, it reaches the entity on its new node, which applies
    /// it once.
    /// </summary>
    private sealed class ActivityAggregator : ReceiveActor, IWithTimers
    {
        public sealed class Flush
        {
            public static readonly Flush Instance = new();
        }

        private sealed class Tick
        {
            public static readonly Tick Instance = new();
        }

        /// <summary>A source's report on its way and the sums that wait for its acknowledgement.</summary>
        private sealed class Pending(SourceActivity outstanding, DateTime sentAt)
        {
            public SourceActivity Outstanding = outstanding;
            public DateTime SentAt = sentAt;
            public SourceActivity? Next;
        }

        private readonly string _reporter = Guid.NewGuid().ToString("N");
        private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
        private readonly List<IActorRef> _flushWaiters = new();
        private readonly IActorRef _emitters;
        private readonly TimeSpan _interval;
        private readonly TimeSpan _resendAfter;
        private long _seq;

        public ActivityAggregator(SourceTallies tallies, IActorRef emitters, IActorRef watchdogs, TimeSpan interval, long beatIntervalMs, TimeSpan resendAfter)
        {
            _emitters = emitters;
            _interval = interval;
            _resendAfter = resendAfter;
            Receive<Tick>(_ =>
            {
                Send(tallies, watchdogs, beatIntervalMs);
                ResendOverdue();
            });
            // Done once every report sent so far is acknowledged (shutdown: the last counts are with the entities
            // before the regions hand off); the caller's ask times out if an emitter cannot be reached.
            Receive<Flush>(_ =>
            {
                Send(tallies, watchdogs, beatIntervalMs);
                if (Sender.IsNobody()) return;
                if (_pending.Count == 0) Sender.Tell(Akka.Done.Instance);
                else _flushWaiters.Add(Sender);
            });
            Receive<SourceActivityAck>(OnAck);
        }

        public ITimerScheduler Timers { get; set; } = null!;

        // The node flushes once more on shutdown (FlushAsync), before the regions hand off.
        protected override void PreStart() => Timers.StartPeriodicTimer("flush", Tick.Instance, _interval);

        private void Send(SourceTallies tallies, IActorRef watchdogs, long beatIntervalMs)
        {
            foreach (var a in tallies.Drain())
            {
                watchdogs.Tell(new HostBeat(a.Host, a.Process, a.LastSeenMs, beatIntervalMs, IsHeartbeat: false));
                if (_pending.TryGetValue(a.SourceId, out var p)) p.Next = p.Next is null ? a : p.Next.Plus(a);
                else _pending[a.SourceId] = new Pending(Report(a), DateTime.UtcNow);
            }
        }

        private SourceActivity Report(SourceActivity sums)
        {
            var report = sums with { Reporter = _reporter, ReportSeq = ++_seq };
            _emitters.Tell(report, Self);
            return report;
        }

        private void ResendOverdue()
        {
            var now = DateTime.UtcNow;
            foreach (var p in _pending.Values)
            {
                if (now - p.SentAt < _resendAfter) continue;
                _emitters.Tell(p.Outstanding, Self);
                p.SentAt = now;
            }
        }

        private void OnAck(SourceActivityAck ack)
        {
            if (ack.Reporter != _reporter || !_pending.TryGetValue(ack.SourceId, out var p) || p.Outstanding.ReportSeq != ack.ReportSeq) return;
            if (p.Next is { } next)
            {
                p.Outstanding = Report(next);
                p.SentAt = DateTime.UtcNow;
                p.Next = null;
            }
            else _pending.Remove(ack.SourceId);
            if (_pending.Count == 0 && _flushWaiters.Count > 0)
            {
                foreach (var w in _flushWaiters) w.Tell(Akka.Done.Instance);
                _flushWaiters.Clear();
            }
        }
    }
}
