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

    public EmitterRegistry(ActorSystem system, IActorRef emitters, IActorRef watchdogs, TimeSpan flushInterval, TimeSpan defaultBeatInterval, TimeSpan? askTimeout = null)
    {
        _system = system;
        _emitters = emitters;
        _watchdogs = watchdogs;
        _askTimeout = askTimeout ?? TimeSpan.FromSeconds(10);
        _aggregator = system.ActorOf(Props.Create(() => new ActivityAggregator(_tallies, emitters, watchdogs, flushInterval, (long)defaultBeatInterval.TotalMilliseconds)), "emitter-registry");
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

    /// <summary>Every flush interval (and on <see cref="FlushAsync"/>), sends what the tallies summed per source.</summary>
    private sealed class ActivityAggregator : ReceiveActor, IWithTimers
    {
        public sealed class Flush
        {
            public static readonly Flush Instance = new();
        }

        public ActivityAggregator(SourceTallies tallies, IActorRef emitters, IActorRef watchdogs, TimeSpan interval, long beatIntervalMs)
        {
            Receive<Flush>(_ =>
            {
                foreach (var a in tallies.Drain())
                {
                    emitters.Tell(a);
                    watchdogs.Tell(new HostBeat(a.Host, a.Process, a.LastSeenMs, beatIntervalMs, IsHeartbeat: false));
                }
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
