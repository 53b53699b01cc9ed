using Akka.Actor;
using Akka.Persistence;

namespace NeverwinterDP.Actors.Watchdog;

/// <summary>How the watchdog decides a host is offline (HOCON <c>nwdp.watchdog</c>; every default in Watchdog/reference.conf).</summary>
public sealed record WatchdogOptions
{
    /// <summary><c>offline-after</c>: a host with no beat for this long (or 3 of its heartbeat intervals, if longer) is offline.</summary>
    public required TimeSpan OfflineAfter { get; init; }

    /// <summary><c>check-interval</c>: how often an entity compares the clock with its deadline.</summary>
    public required TimeSpan CheckInterval { get; init; }

    /// <summary><c>persist-beats-every</c>: beats are journaled at most this often per process (a restart loses at most this much).</summary>
    public required TimeSpan PersistBeatsEvery { get; init; }

    /// <summary>The clock (tests drive it by hand).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// One host under the watchdog, a sharded persistent entity (remembered, so its deadline keeps being checked
/// after a restart or a move): beats from heartbeats and accepted events keep it online; past its deadline it
/// goes offline. Transitions are journaled and published (<see cref="IWatchdogPublisher"/> → <c>nwdp.watchdog</c>).
/// </summary>
public sealed class WatchdogEntity : ReceivePersistentActor, IWithTimers
{
    public const string TypeName = "watchdog";
    private const string CheckTimer = "check";

    private readonly string _host;
    private readonly WatchdogOptions _options;
    private readonly IWatchdogPublisher _publisher;
    private readonly Dictionary<string, (long LastMs, long IntervalMs, long PersistedMs)> _processes = new();
    private bool _online;
    private long _changedAtMs;

    public WatchdogEntity(string host, WatchdogOptions options, IWatchdogPublisher publisher)
    {
        _host = host;
        _options = options;
        _publisher = publisher;
        PersistenceId = TypeName + "|" + host;

        Recover<HostBeatRecorded>(b => _processes[b.Process] = (b.TsMs, b.IntervalMs, b.TsMs));
        Recover<HostWentOnline>(e => (_online, _changedAtMs) = (true, e.AtMs));
        Recover<HostWentOffline>(e => (_online, _changedAtMs) = (false, e.AtMs));

        Command<HostBeat>(OnBeat);
        Command<CheckDeadline>(_ => Check());
        Command<GetHostStatus>(_ => Sender.Tell(_processes.Count == 0 ? new HostUnknown(_host) : Status()));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(string host, WatchdogOptions options, IWatchdogPublisher publisher) =>
        Props.Create(() => new WatchdogEntity(host, options, publisher));

    protected override void OnReplaySuccess()
    {
        Timers.StartPeriodicTimer(CheckTimer, CheckDeadline.Instance, _options.CheckInterval);
        base.OnReplaySuccess();
    }

    private long Now => _options.Clock.GetUtcNow().ToUnixTimeMilliseconds();

    private long LastBeatMs => _processes.Count == 0 ? 0 : _processes.Values.Max(p => p.LastMs);

    /// <summary>The latest moment any process of the host may beat again before the host is offline.</summary>
    private long DeadlineMs => _processes.Count == 0
        ? long.MaxValue
        : _processes.Values.Max(p => p.LastMs + Math.Max((long)_options.OfflineAfter.TotalMilliseconds, 3 * p.IntervalMs));

    private void OnBeat(HostBeat beat)
    {
        var known = _processes.TryGetValue(beat.Process, out var p);
        var last = Math.Max(known ? p.LastMs : 0, beat.TsMs);
        var interval = beat.IsHeartbeat || !known ? beat.IntervalMs : p.IntervalMs;
        var persisted = known ? p.PersistedMs : 0;
        if (!known || last - persisted >= (long)_options.PersistBeatsEvery.TotalMilliseconds || interval != p.IntervalMs)
        {
            _processes[beat.Process] = (last, interval, last);
            Persist(new HostBeatRecorded(beat.Process, last, interval), _ => { });
        }
        else
        {
            _processes[beat.Process] = (last, interval, persisted);
        }
        if (!_online && DeadlineMs > Now) Transition(online: true);
    }

    private void Check()
    {
        if (_online && Now > DeadlineMs) Transition(online: false);
    }

    private void Transition(bool online)
    {
        var at = Now;
        object evt = online ? new HostWentOnline(at) : new HostWentOffline(at, LastBeatMs);
        Persist(evt, _ =>
        {
            (_online, _changedAtMs) = (online, at);
            _publisher.Publish(new WatchdogTransition(_host, online, at, LastBeatMs, _processes.Keys.Order().ToList()));
        });
    }

    private HostStatus Status() => new(_host, _online, LastBeatMs, DeadlineMs, _changedAtMs, _processes.Keys.Order().ToList());

    private sealed class CheckDeadline
    {
        public static readonly CheckDeadline Instance = new();
    }
}
