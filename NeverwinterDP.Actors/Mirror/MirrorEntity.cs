using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>A message for one mirror entity, routed by its name.</summary>
public interface IMirrorMessage
{
    string Name { get; }
}

/// <summary>Keeps a mirror running (sent by every node's keeper, so a mirror whose shard moved starts again).</summary>
public sealed record EnsureMirror(string Name) : IMirrorMessage, INodeMessage
{
    public static string Manifest => "M1";
}

/// <summary>The mirror region's hand-off message: stop copying (the transaction under way is committed), then stop.</summary>
public sealed record StopMirror : INodeMessage
{
    public static string Manifest => "M2";

    public static readonly StopMirror Instance = new();
}

/// <summary>Pauses a mirror: the flag is written to the target first (it survives the entity moving), then copying stops. Answered with <see cref="MirrorState"/> or <see cref="MirrorCommandFailed"/>.</summary>
public sealed record PauseMirror(string Name) : IMirrorMessage, INodeMessage
{
    public static string Manifest => "M3";
}

/// <summary>Resumes a paused mirror (the flag cleared on the target, then copying starts). Answered like <see cref="PauseMirror"/>.</summary>
public sealed record ResumeMirror(string Name) : IMirrorMessage, INodeMessage
{
    public static string Manifest => "M4";
}

/// <summary>Asks a mirror entity where and how it runs; answered with <see cref="MirrorState"/>.</summary>
public sealed record GetMirrorState(string Name) : IMirrorMessage, INodeMessage
{
    public static string Manifest => "M5";
}

/// <summary>
/// A mirror as its entity sees it: the node it runs on, <see cref="State"/> (starting, running, paused, failed: stopped on
/// an error retrying cannot mend, started again after a while), and what it did since the entity started on that node.
/// </summary>
public sealed record MirrorState(string Name, string Node, string State, bool Paused, long Copied, long Skipped, long Transactions, long Aborts, string? LastError)
    : INodeMessage
{
    public static string Manifest => "M6";
}

/// <summary>A pause or resume that could not be done (the flag could not be written to the target).</summary>
public sealed record MirrorCommandFailed(string Name, string Error) : INodeMessage
{
    public static string Manifest => "M7";
}

/// <summary>Mirrors: one entity per mirror name, shards by hash (a handful of mirrors: where each lands matters little).</summary>
public sealed class MirrorMessageExtractor() : HashCodeMessageExtractor(100)
{
    public override string? EntityId(object message) => message is IMirrorMessage m ? m.Name : null;
}

/// <summary>One mirror entity's life on this node, for <c>/metrics</c>: its counters summed over the <see cref="KafkaMirror"/> runs it had.</summary>
public sealed class MirrorRun(string name)
{
    private readonly object _gate = new();
    private long _copied, _skipped, _transactions, _aborts;
    private KafkaMirror? _current;

    public string Name { get; } = name;

    public (long Copied, long Skipped, long Transactions, long Aborts) Counters
    {
        get
        {
            lock (_gate)
            {
                var s = _current?.Status;
                return (_copied + (s?.Mirrored ?? 0), _skipped + (s?.Skipped ?? 0), _transactions + (s?.Transactions ?? 0), _aborts + (s?.Aborts ?? 0));
            }
        }
    }

    internal void Attach(KafkaMirror mirror)
    {
        lock (_gate)
        {
            Detach();
            _current = mirror;
        }
    }

    /// <summary>The current run's counts join the totals (it stopped).</summary>
    internal void Detach()
    {
        lock (_gate)
        {
            if (_current is null) return;
            var s = _current.Status;
            (_copied, _skipped, _transactions, _aborts) = (_copied + s.Mirrored, _skipped + s.Skipped, _transactions + s.Transactions, _aborts + s.Aborts);
            _current = null;
        }
    }
}

/// <summary>The mirror entities running on this node (<c>/metrics</c> reads their counters).</summary>
public sealed class LocalMirrors
{
    private readonly ConcurrentDictionary<MirrorRun, byte> _runs = new(ReferenceEqualityComparer.Instance);

    public IReadOnlyList<MirrorRun> All => _runs.Keys.ToList();

    internal void Add(MirrorRun run) => _runs.TryAdd(run, 0);

    internal void Remove(MirrorRun run) => _runs.TryRemove(run, out _);
}

/// <summary>What every mirror entity on a node shares.</summary>
public sealed record MirrorContext(MirrorCatalog Catalog, LocalMirrors Local, TimeSpan RestartAfter);

/// <summary>
/// One configured mirror (<c>nwdp.mirrors.&lt;name&gt;</c>), a sharded entity: exactly one runs in the cluster, on a node
/// with the <c>pump</c> role, and it moves when that node leaves or dies. It runs <see cref="KafkaMirror"/> on a thread of
/// its own. At start it reads the mirror's pause flag from the target (<see cref="MirrorPauseFlag"/>) and copies only when
/// it is not set. On hand-off (<see cref="StopMirror"/>) and pause it stops the mirror, which commits the transaction
/// under way, before it answers or stops, so the next owner starts from committed positions; a new owner's transactional
/// producer (same id) also fences and aborts whatever an owner that died left open.
/// </summary>
public sealed class MirrorEntity : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    public const string TypeName = "mirror";

    private readonly string _name;
    private readonly MirrorContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MirrorRun _run;
    private KafkaMirror? _mirror;
    private CancellationTokenSource? _stop;
    private Task? _running;
    private int _generation;
    private bool _paused;
    private bool _failed;
    private string? _lastError;

    public MirrorEntity(string name, MirrorContext context)
    {
        _name = name;
        _context = context;
        _run = new MirrorRun(name);
        Starting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props PropsFor(string name, MirrorContext context) => Props.Create(() => new MirrorEntity(name, context));

    private MirrorDefinition Definition => _context.Catalog.Get(_name);

    protected override void PreStart()
    {
        _context.Local.Add(_run);
        Self.Tell(Start.Instance);
    }

    private void Starting()
    {
        Receive<Start>(_ =>
        {
            if (!_context.Catalog.Contains(_name))
            {
                _log.Warning("no mirror {0} is configured on this node: the entity stops", _name);
                Context.Stop(Self);
                return;
            }
            var mirror = Definition;
            Task.Run(() => MirrorPauseFlag.Read(mirror.Target, mirror.Options))
                .PipeTo(Self, success: paused => new FlagRead(paused), failure: e => new FlagFailed(e));
        });
        Receive<FlagRead>(f =>
        {
            _paused = f.Paused;
            _lastError = null;
            if (_paused) _log.Info("mirror {0} is paused (its flag on the target): not copying until resumed", _name);
            else StartMirror();
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<FlagFailed>(f =>
        {
            _lastError = $"reading the pause flag: {f.Cause.GetBaseException().Message}";
            _log.Warning("mirror {0}: {1}; again in {2}", _name, _lastError, _context.RestartAfter);
            Timers.StartSingleTimer("start", Start.Instance, _context.RestartAfter);
        });
        Receive<GetMirrorState>(_ => Sender.Tell(State("starting")));
        Receive<EnsureMirror>(_ => { });
        Receive<StopMirror>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<EnsureMirror>(_ => { });
        Receive<GetMirrorState>(_ => Sender.Tell(State()));
        Receive<PauseMirror>(_ =>
        {
            if (_paused)
            {
                Sender.Tell(State());
                return;
            }
            var replyTo = Sender;
            var mirror = Definition;
            var (stop, running) = (_stop, _running);
            Become(Busy);
            Task.Run(async () =>
            {
                MirrorPauseFlag.Write(mirror.Target, mirror.Options, paused: true);
                if (stop is not null && running is not null)
                {
                    stop.Cancel();
                    await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }).PipeTo(Self, success: () => new Paused(replyTo), failure: e => new CommandFailed(replyTo, e));
        });
        Receive<ResumeMirror>(_ =>
        {
            if (!_paused && _mirror is not null)
            {
                Sender.Tell(State());
                return;
            }
            var replyTo = Sender;
            var mirror = Definition;
            Become(Busy);
            Task.Run(() => MirrorPauseFlag.Write(mirror.Target, mirror.Options, paused: false))
                .PipeTo(Self, success: () => new Resumed(replyTo), failure: e => new CommandFailed(replyTo, e));
        });
        Receive<Ended>(e =>
        {
            if (e.Generation != _generation) return;
            MirrorStopped();
            if (e.Error is null) return;
            _failed = true;
            _lastError = e.Error.Message;
            _log.Error(e.Error, "mirror {0} stopped on an error retrying cannot mend; started again in {1}", _name, _context.RestartAfter);
            Timers.StartSingleTimer("restart", Restart.Instance, _context.RestartAfter);
        });
        Receive<Restart>(_ =>
        {
            if (!_paused && _mirror is null) StartMirror();
        });
        Receive<StopMirror>(_ => HandOff());
    }

    /// <summary>A pause or resume is writing its flag: other commands wait for it.</summary>
    private void Busy()
    {
        Receive<Paused>(p =>
        {
            _paused = true;
            if (_mirror is not null) MirrorStopped();
            _log.Info("mirror {0} paused", _name);
            p.ReplyTo.Tell(State());
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<Resumed>(r =>
        {
            _paused = false;
            if (_mirror is null) StartMirror();
            _log.Info("mirror {0} resumed", _name);
            r.ReplyTo.Tell(State());
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<CommandFailed>(f =>
        {
            var error = $"the pause flag could not be written to the target: {f.Cause.GetBaseException().Message}";
            _log.Warning("mirror {0}: {1}", _name, error);
            f.ReplyTo.Tell(new MirrorCommandFailed(_name, error));
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<GetMirrorState>(_ => Sender.Tell(State()));
        Receive<EnsureMirror>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    private void StartMirror()
    {
        var mirror = Definition;
        var log = _log;
        _stop = new CancellationTokenSource();
        _mirror = new KafkaMirror(mirror.Options, mirror.Source, mirror.Target, line => log.Info(line));
        _run.Attach(_mirror);
        _failed = false;
        var generation = ++_generation;
        // The consumer groups' offsets are translated alongside (nwdp.mirror.checkpoints); they stop with the mirror.
        var checkpoints = new MirrorCheckpoints(mirror.Options, mirror.Checkpoints, mirror.Source, mirror.Target, line => log.Info(line));
        _running = RunWithCheckpoints(_mirror.RunAsync(_stop.Token), checkpoints, _stop);
        _running.ContinueWith(t => new Ended(generation, t.Exception?.GetBaseException()), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
            .PipeTo(Self);
        _log.Info("mirror {0} started on {1}: {2} -> {3}", _name, Akka.Cluster.Cluster.Get(Context.System).SelfAddress, mirror.Source, mirror.Target);
    }

    /// <summary>The mirror's run, with its checkpoints beside it: when the mirror ends (stopped or failed) the checkpoints stop too.</summary>
    private static async Task RunWithCheckpoints(Task mirror, MirrorCheckpoints checkpoints, CancellationTokenSource stop)
    {
        var checkpointing = checkpoints.RunAsync(stop.Token);
        try
        {
            await mirror.ConfigureAwait(false);
        }
        finally
        {
            if (!stop.IsCancellationRequested) stop.Cancel();
            await checkpointing.ConfigureAwait(false);
        }
    }

    /// <summary>The mirror's task ended (or was stopped and waited for): its counts join the totals.</summary>
    private void MirrorStopped()
    {
        if (_mirror?.Status.LastError is { } error) _lastError = error;
        _run.Detach();
        _mirror = null;
        _stop?.Dispose();
        _stop = null;
        _running = null;
        _generation++; // a later Ended of that run is not this one's
    }

    private void HandOff()
    {
        if (_mirror is null || _stop is null)
        {
            Context.Stop(Self);
            return;
        }
        _log.Info("mirror {0} handing off: committing the transaction under way", _name);
        var generation = _generation;
        _stop.Cancel();
        Become(() =>
        {
            Receive<Ended>(e =>
            {
                if (e.Generation != generation) return;
                MirrorStopped();
                Context.Stop(Self);
            });
            Receive<GetMirrorState>(_ => Sender.Tell(State("stopping")));
            ReceiveAny(_ => { });
        });
    }

    private MirrorState State(string? state = null)
    {
        var (copied, skipped, transactions, aborts) = _run.Counters;
        state ??= _mirror is not null ? "running" : _paused ? "paused" : _failed ? "failed" : "starting";
        return new MirrorState(_name, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), state, _paused, copied, skipped, transactions, aborts,
            _mirror?.Status.LastError ?? _lastError);
    }

    protected override void PostStop()
    {
        // Stopped without a hand-off (the actor system is terminating): stop the mirror anyway, without waiting.
        if (_stop is { IsCancellationRequested: false } stop) stop.Cancel();
        _context.Local.Remove(_run);
        base.PostStop();
    }

    private sealed class Start
    {
        public static readonly Start Instance = new();
    }

    private sealed class Restart
    {
        public static readonly Restart Instance = new();
    }

    private sealed record FlagRead(bool Paused);

    private sealed record FlagFailed(Exception Cause);

    private sealed record Ended(int Generation, Exception? Error);

    private sealed record Paused(IActorRef ReplyTo);

    private sealed record Resumed(IActorRef ReplyTo);

    private sealed record CommandFailed(IActorRef ReplyTo, Exception Cause);
}

/// <summary>Sends <see cref="EnsureMirror"/> for every mirror every few seconds (on every node): sharding starts a mirror where its shard lives, and again after its shard moved.</summary>
public sealed class MirrorKeeper : ReceiveActor, IWithTimers
{
    public MirrorKeeper(IReadOnlyList<string> names, IActorRef region, TimeSpan interval)
    {
        Interval = interval;
        Receive<Tick>(_ =>
        {
            foreach (var name in names) region.Tell(new EnsureMirror(name));
        });
    }

    private TimeSpan Interval { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(IReadOnlyList<string> names, IActorRef region, TimeSpan interval) => Props.Create(() => new MirrorKeeper(names, region, interval));

    protected override void PreStart()
    {
        Self.Tell(Tick.Instance);
        Timers.StartPeriodicTimer("ensure", Tick.Instance, Interval);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
