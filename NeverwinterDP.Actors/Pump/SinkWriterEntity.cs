using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Pump;

/// <summary>Keeps a sink writer running (sent by every node's keeper, so a writer whose shard moved starts again).</summary>
public sealed record EnsureSinkWriter(string EntityId) : INodeMessage
{
    public static string Manifest => "P1";
}

/// <summary>The sink-writer region's hand-off message: drain, flush, commit, leave the group, then stop.</summary>
public sealed record StopSinkWriter : INodeMessage
{
    public static string Manifest => "P2";

    public static readonly StopSinkWriter Instance = new();
}

/// <summary>The sinks this node can run, by instance name (built and validated from <c>nwdp.sinks</c> at start).</summary>
public interface ISinkCatalog
{
    /// <summary>Sink-writer entity ids: <c>&lt;sink&gt;/&lt;slot&gt;</c> for every sink and slot.</summary>
    IReadOnlyList<string> EntityIds { get; }

    /// <summary>A new sink instance and the pump options (topic filter included) for one writer.</summary>
    (ISink Sink, PumpOptions Options) Create(string sinkName);
}

/// <summary>The pumps running in this process (the ingress backlog guard and health read them).</summary>
public sealed class LocalPumps
{
    private readonly object _gate = new();
    private readonly List<DataPump> _pumps = new();

    public IReadOnlyList<DataPump> All
    {
        get { lock (_gate) return _pumps.ToList(); }
    }

    internal void Add(DataPump pump)
    {
        lock (_gate) _pumps.Add(pump);
    }

    internal void Remove(DataPump pump)
    {
        lock (_gate) _pumps.Remove(pump);
    }
}

/// <summary>What every sink writer on a node shares.</summary>
public sealed record SinkWriterContext(ISinkCatalog Catalog, ConsumerSettings<Ignore, byte[]> Consumer, IDeadLetterQueue DeadLetters, LocalPumps Pumps,
    IDeliveryObserver? Observer = null, Watermarks.WatermarkHub? Watermarks = null);

/// <summary>
/// One slice of the data pump for one sink (<c>&lt;sink&gt;/&lt;slot&gt;</c>), a sharded entity: a member of the
/// sink's consumer group running committable source → sink → commit. Kafka's group protocol splits the
/// sink's partitions among the writers; sharding spreads the writers over the nodes with the <c>pump</c> role.
/// When its shard moves (a node leaves, a rebalance), the region sends <see cref="StopSinkWriter"/>: the writer
/// drains what it read into the sink, flushes, commits and leaves the group before it stops, so the next owner
/// resumes exactly there (only records never committed are read again, and sinks absorb those idempotently).
/// </summary>
public sealed class SinkWriterEntity : ReceiveActor, IWithTimers
{
    public const string TypeName = "sink-writer";

    private readonly string _entityId;
    private readonly SinkWriterContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DataPump? _pump;
    private bool _stopped;

    public SinkWriterEntity(string entityId, SinkWriterContext context)
    {
        _entityId = entityId;
        _context = context;
        Starting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(string entityId, SinkWriterContext context) => Props.Create(() => new SinkWriterEntity(entityId, context));

    public static string SinkOf(string entityId) => entityId[..entityId.LastIndexOf('/')];

    protected override void PreStart() => Self.Tell(Start.Instance);

    private void Starting()
    {
        Receive<Start>(_ =>
        {
            try
            {
                var (sink, options) = _context.Catalog.Create(SinkOf(_entityId));
                _pump = new DataPump(Context.System, _context.Consumer, sink, options, _context.DeadLetters, _context.Observer, _context.Watermarks);
            }
            catch (Exception e)
            {
                _log.Error(e, "sink writer {0} cannot be built", _entityId);
                Timers.StartSingleTimer("retry", Start.Instance, TimeSpan.FromSeconds(5));
                return;
            }
            _pump.StartAsync(CancellationToken.None).PipeTo(Self, success: () => Started.Instance, failure: e => new StartFailed(e));
        });
        Receive<Started>(_ =>
        {
            _context.Pumps.Add(_pump!);
            _log.Info("sink writer {0} started on {1}", _entityId, Akka.Cluster.Cluster.Get(Context.System).SelfAddress);
            Become(Running);
        });
        Receive<StartFailed>(f =>
        {
            _log.Warning("sink writer {0} could not open its sink ({1}); retrying in 5 s", _entityId, f.Cause.GetBaseException().Message);
            var pump = _pump;
            _pump = null;
            pump?.StopAsync(TimeSpan.FromSeconds(5));
            Timers.StartSingleTimer("retry", Start.Instance, TimeSpan.FromSeconds(5));
        });
        Receive<EnsureSinkWriter>(_ => { });
        Receive<StopSinkWriter>(_ => StopPump());
    }

    private void Running()
    {
        Receive<EnsureSinkWriter>(_ => { });
        Receive<StopSinkWriter>(_ => StopPump());
    }

    private void StopPump()
    {
        var pump = _pump;
        if (pump is null)
        {
            Context.Stop(Self);
            return;
        }
        _log.Info("sink writer {0} handing off: draining and committing", _entityId);
        _context.Pumps.Remove(pump);
        Become(() =>
        {
            Receive<Stopped>(_ =>
            {
                _stopped = true;
                Context.Stop(Self);
            });
            ReceiveAny(_ => { });
        });
        pump.StopAsync().PipeTo(Self, success: () => Stopped.Instance, failure: _ => Stopped.Instance);
    }

    protected override void PostStop()
    {
        // Stopped without a hand-off (the actor system is terminating): stop the pump anyway, without waiting.
        if (_pump is { } pump && !_stopped)
        {
            _context.Pumps.Remove(pump);
            _ = pump.StopAsync(TimeSpan.FromSeconds(5));
        }
        base.PostStop();
    }

    private sealed class Start
    {
        public static readonly Start Instance = new();
    }

    private sealed class Started
    {
        public static readonly Started Instance = new();
    }

    private sealed record StartFailed(Exception Cause);

    private sealed class Stopped
    {
        public static readonly Stopped Instance = new();
    }
}

/// <summary>
/// Sends <see cref="EnsureSinkWriter"/> for every writer every few seconds (on every node): sharding starts a
/// writer where its shard lives, and again after its shard moved. (Remember-entities would do the same, with a
/// journal write per start; this needs none.)
/// </summary>
public sealed class SinkWriterKeeper : ReceiveActor, IWithTimers
{
    private readonly IReadOnlyList<string> _ids;
    private readonly IActorRef _region;
    private readonly TimeSpan _interval;

    public SinkWriterKeeper(IReadOnlyList<string> ids, IActorRef region, TimeSpan interval)
    {
        _ids = ids;
        _region = region;
        _interval = interval;
        Receive<Tick>(_ =>
        {
            foreach (var id in _ids) _region.Tell(new EnsureSinkWriter(id));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(IReadOnlyList<string> ids, IActorRef region, TimeSpan interval) => Props.Create(() => new SinkWriterKeeper(ids, region, interval));

    protected override void PreStart()
    {
        Self.Tell(Tick.Instance);
        Timers.StartPeriodicTimer("ensure", Tick.Instance, _interval);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
