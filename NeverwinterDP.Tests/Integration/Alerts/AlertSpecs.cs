using NeverwinterDP.Actors.Emitter;
using System.Text.Json;
using Akka.Cluster;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Tests.Alerts;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Alerts;

/// <summary>
/// Alerts in in-process nodes, against a real webhook receiver: a silent-host rule (the watchdog, driven by a
/// hand-moved clock) goes pending, fires after its 'for', holds, resolves; and when the evaluating node of a
/// 2-node cluster goes, the other takes over the singleton without sending the firing again.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AlertSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string> Settings(Dictionary<string, string>? more = null)
    {
        var d = new Dictionary<string, string>
        {
            ["nwdp.registry.flush-interval"] = "100ms",
            ["nwdp.watchdog.check-interval"] = "100ms",
            ["nwdp.watchdog.offline-after"] = "30s",
            ["nwdp.alerts.evaluation-interval"] = "200ms",
        };
        foreach (var (k, v) in more ?? new()) d[k] = v;
        return d;
    }

    private static string Rules(WebhookReceiver receiver) => $$"""
        nwdp.alerts {
          rules.quiet-web { kind = silent, of = host, host = web-1, after = 1m, for = 1m, severity = critical, labels { team = web } }
          webhooks.ops { url = "{{receiver.Url}}", format = json }
          notify { min-backoff = 50ms, max-backoff = 500ms }
        }
        """;

    private static async Task PostFromWeb1Async(InProcessNode node, string msg)
    {
        var response = await node.PostNdjsonAsync([JsonSerializer.Serialize(new { host = "web-1", process = "nginx", type = "access", msg })]);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static AlertsQueries Alerts(InProcessNode node) => node.App.Services.GetRequiredService<AlertsQueries>();

    private static int Count(WebhookReceiver receiver, string status) => receiver.Delivered.Count(b => b.GetProperty("status").GetString() == status);

    /// <summary>Waits until the evaluator (wherever it runs) evaluated again <paramref name="times"/> times.</summary>
    private static async Task EvaluationsAsync(InProcessNode node, int times)
    {
        var before = (await Alerts(node).ViewAsync(default)).Evaluations;
        await Wait.UntilAsync(async () => (await Alerts(node).ViewAsync(default)).Evaluations >= before + times, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_silent_host_goes_pending_fires_after_for_holds_and_resolves_once_each()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Failures = 1; // the first delivery is retried
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        await using var node = await InProcessNode.StartAsync(dir.Path, clock, Settings(), extraHocon: Rules(receiver));

        await PostFromWeb1Async(node, "hello");
        await Wait.UntilAsync(async () => (await node.Registry.HostsAsync(default)).Any(h => h.Host == "web-1"), TimeSpan.FromSeconds(30));

        clock.Advance(TimeSpan.FromMinutes(2)); // silent for 2m > 1m: pending
        await Wait.UntilAsync(async () => (await Alerts(node).ViewAsync(default)).Alerts.Any(a => a.State == AlertStatus.Pending), TimeSpan.FromSeconds(30));
        Assert.Equal(0, Count(receiver, "firing"));

        clock.Advance(TimeSpan.FromSeconds(61)); // 'for' is over
        await Wait.UntilAsync(() => Count(receiver, "firing") == 1, TimeSpan.FromSeconds(30));
        var fired = receiver.Delivered.Single();
        Assert.Equal("quiet-web{host=web-1}", fired.GetProperty("key").GetString());
        Assert.Equal("web", fired.GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal(Start.AddMinutes(2).ToUnixTimeMilliseconds(), DateTimeOffset.Parse(fired.GetProperty("startsAt").GetString()!).ToUnixTimeMilliseconds());

        // The admin API lists the rule and the firing alert (what nwdp alerts prints).
        using (var admin = node.AdminClient())
        {
            using var view = JsonDocument.Parse(await admin.GetStringAsync("/v1/alerts"));
            Assert.Equal("quiet-web", view.RootElement.GetProperty("rules")[0].GetProperty("name").GetString());
            var alert = Assert.Single(view.RootElement.GetProperty("alerts").EnumerateArray());
            Assert.Equal(("quiet-web{host=web-1}", "firing"), (alert.GetProperty("key").GetString(), alert.GetProperty("state").GetString()));
            using var reload = await admin.PostAsync("/v1/alerts/reload", null);
            Assert.True(reload.IsSuccessStatusCode, await reload.Content.ReadAsStringAsync());
        }
        var list = await Nwdp.RunAsync("alerts", "--node", node.AdminNode);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(list.Lines, l => l.StartsWith("quiet-web ", StringComparison.Ordinal) && l.Contains("host web-1 silent for > 1m", StringComparison.Ordinal));
        Assert.Contains(list.Lines, l => l.StartsWith("FIRING ", StringComparison.Ordinal) && l.Contains("quiet-web{host=web-1}", StringComparison.Ordinal));
        Assert.Contains(list.Lines, l => l.StartsWith("Alerts (1 firing, 0 pending)", StringComparison.Ordinal));
        var reloaded = await Nwdp.RunAsync("alerts", "reload", "--node", node.AdminNode);
        Assert.True(reloaded.ExitCode == 0, reloaded.ToString());
        Assert.Contains("1 rules, 1 webhooks", reloaded.Stdout);
        Assert.Equal(2, (await Nwdp.RunAsync("alerts", "restart", "--node", node.AdminNode)).ExitCode);

        // Held across many evaluations (and the reload): nothing more is sent.
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            await EvaluationsAsync(node, 2);
        }
        await Wait.UntilAsync(async () => (await Alerts(node).ViewAsync(default)).Undelivered == 0, TimeSpan.FromSeconds(30));
        Assert.Equal(1, Count(receiver, "firing"));

        await PostFromWeb1Async(node, "back");
        await Wait.UntilAsync(() => Count(receiver, "resolved") == 1, TimeSpan.FromSeconds(30));
        await EvaluationsAsync(node, 3);
        Assert.Equal((1, 1), (Count(receiver, "firing"), Count(receiver, "resolved")));
        Assert.Equal(2, receiver.Requests.Count(r => r.Status == 200));
        Assert.Empty((await Alerts(node).ViewAsync(default)).Alerts);
    }

    [Fact]
    public async Task When_the_evaluating_node_goes_the_other_takes_over_without_sending_the_firing_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var kafka = new EmbeddedKafka(new EmbeddedKafkaOptions { DefaultPartitions = 3 });
        using var root = new TempDir();
        var clock = new ManualClock(Start);
        // One journal both nodes see (one SQLite file on one machine): the evaluator's state survives its node.
        var shared = Settings(new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.persistence.connection-string"] = $"Data Source={Path.Combine(root.Path, "state.db")};Pooling=True",
        });
        var n1 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n1"), clock, shared, extraHocon: Rules(receiver));
        var n1Disposed = false;
        InProcessNode? n2 = null;
        try
        {
            n2 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n2"), clock, shared,
                extraHocon: Rules(receiver) + $"\nakka.cluster.seed-nodes = [\"{n1.Cluster.SelfAddress}\"]");
            await Wait.UntilAsync(() => n2.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(30));

            await PostFromWeb1Async(n2, "hello");
            await Wait.UntilAsync(async () => (await n2.Registry.HostsAsync(default)).Any(h => h.Host == "web-1"), TimeSpan.FromSeconds(30));
            clock.Advance(TimeSpan.FromMinutes(2));
            await Wait.UntilAsync(async () => (await Alerts(n2).ViewAsync(default)).Alerts.Any(a => a.State == AlertStatus.Pending), TimeSpan.FromSeconds(30));
            clock.Advance(TimeSpan.FromSeconds(61));
            await Wait.UntilAsync(() => Count(receiver, "firing") == 1, TimeSpan.FromSeconds(30));
            var before = await Alerts(n2).ViewAsync(default);
            Assert.Equal(n1.ClusterAddress, before.Evaluator); // the oldest node evaluates
            await Wait.UntilAsync(async () => (await Alerts(n2).ViewAsync(default)).Undelivered == 0, TimeSpan.FromSeconds(30));

            // The evaluating node goes; n2 takes over the singleton, recovers the firing alert from the journal.
            await n1.DisposeAsync();
            n1Disposed = true;
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    var v = await Alerts(n2).ViewAsync(default);
                    return v.Evaluator == n2.ClusterAddress && v.Evaluations > 0;
                }
                catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TaskCanceledException)
                {
                    return false; // between the two singletons
                }
            }, TimeSpan.FromSeconds(60));
            var after = await Alerts(n2).ViewAsync(default);
            output.WriteLine($"evaluator {before.Evaluator} -> {after.Evaluator}; alerts: {string.Join(", ", after.Alerts.Select(a => $"{a.Key} {a.State}"))}");
            Assert.Equal(AlertStatus.Firing, Assert.Single(after.Alerts).State);

            // Still silent, evaluated again and again by the new evaluator: no second firing.
            for (var i = 0; i < 3; i++)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await EvaluationsAsync(n2, 3);
            }
            Assert.Equal(1, Count(receiver, "firing"));

            // It resolves once, from the new evaluator.
            await PostFromWeb1Async(n2, "back");
            await Wait.UntilAsync(() => Count(receiver, "resolved") == 1, TimeSpan.FromSeconds(30));
            await EvaluationsAsync(n2, 3);
            Assert.Equal((1, 1), (Count(receiver, "firing"), Count(receiver, "resolved")));
            var resolved = receiver.Delivered.Single(b => b.GetProperty("status").GetString() == "resolved");
            Assert.Equal(n2.ClusterAddress, resolved.GetProperty("evaluator").GetString());
            Assert.Equal(receiver.Delivered.Single(b => b.GetProperty("status").GetString() == "firing").GetProperty("id").GetString(), resolved.GetProperty("id").GetString());
        }
        finally
        {
            if (n2 is not null) await n2.DisposeAsync();
            if (!n1Disposed) await n1.DisposeAsync();
        }
    }
}
