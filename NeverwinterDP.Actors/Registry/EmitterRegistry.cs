using System.Text;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Registry;

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
    }

    public void Accepted(IReadOnlyList<LogEvent> events)
    {
        // Summed here, on the request's thread, so the actor gets one small message per batch and source.
        var summary = new Dictionary<(string Host, string Process), SourceActivity>();
        foreach (var e in events)
        {
            var key = (e.Host, e.Process);
            var bytes = Encoding.UTF8.GetByteCount(e.Message);
            if (!summary.TryGetValue(key, out var a))
            {
                summary[key] = new SourceActivity(SourceIdOf(e.Host, e.Process), e.Host, e.Process, e.SystemTs, e.SystemTs, e.Version,
                    new Dictionary<string, long> { [e.Type] = 1 }, 1, bytes, e.Lineage.SourceSeq);
                continue;
            }
            a.EventsByType[e.Type] = a.EventsByType.GetValueOrDefault(e.Type) + 1;
            summary[key] = a with
            {
                FirstSeenMs = Math.Min(a.FirstSeenMs, e.SystemTs),
                LastSeenMs = Math.Max(a.LastSeenMs, e.SystemTs),
                Version = string.IsNullOrEmpty(e.Version) ? a.Version : e.Version,
                Events = a.Events + 1,
                Bytes = a.Bytes + bytes,
                LastSourceSeq = Math.Max(a.LastSourceSeq, e.Lineage.SourceSeq),
            };
        }
        foreach (var a in summary.Values) _aggregator.Tell(a);
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

    private async Task<List<string>> EntityIdsAsync(string typeName, CancellationToken cancellation)
    {
        var journal = PersistenceQuery.Get(_system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var prefix = typeName + "|";
        return (await journal.CurrentPersistenceIds()
                .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
                .Select(id => id[prefix.Length..])
                .RunWith(Sink.Seq<string>(), _system.Materializer())
                .WaitAsync(cancellation)
                .ConfigureAwait(false))
            .Distinct()
            .ToList();
    }

    private async Task<List<object>> AskAllAsync(List<string> ids, Func<string, IRegistryEnvelope> query, CancellationToken cancellation, bool watchdog = false)
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
            Receive<SourceActivity>(a =>
            {
                if (!_pending.TryGetValue(a.SourceId, out var sum))
                {
                    _pending[a.SourceId] = a with { EventsByType = new Dictionary<string, long>(a.EventsByType) };
                    return;
                }
                foreach (var (type, n) in a.EventsByType) sum.EventsByType[type] = sum.EventsByType.GetValueOrDefault(type) + n;
                _pending[a.SourceId] = sum with
                {
                    FirstSeenMs = Math.Min(sum.FirstSeenMs, a.FirstSeenMs),
                    LastSeenMs = Math.Max(sum.LastSeenMs, a.LastSeenMs),
                    Version = string.IsNullOrEmpty(a.Version) ? sum.Version : a.Version,
                    Events = sum.Events + a.Events,
                    Bytes = sum.Bytes + a.Bytes,
                    LastSourceSeq = Math.Max(sum.LastSourceSeq, a.LastSourceSeq),
                };
            });
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
