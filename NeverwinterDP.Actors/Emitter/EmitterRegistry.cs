using System.Text;
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

    public EmitterRegistry(ActorSystem system, IActorRef emitters, IActorRef watchdogs, TimeSpan flushInterval, TimeSpan defaultBeatInterval, TimeSpan? askTimeout = null)
    {
        _system = system;
        _emitters = emitters;
        _watchdogs = watchdogs;
        _askTimeout = askTimeout ?? TimeSpan.FromSeconds(10);
        _aggregator = system.ActorOf(Props.Create(() => new ActivityAggregator(emitters, watchdogs, flushInterval, (long)defaultBeatInterval.TotalMilliseconds)), "emitter-registry");
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

    public void Accepted(IReadOnlyList<LogEvent> events)
    {
        // Summed here, on the request's thread, so the actor gets one small message per batch and source.
        foreach (var source in events.GroupBy(e => (e.Host, e.Process)))
        {
            var types = new Dictionary<string, long>();
            long bytes = 0, first = long.MaxValue, last = long.MinValue, seq = 0;
            var version = "";
            foreach (var e in source)
            {
                types[e.Type] = types.GetValueOrDefault(e.Type) + 1;
                bytes += Encoding.UTF8.GetByteCount(e.Message);
                first = Math.Min(first, e.SystemTs);
                last = Math.Max(last, e.SystemTs);
                if (!string.IsNullOrEmpty(e.Version)) version = e.Version;
                seq = Math.Max(seq, e.Lineage.SourceSeq);
            }
            var (host, process) = source.Key;
            _aggregator.Tell(new SourceActivity(SourceIdOf(host, process), host, process, first, last, version, types, types.Values.Sum(), bytes, seq));
        }
    }

    public void Heartbeat(SourceHeartbeat heartbeat) =>
        _watchdogs.Tell(new HostBeat(heartbeat.Host, heartbeat.Process, heartbeat.TsMs, (long)(heartbeat.Interval ?? TimeSpan.Zero).TotalMilliseconds, IsHeartbeat: true));

    /// <summary>Sends what is summed so far now (tests, shutdown).</summary>
    public Task FlushAsync() => _aggregator.Ask<Akka.Done>(ActivityAggregator.Flush.Instance, _askTimeout);

    public static string SourceIdOf(string host, string process) => host + "/" + process;

    public async Task<IReadOnlyList<SourceInfo>> SourcesAsync(CancellationToken cancellation)
    {
        var ids = await EntityIdsAsync(EmitterEntity.TypeName, cancellation).ConfigureAwait(false);
        var answers = await AskAllAsync(ids, id => new GetSource(id), cancellation).ConfigureAwait(false);
        return answers.OfType<SourceInfo>().OrderBy(s => s.SourceId, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<HostStatus>> HostsAsync(CancellationToken cancellation)
    {
        var ids = await EntityIdsAsync(WatchdogEntity.TypeName, cancellation).ConfigureAwait(false);
        var answers = await AskAllAsync(ids, id => new GetHostStatus(id), cancellation, watchdog: true).ConfigureAwait(false);
        return answers.OfType<HostStatus>().OrderBy(h => h.Host, StringComparer.Ordinal).ToList();
    }

    private Task<IReadOnlyList<string>> EntityIdsAsync(string typeName, CancellationToken cancellation) =>
        PersistentEntities.IdsAsync(_system, typeName, cancellation);

    private async Task<List<object>> AskAllAsync(IReadOnlyList<string> ids, Func<string, IShardedMessage> query, CancellationToken cancellation, bool watchdog = false)
    {
        var region = watchdog ? _watchdogs : _emitters;
        var results = new List<object>(ids.Count);
        // A few at a time: a query must not flood the cluster with entity recoveries.
        foreach (var chunk in ids.Chunk(32))
            results.AddRange(await Task.WhenAll(chunk.Select(id => region.Ask<object>(query(id), _askTimeout, cancellation))).ConfigureAwait(false));
        return results;
    }

    /// <summary>Sums activity per source between flushes.</summary>
    private sealed class ActivityAggregator : ReceiveActor, IWithTimers
    {
        public sealed class Flush
        {
            public static readonly Flush Instance = new();
        }

        private readonly Dictionary<string, SourceActivity> _pending = new();

        public ActivityAggregator(IActorRef emitters, IActorRef watchdogs, TimeSpan interval, long beatIntervalMs)
        {
            Receive<SourceActivity>(a => _pending[a.SourceId] = _pending.TryGetValue(a.SourceId, out var sum) ? sum.Plus(a) : a);
            Receive<Flush>(_ =>
            {
                foreach (var a in _pending.Values)
                {
                    emitters.Tell(a);
                    watchdogs.Tell(new HostBeat(a.Host, a.Process, a.LastSeenMs, beatIntervalMs, IsHeartbeat: false));
                }
                _pending.Clear();
                if (!Sender.IsNobody()) Sender.Tell(Akka.Done.Instance);
            });
            _interval = interval;
        }

        private readonly TimeSpan _interval;

        public ITimerScheduler Timers { get; set; } = null!;

        // The node flushes once more on shutdown (FlushAsync), before the regions hand off.
        protected override void PreStart() => Timers.StartPeriodicTimer("flush", Flush.Instance, _interval);
    }
}
