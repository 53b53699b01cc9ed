using Akka.Actor;
using Akka.Configuration;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Alerts;

/// <summary>The evaluator actor: notifications once, journaled state that a restarted evaluator does not fire again, reload.</summary>
public sealed class AlertEvaluatorActorTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.remote.dot-netty.tcp.port = 0\nakka.loglevel = INFO")
        .WithFallback(ConfigurationFactory.ParseString(NodeMessageSerializer.Hocon)), output: output)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static AlertSettings Settings(string rules, Uri? webhook = null) => new(true, TimeSpan.FromMilliseconds(100),
        AlertRuleParser.Parse(ConfigurationFactory.ParseString(rules)),
        webhook is null ? [] : [new AlertWebhook("ops", webhook, "json")],
        new AlertNotifyOptions(100, 5, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10)));

    /// <summary>Signals the test sets: every rule reads the same lag of sink es.</summary>
    private sealed class Lag : IAlertSignals
    {
        public volatile int Reads;
        public double Value { get; set; }

        public Task<AlertReading> ReadAsync(IReadOnlyList<AlertRule> rules, CancellationToken cancellation)
        {
            Interlocked.Increment(ref Reads);
            IReadOnlyList<AlertSample> samples = [new AlertSample(new Dictionary<string, string> { ["sink"] = "es" }, Value)];
            return Task.FromResult(new AlertReading(rules.ToDictionary(r => r.Name, _ => samples), new Dictionary<string, string>()));
        }
    }

    private async Task EvaluatedAsync(IActorRef evaluator, int times)
    {
        var before = (await evaluator.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5))).Evaluations;
        await Wait.UntilAsync(async () => (await evaluator.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5))).Evaluations >= before + times, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_restarted_evaluator_recovers_the_firing_alert_from_the_journal_and_does_not_send_it_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var clock = new ManualClock(Start);
        var signals = new Lag { Value = 45 };
        var settings = Settings("lag { kind = sink-lag, above = 30s }", receiver.Url);
        var first = Sys.ActorOf(AlertEvaluatorActor.PropsFor(settings, () => settings, signals, clock));
        await Wait.UntilAsync(() => receiver.Delivered.Count == 1, TimeSpan.FromSeconds(20));
        await Wait.UntilAsync(async () => (await first.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5))).Undelivered == 0, TimeSpan.FromSeconds(20));
        Watch(first);
        first.Tell(PoisonPill.Instance);
        ExpectTerminated(first);

        var second = Sys.ActorOf(AlertEvaluatorActor.PropsFor(settings, () => settings, signals, clock));
        await EvaluatedAsync(second, 5);
        Assert.Single(receiver.Delivered);
        Assert.Equal(AlertStatus.Firing, Assert.Single((await second.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5))).Alerts).State);

        signals.Value = 1;
        await Wait.UntilAsync(() => receiver.Delivered.Count == 2, TimeSpan.FromSeconds(20));
        Assert.Equal(["firing", "resolved"], receiver.Delivered.Select(b => b.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_bad_reload_is_refused_naming_the_rule_and_field_and_the_previous_rules_stay()
    {
        var clock = new ManualClock(Start);
        var signals = new Lag { Value = 1 };
        var next = Settings("lag { kind = sink-lag, above = 30s }");
        Func<AlertSettings> reload = () => next;
        var evaluator = Sys.ActorOf(AlertEvaluatorActor.PropsFor(next, () => reload(), signals, clock));

        reload = () => Settings("lag { kind = sink-lag, above = soon }");
        var refused = await evaluator.Ask<AlertsReloaded>(ReloadAlerts.Instance, TimeSpan.FromSeconds(5));
        Assert.False(refused.Ok);
        Assert.StartsWith("nwdp.alerts.rules.lag.above must be a duration", refused.Error);
        Assert.Equal("lag of sinks > 30s", Assert.Single((await evaluator.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5))).Rules).Condition);

        reload = () => Settings("lag { kind = sink-lag, above = 2m }\nquiet { kind = silent, after = 10m }");
        var reloaded = await evaluator.Ask<AlertsReloaded>(ReloadAlerts.Instance, TimeSpan.FromSeconds(5));
        Assert.True(reloaded.Ok, reloaded.Error);
        Assert.Equal(2, reloaded.Rules);
        var view = await evaluator.Ask<AlertsView>(GetAlerts.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(["lag of sinks > 2m", "host silent for > 10m"], view.Rules.Select(r => r.Condition));
    }
}
