using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>
/// The cluster's one alert evaluator (a cluster singleton, <see cref="AlertsHosting"/>): every
/// <c>evaluation-interval</c> it reads the signals, runs the <see cref="AlertEvaluator"/>, and for each
/// transition journals it, logs it and hands it to the <see cref="WebhookSender"/>; once every webhook is done it
/// journals that too. The journal is the cluster's shared one (the one sharded entities already need), so the node
/// that takes over after a failover recovers the firing alerts (they do not fire again) and re-sends only the
/// notifications that were not delivered (at least once, never a second firing of the same alert).
/// </summary>
public sealed class AlertEvaluatorActor : ReceivePersistentActor, IWithTimers
{
    public const string Name = "nwdp-alerts";
    private const string TickTimer = "evaluate";
    private const int SnapshotEvery = 200;

    private readonly Func<AlertSettings> _reload;
    private readonly IAlertSignals _signals;
    private readonly TimeProvider _clock;
    private readonly HttpMessageHandler? _handler;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _self;
    private readonly AlertEvaluator _evaluator;
    private readonly Dictionary<string, AlertNotification> _firing = new(StringComparer.Ordinal);
    private readonly List<AlertNotification> _outbox = new();
    private AlertSettings _settings;
    private WebhookSender? _sender;
    private bool _reading;
    private long _evaluatedAtMs;
    private long _evaluations;
    private IReadOnlyDictionary<string, string> _errors = new Dictionary<string, string>();

    public AlertEvaluatorActor(AlertSettings settings, Func<AlertSettings> reload, IAlertSignals signals, TimeProvider clock, HttpMessageHandler? handler)
    {
        _settings = settings;
        _reload = reload;
        _signals = signals;
        _clock = clock;
        _handler = handler;
        _self = Cluster.Get(Context.System).SelfAddress.ToString();
        _evaluator = new AlertEvaluator(clock, _self);

        Recover<AlertFired>(Apply);
        Recover<AlertResolved>(Apply);
        Recover<AlertNotified>(Apply);
        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is not AlertsSnapshot s) return;
            foreach (var f in s.Firing) _firing[f.Key] = f;
            _outbox.AddRange(s.Outbox);
        });

        Command<Tick>(_ => Evaluate());
        Command<Read>(OnRead);
        Command<Delivered>(d =>
        {
            if (_outbox.Any(n => n.Id == d.Id)) Persist(new AlertNotified(d.Id), e => { Apply(e); MaybeSnapshot(); });
        });
        Command<GetAlerts>(_ => Sender.Tell(View()));
        Command<ReloadAlerts>(_ => Sender.Tell(Reload()));
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning("alerts: snapshot failed: {0}", f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("alerts: deleting old journal events failed: {0}", f.Cause.Message));
    }

    public override string PersistenceId => Name;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(AlertSettings settings, Func<AlertSettings> reload, IAlertSignals signals, TimeProvider clock, HttpMessageHandler? handler = null) =>
        Props.Create(() => new AlertEvaluatorActor(settings, reload, signals, clock, handler));

    protected override void OnReplaySuccess()
    {
        _evaluator.Restore(_firing.Values);
        _sender = NewSender(_settings);
        if (_firing.Count > 0 || _outbox.Count > 0)
            _log.Info("alerts: evaluator on {0} took over {1} firing alerts, re-sending {2} undelivered notifications", _self, _firing.Count, _outbox.Count);
        else
            _log.Info("alerts: evaluator on {0} started with {1} rules and {2} webhooks", _self, _settings.Rules.Count, _settings.Webhooks.Count);
        foreach (var n in _outbox) _sender.Send(n);
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, TimeSpan.Zero, _settings.EvaluationInterval);
    }

    protected override void PostStop()
    {
        // Undelivered notifications stay in the journal's outbox: the next evaluator sends them.
        _ = _sender?.DisposeAsync().AsTask();
        base.PostStop();
    }

    private void Evaluate()
    {
        if (_reading || !_settings.Enabled) return;
        _reading = true;
        var rules = _settings.Rules;
        _signals.ReadAsync(rules, CancellationToken.None).PipeTo(Self,
            success: r => new Read(rules, r),
            failure: e => new Read(rules, new AlertReading(new Dictionary<string, IReadOnlyList<AlertSample>>(),
                rules.ToDictionary(r => r.Name, _ => e.GetBaseException().Message))));
    }

    private void OnRead(Read read)
    {
        _reading = false;
        // A reload while reading: these values were read for the previous rules; the next tick reads for the new ones.
        if (!ReferenceEquals(read.Rules, _settings.Rules)) return;
        var rules = read.Rules;
        _evaluatedAtMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        _evaluations++;
        foreach (var (rule, error) in read.Reading.Errors)
            if (!_errors.TryGetValue(rule, out var old) || old != error) _log.Warning("alerts: rule {0}: cannot read its signal: {1}", rule, error);
        _errors = read.Reading.Errors;
        var transitions = _evaluator.Evaluate(rules, read.Reading);
        if (transitions.Count == 0) return;
        PersistAll(transitions.Select(n => n.Status == AlertStatus.Firing ? (object)new AlertFired(n) : new AlertResolved(n)), e =>
        {
            Apply(e);
            var n = e is AlertFired f ? f.Notification : ((AlertResolved)e).Notification;
            if (n.Status == AlertStatus.Firing) _log.Warning("alert {0}", WebhookPayloads.Summary(n));
            else _log.Info("alert {0}", WebhookPayloads.Summary(n));
            _sender!.Send(n);
            MaybeSnapshot();
        });
    }

    private void Apply(object e)
    {
        switch (e)
        {
            case AlertFired f:
                _firing[f.Notification.Key] = f.Notification;
                _outbox.Add(f.Notification);
                break;
            case AlertResolved r:
                _firing.Remove(r.Notification.Key);
                _outbox.Add(r.Notification);
                break;
            case AlertNotified d:
                _outbox.RemoveAll(n => n.Id == d.Id);
                break;
        }
    }

    private void MaybeSnapshot()
    {
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(new AlertsSnapshot(_firing.Values.ToList(), _outbox.ToList()));
    }

    private AlertsReloaded Reload()
    {
        AlertSettings next;
        try
        {
            next = _reload();
        }
        catch (Exception e)
        {
            _log.Error("alerts: reload refused, keeping the {0} rules in force: {1}", _settings.Rules.Count, e.Message);
            return new AlertsReloaded(false, e.Message, _settings.Rules.Count, _settings.Webhooks.Count, _self);
        }
        if (!next.Webhooks.SequenceEqual(_settings.Webhooks) || next.Notify != _settings.Notify)
        {
            var old = _sender;
            _sender = NewSender(next);
            _ = old?.CompleteAsync().ContinueWith(_ => old.DisposeAsync().AsTask(), TaskScheduler.Default);
        }
        if (next.EvaluationInterval != _settings.EvaluationInterval)
            Timers.StartPeriodicTimer(TickTimer, Tick.Instance, next.EvaluationInterval, next.EvaluationInterval);
        _settings = next;
        _log.Info("alerts: reloaded {0} rules and {1} webhooks", next.Rules.Count, next.Webhooks.Count);
        return new AlertsReloaded(true, null, next.Rules.Count, next.Webhooks.Count, _self);
    }

    private AlertsView View() => new(_self, _evaluatedAtMs, _evaluations,
        _settings.Rules.Select(r => new AlertRuleView(r.Name, r.Kind, r.Condition, r.For.TotalSeconds, r.Severity, r.Labels)).ToList(),
        _evaluator.Active(_settings.Rules), _settings.Webhooks.Select(w => $"{w.Name} ({w.Format})").ToList(), _outbox.Count, _errors);

    private WebhookSender NewSender(AlertSettings settings)
    {
        var self = Self;
        return new WebhookSender(settings.Webhooks, settings.Notify, id => self.Tell(new Delivered(id)), _log, _handler);
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Read(IReadOnlyList<AlertRule> Rules, AlertReading Reading);

    private sealed record Delivered(string Id);
}
