using Akka.Configuration;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Alerts;

/// <summary>The rules' state machine: pending for 'for', firing once, holding, resolving once.</summary>
public sealed class AlertEvaluatorTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static AlertRule Rule(string hocon, string name = "r") =>
        Assert.Single(AlertRuleParser.Parse(ConfigurationFactory.ParseString($"{name} {{ {hocon} }}")));

    private static AlertReading Reading(AlertRule rule, params (string Subject, double Value)[] samples) =>
        new(new Dictionary<string, IReadOnlyList<AlertSample>>
            {
                [rule.Name] = samples.Select(s => new AlertSample(s.Subject.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["sink"] = s.Subject }, s.Value)).ToList(),
            },
            new Dictionary<string, string>());

    [Fact]
    public void An_alert_fires_once_after_its_for_holds_while_the_condition_holds_and_resolves_once()
    {
        var clock = new ManualClock(Start);
        var evaluator = new AlertEvaluator(clock, "node-1");
        var rule = Rule("kind = sink-lag, above = 30s, for = 2m, severity = critical, labels { team = data }");
        var rules = new[] { rule };

        Assert.Empty(evaluator.Evaluate(rules, Reading(rule, ("es", 10))));
        clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Empty(evaluator.Evaluate(rules, Reading(rule, ("es", 45)))); // pending from here
        Assert.Equal(AlertStatus.Pending, Assert.Single(evaluator.Active(rules)).State);
        clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Empty(evaluator.Evaluate(rules, Reading(rule, ("es", 50)))); // 1 s short of 'for'
        clock.Advance(TimeSpan.FromSeconds(1));
        var fired = Assert.Single(evaluator.Evaluate(rules, Reading(rule, ("es", 60))));
        Assert.Equal(AlertStatus.Firing, fired.Status);
        Assert.Equal("r{sink=es}", fired.Key);
        Assert.Equal(60, fired.Value);
        Assert.Equal("critical", fired.Severity);
        Assert.Equal(new Dictionary<string, string> { ["alertname"] = "r", ["severity"] = "critical", ["sink"] = "es", ["team"] = "data" }, fired.Labels);
        Assert.Equal(Start.AddSeconds(15).ToUnixTimeMilliseconds(), fired.StartsAtMs);

        // Holding: no notification however long it lasts; the value follows.
        for (var i = 0; i < 10; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Empty(evaluator.Evaluate(rules, Reading(rule, ("es", 100 + i))));
        }
        Assert.Equal(109, Assert.Single(evaluator.Active(rules)).Value);

        clock.Advance(TimeSpan.FromSeconds(15));
        var resolved = Assert.Single(evaluator.Evaluate(rules, Reading(rule, ("es", 3))));
        Assert.Equal(AlertStatus.Resolved, resolved.Status);
        Assert.Equal(fired.Id, resolved.Id);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), resolved.EndsAtMs);
        Assert.Empty(evaluator.Evaluate(rules, Reading(rule, ("es", 3))));
        Assert.Empty(evaluator.Active(rules));
    }

    [Fact]
    public void A_condition_that_stops_holding_before_for_never_fires_and_starts_over()
    {
        var clock = new ManualClock(Start);
        var evaluator = new AlertEvaluator(clock, "node-1");
        var rule = Rule("kind = events-rate, type = web, below = 5, for = 1m");
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("", 1))));
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("", 8))));
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("", 1)))); // pending again, from now
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("", 1))));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AlertStatus.Firing, Assert.Single(evaluator.Evaluate([rule], Reading(rule, ("", 1)))).Status);
    }

    [Fact]
    public void Each_subject_fires_and_resolves_on_its_own_and_a_subject_that_disappears_resolves()
    {
        var clock = new ManualClock(Start);
        var evaluator = new AlertEvaluator(clock, "node-1");
        var rule = Rule("kind = sink-lag, above = 30s");
        var first = evaluator.Evaluate([rule], Reading(rule, ("es", 40), ("hdfs", 50), ("files", 1)));
        Assert.Equal(["r{sink=es}", "r{sink=hdfs}"], first.Select(n => n.Key).Order());
        var second = evaluator.Evaluate([rule], Reading(rule, ("hdfs", 50)));
        Assert.Equal(("r{sink=es}", AlertStatus.Resolved), (Assert.Single(second).Key, second[0].Status));
    }

    [Fact]
    public void A_signal_that_cannot_be_read_leaves_the_alerts_as_they_are_and_a_removed_rule_resolves()
    {
        var clock = new ManualClock(Start);
        var evaluator = new AlertEvaluator(clock, "node-1");
        var rule = Rule("kind = sink-lag, above = 30s");
        Assert.Single(evaluator.Evaluate([rule], Reading(rule, ("es", 40))));
        var failed = new AlertReading(new Dictionary<string, IReadOnlyList<AlertSample>>(), new Dictionary<string, string> { ["r"] = "kafka down" });
        Assert.Empty(evaluator.Evaluate([rule], failed));
        Assert.Equal(AlertStatus.Firing, Assert.Single(evaluator.Active([rule])).State);
        var resolved = Assert.Single(evaluator.Evaluate([], new AlertReading(new Dictionary<string, IReadOnlyList<AlertSample>>(), new Dictionary<string, string>())));
        Assert.Equal(AlertStatus.Resolved, resolved.Status);
    }

    [Fact]
    public void A_restored_firing_alert_does_not_fire_again_but_resolves()
    {
        var clock = new ManualClock(Start);
        var rule = Rule("kind = node-unreachable, for = 10s");
        var first = new AlertEvaluator(clock, "node-1");
        first.Evaluate([rule], Reading(rule));
        Assert.Empty(first.Evaluate([rule], new AlertReading(
            new Dictionary<string, IReadOnlyList<AlertSample>> { ["r"] = [new AlertSample(new Dictionary<string, string> { ["node"] = "akka.tcp://nwdp@h:1" }, 1)] },
            new Dictionary<string, string>())));
        clock.Advance(TimeSpan.FromSeconds(10));
        var fired = Assert.Single(first.Evaluate([rule], new AlertReading(
            new Dictionary<string, IReadOnlyList<AlertSample>> { ["r"] = [new AlertSample(new Dictionary<string, string> { ["node"] = "akka.tcp://nwdp@h:1" }, 1)] },
            new Dictionary<string, string>())));

        var takeover = new AlertEvaluator(clock, "node-2");
        takeover.Restore([fired]);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(takeover.Evaluate([rule], new AlertReading(
            new Dictionary<string, IReadOnlyList<AlertSample>> { ["r"] = [new AlertSample(new Dictionary<string, string> { ["node"] = "akka.tcp://nwdp@h:1" }, 1)] },
            new Dictionary<string, string>())));
        var resolved = Assert.Single(takeover.Evaluate([rule], Reading(rule)));
        Assert.Equal((AlertStatus.Resolved, fired.Id, "node-2"), (resolved.Status, resolved.Id, resolved.Evaluator));
    }

    [Fact]
    public void Dlq_growth_counts_letters_added_within_the_window()
    {
        var clock = new ManualClock(Start);
        var evaluator = new AlertEvaluator(clock, "node-1");
        var rule = Rule("kind = dlq-growth, above = 10, window = 5m");
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("es", 100)))); // the first sight is the baseline, however large
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("es", 105))));
        clock.Advance(TimeSpan.FromMinutes(1));
        var fired = Assert.Single(evaluator.Evaluate([rule], Reading(rule, ("es", 112))));
        Assert.Equal(12, fired.Value);
        // No new letters for longer than the window: growth falls to 0 and the alert resolves.
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            evaluator.Evaluate([rule], Reading(rule, ("es", 112)));
        }
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(evaluator.Evaluate([rule], Reading(rule, ("es", 112))));
        Assert.Empty(evaluator.Active([rule]));
    }

    [Theory]
    [InlineData("kind = lag, above = 1", "nwdp.alerts.rules.r.kind must be one of")]
    [InlineData("kind = sink-lag", "nwdp.alerts.rules.r.above is required")]
    [InlineData("kind = sink-lag, above = fast", "nwdp.alerts.rules.r.above must be a duration")]
    [InlineData("kind = events-rate, below = 5", "nwdp.alerts.rules.r.type is required")]
    [InlineData("kind = events-rate, type = web, below = x", "nwdp.alerts.rules.r.below must be a number")]
    [InlineData("kind = error-ratio, above = 2", "nwdp.alerts.rules.r.above must be a ratio")]
    [InlineData("kind = silent, above = 1", "nwdp.alerts.rules.r.above: a silent rule takes after")]
    [InlineData("kind = silent, after = 5m, of = disk", "nwdp.alerts.rules.r.of must be host or source")]
    [InlineData("kind = sink-lag, above = 30s, severity = page", "nwdp.alerts.rules.r.severity must be one of")]
    [InlineData("kind = sink-lag, above = 30s, for = soon", "nwdp.alerts.rules.r.for must be a duration")]
    [InlineData("kind = sink-lag, above = 30s, topic = x", "nwdp.alerts.rules.r.topic: a sink-lag rule takes sink")]
    [InlineData("kind = sink-lag, above = 30s, treshold = 1", "nwdp.alerts.rules.r.treshold: unknown field")]
    [InlineData("kind = events-rate, type = web, above = 1, window = 90s", "nwdp.alerts.rules.r.window must be whole minutes")]
    public void A_bad_rule_is_refused_naming_the_rule_and_the_field(string hocon, string expected)
    {
        var e = Assert.Throws<AlertConfigException>(() => Rule(hocon));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void The_reference_configuration_has_no_rules_and_reads()
    {
        var settings = AlertSettings.FromConfig(new NeverwinterDP.Actors.Configuration.ConfigReader(NeverwinterDP.Actors.Configuration.ReferenceConfig.Actors).Section("nwdp").Section("alerts"));
        Assert.Empty(settings.Rules);
        Assert.Empty(settings.Webhooks);
        Assert.True(settings.Enabled);
    }
}
