using System.Text.Json;
using Confluent.Kafka;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Clustering;

/// <summary>The emitter registry and the watchdog: fed by ingress and heartbeats, persisted, surviving a restart.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RegistrySpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string> Fast(Dictionary<string, string>? more = null)
    {
        var d = new Dictionary<string, string>
        {
            ["nwdp.registry.flush-interval"] = "100ms",
            ["nwdp.watchdog.check-interval"] = "100ms",
            ["nwdp.watchdog.offline-after"] = "30s",
        };
        foreach (var (k, v) in more ?? new()) d[k] = v;
        return d;
    }

    [Fact]
    public Task Sources_and_hosts_survive_a_restart_with_sqlite() => SurviveRestartAsync(new());

    [Fact]
    public async Task Sources_and_hosts_survive_a_restart_with_postgresql()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await SurviveRestartAsync(new()
        {
            ["nwdp.persistence.provider"] = "postgresql",
            ["nwdp.persistence.connection-string"] = db.ConnectionString,
        });
    }

    [Fact]
    public async Task Sources_and_hosts_survive_a_restart_with_mariadb()
    {
        // The journal on MySQL/MariaDB (provider mysql, "mariadb" accepted as its name): tables made at first use.
        await using var db = await MariaDbDatabase.CreateAsync();
        await SurviveRestartAsync(new()
        {
            ["nwdp.persistence.provider"] = "mariadb",
            ["nwdp.persistence.connection-string"] = db.ConnectionString,
        });
    }

    private async Task SurviveRestartAsync(Dictionary<string, string> persistence)
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        var lines = new List<string>();
        for (var i = 0; i < 30; i++)
            lines.Add(JsonSerializer.Serialize(new { host = "web-1", process = "nginx", type = i % 3 == 0 ? "access" : "error", version = "1.25", msg = $"line {i}" }));
        for (var i = 0; i < 12; i++)
            lines.Add(JsonSerializer.Serialize(new { host = "db-1", process = "postgres", type = "slowlog", msg = $"query {i}" }));

        await using (var node = await InProcessNode.StartAsync(dir.Path, clock, Fast(persistence)))
        {
            var response = await node.PostNdjsonAsync(lines);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            node.Registry.Heartbeat(new SourceHeartbeat("batch-7", "agent", clock.GetUtcNow().ToUnixTimeMilliseconds(), TimeSpan.FromSeconds(5)));
            await node.Registry.FlushAsync();

            await Wait.UntilAsync(async () => (await node.Registry.SourcesAsync(default)).Count == 2 && (await node.Registry.HostsAsync(default)).Count == 3,
                TimeSpan.FromSeconds(30));
            await AssertRegistryAsync(node.Registry, online: true);
        }

        // Same data directory (SQLite) or database (PostgreSQL): the state is read back from the journal.
        await using (var node = await InProcessNode.StartAsync(dir.Path, clock, Fast(persistence)))
        {
            await Wait.UntilAsync(async () => (await node.Registry.HostsAsync(default)).Count == 3, TimeSpan.FromSeconds(30));
            await AssertRegistryAsync(node.Registry, online: true);

            // The remembered watchdog entities run again after the restart: past the deadline, every host goes offline
            // without any new message reaching them, and the transitions are published on nwdp.watchdog.
            clock.Advance(TimeSpan.FromMinutes(2));
            await Wait.UntilAsync(async () => (await node.Registry.HostsAsync(default)).All(h => !h.Online), TimeSpan.FromSeconds(30));
            await AssertRegistryAsync(node.Registry, online: false);

            var transitions = ReadWatchdogTopic(node.Bus.BootstrapServers, expected: 3);
            Assert.Equal(["batch-7", "db-1", "web-1"], transitions.Where(t => !t.Online).Select(t => t.Host).Order());
        }
    }

    private async Task AssertRegistryAsync(EmitterRegistry registry, bool online)
    {
        var sources = await registry.SourcesAsync(default);
        foreach (var s in sources) output.WriteLine($"{s.SourceId} events={s.Events} types={string.Join(",", s.EventsByType.Select(kv => kv.Key + "=" + kv.Value))}");
        var web = Assert.Single(sources, s => s.SourceId == "web-1/nginx");
        Assert.Equal(30, web.Events);
        Assert.Equal(10, web.EventsByType["access"]);
        Assert.Equal(20, web.EventsByType["error"]);
        Assert.Equal("1.25", web.Version);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), web.FirstSeenMs);
        Assert.True(web.Bytes >= 30 * "line 0".Length);
        var db = Assert.Single(sources, s => s.SourceId == "db-1/postgres");
        Assert.Equal(12, db.Events);
        Assert.Equal(12, db.EventsByType["slowlog"]);

        var hosts = await registry.HostsAsync(default);
        Assert.Equal(["batch-7", "db-1", "web-1"], hosts.Select(h => h.Host));
        Assert.All(hosts, h => Assert.Equal(online, h.Online));
        Assert.Equal(["agent"], hosts[0].Processes);
    }

    private static List<(string Host, bool Online)> ReadWatchdogTopic(string bootstrap, int expected)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "test-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(TopicNames.Watchdog);
        var seen = new List<(string, bool)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (seen.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is null) continue;
            using var doc = JsonDocument.Parse(r.Message.Value);
            seen.Add((doc.RootElement.GetProperty("host").GetString()!, doc.RootElement.GetProperty("online").GetBoolean()));
        }
        consumer.Close();
        return seen;
    }
}
