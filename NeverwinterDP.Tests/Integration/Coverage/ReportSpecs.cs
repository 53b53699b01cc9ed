using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Coverage;

/// <summary>Coverage and summary reports in a node: events posted over HTTP, nwdp report against exact counts, and the sketches' round trip through nwdp.coverage.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ReportSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 10, 20, 5, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Nwdp_report_matches_the_exact_counts_of_posted_events_within_the_stated_error()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        await using var node = await InProcessNode.StartAsync(dir.Path, clock, new Dictionary<string, string>
        {
            ["nwdp.coverage.publish-interval"] = "200ms",
            ["nwdp.stats.publish-interval"] = "100ms",
            ["nwdp.stats.grace"] = "5s",
            ["nwdp.sinks.files.fsync"] = "off",
        });

        // 3000 events of type web from 5 hosts: user from ~2000 values, a skewed status, latency in 5..1004, ref on
        // 30% of the events (a third of those empty), every 20th at level error.
        var random = new Random(7);
        var lines = new List<string>();
        var users = new HashSet<string>();
        var statuses = new Dictionary<string, long>();
        long bytes = 0, refs = 0, emptyRefs = 0;
        for (var i = 0; i < 3000; i++)
        {
            var userValue = "u" + random.Next(0, 2500);
            var status = random.NextDouble() < 0.7 ? "200" : random.NextDouble() < 0.5 ? "404" : "50" + random.Next(0, 4);
            var msg = $"GET /item/{i} {status}";
            var line = new Dictionary<string, string>
            {
                ["host"] = "h" + i % 5, ["process"] = "api", ["level"] = i % 20 == 0 ? "error" : "info", ["msg"] = msg,
                ["user"] = userValue, ["status"] = status, ["latency_ms"] = (5 + i % 1000).ToString(CultureInfo.InvariantCulture),
            };
            if (i % 10 < 3)
            {
                line["ref"] = i % 10 == 0 ? "" : "https://example.org/" + i % 7;
                refs++;
                if (i % 10 == 0) emptyRefs++;
            }
            users.Add(userValue);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            bytes += Encoding.UTF8.GetByteCount(msg);
            lines.Add(JsonSerializer.Serialize(line));
        }
        foreach (var chunk in lines.Chunk(500))
            Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(chunk, type: "web")).StatusCode);
        var collector = node.App.Services.GetRequiredService<CoverageCollector>();
        await Wait.UntilAsync(() => collector.Processed == 3000, Timeout, () => $"{collector.Processed} sketched");
        // Deliveries, not events: when the second sink writer joins, records the first delivered but had not committed yet
        // are delivered again by their new owner (at least once), so this can pass 3000 (4200 seen under load). The count
        // that must be exact is the durable one, at commit, asserted from nwdp.stats below.
        await Wait.UntilAsync(() => node.Pumps.Sum(p => p.SinkMetrics.Delivered) >= 3000, Timeout, () => $"{node.Pumps.Sum(p => p.SinkMetrics.Delivered)} delivered");
        // The minute closes, so the per-minute stats (the sinks' delivered counts) reach nwdp.stats.
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(5));
        var stats = node.App.Services.GetRequiredService<StatsStore>();
        await Wait.UntilAsync(() => stats.Audit(0).Any(r => r.Type == "web" && r.Sinks.Any(s => s.Delivered == 3000)), Timeout, () => "delivered counts not in the stats store yet");

        var summary = await JsonAsync(node, "summary", "--type", "web");
        Assert.Equal(3000, summary.GetProperty("events").GetInt64());
        Assert.Equal(bytes, summary.GetProperty("bytes").GetInt64());
        Assert.Equal(150, summary.GetProperty("errors").GetInt64());
        Assert.Equal(0.05, summary.GetProperty("error_ratio").GetDouble());
        Assert.Equal(5, summary.GetProperty("distinct_hosts").GetInt64());
        Assert.Equal(5, summary.GetProperty("distinct_sources").GetInt64());
        Assert.InRange(summary.GetProperty("distinct_error_pct").GetDouble(), 1.62, 1.63); // 1.04/sqrt(4096)
        Assert.Equal(0, summary.GetProperty("unsketched").GetInt64());
        Assert.Equal([node.NodeId], summary.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(3000, summary.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("events").GetInt64()));
        var files = summary.GetProperty("sinks").EnumerateArray().Single(s => s.GetProperty("sink").GetString() == "files");
        Assert.Equal(3000, files.GetProperty("delivered").GetInt64());

        var keys = (await JsonAsync(node, "keys", "--type", "web", "--since", "1h")).GetProperty("keys").EnumerateArray()
            .ToDictionary(k => k.GetProperty("key").GetString()!, k => (k.GetProperty("events").GetInt64(), k.GetProperty("share").GetDouble()));
        Assert.Equal((3000L, 1.0), keys["user"]);
        Assert.Equal((3000L, 1.0), keys["latency_ms"]);
        Assert.Equal((refs, refs / 3000.0), keys["ref"]);
        Assert.Equal(["latency_ms", "ref", "status", "user"], keys.Keys.Order(StringComparer.Ordinal));

        var sigma = HyperLogLog.StandardErrorOf(12);
        var user = (await JsonAsync(node, "values", "--type", "web", "--key", "user")).GetProperty("keys")[0];
        var distinct = user.GetProperty("distinct").GetInt64();
        output.WriteLine($"user: {users.Count} distinct, estimated {distinct}");
        Assert.InRange(distinct, users.Count * (1 - 3 * sigma), users.Count * (1 + 3 * sigma));
        var values = (await JsonAsync(node, "values", "--type", "web")).GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("key").GetString()!);
        Assert.Equal(5, values["latency_ms"].GetProperty("min").GetDouble());
        Assert.Equal(1004, values["latency_ms"].GetProperty("max").GetDouble());
        Assert.Equal(Math.Round((double)emptyRefs / refs, 6), values["ref"].GetProperty("empty_share").GetDouble());
        Assert.Equal(7 + 1, values["ref"].GetProperty("distinct").GetInt64()); // 7 URLs and the empty value, exact
        foreach (var top in values["status"].GetProperty("top").EnumerateArray())
        {
            var truth = statuses[top.GetProperty("value").GetString()!];
            Assert.InRange(truth, top.GetProperty("count").GetInt64() - top.GetProperty("max_over").GetInt64(), top.GetProperty("count").GetInt64());
        }
        Assert.Equal(statuses["200"], values["status"].GetProperty("top")[0].GetProperty("count").GetInt64());

        // The tables a person reads.
        var text = await Nwdp.RunAsync("report", "summary", "--node", node.AdminNode, "--type", "web");
        output.WriteLine(text.ToString());
        Assert.Equal(0, text.ExitCode);
        Assert.Contains(text.Lines, l => l == "events           3000");
        Assert.Contains(text.Lines, l => l.StartsWith("distinct hosts   ~5 ", StringComparison.Ordinal));
        text = await Nwdp.RunAsync("report", "values", "--node", node.AdminNode, "--type", "web");
        output.WriteLine(text.ToString());
        Assert.Contains(text.Lines, l => l.StartsWith("ref ", StringComparison.Ordinal) && l.Contains("=8", StringComparison.Ordinal));
        text = await Nwdp.RunAsync("report", "keys", "--node", node.AdminNode, "--type", "web");
        output.WriteLine(text.ToString());
        Assert.Contains(text.Lines, l => l.StartsWith("user ", StringComparison.Ordinal) && l.Contains("100.0%", StringComparison.Ordinal));

        // The cluster path: the node's sketch went through nwdp.coverage into its store, and merged from there it says the same.
        var store = node.App.Services.GetRequiredService<CoverageStore>();
        await Wait.UntilAsync(() => MergedFromTopic(store, node.Config.Coverage).Events == 3000, Timeout, () => $"{MergedFromTopic(store, node.Config.Coverage).Events} events on the topic");
        var fromTopic = MergedFromTopic(store, node.Config.Coverage);
        Assert.Equal(bytes, fromTopic.Bytes);
        Assert.Equal(distinct, fromTopic.Keys["user"].Distinct.Estimate());

        // Usage and unknown types.
        var unknown = await Nwdp.RunAsync("report", "summary", "--node", node.AdminNode, "--type", "nope");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("types seen: web", unknown.Stderr);
        Assert.Equal(2, (await Nwdp.RunAsync("report", "keys", "--node", node.AdminNode)).ExitCode);
    }

    [Fact]
    public async Task Either_of_two_nodes_answers_for_the_events_both_accepted_by_merging_the_other_nodes_published_sketches()
    {
        using var kafka = new NeverwinterDP.Actors.Kafka.Embedded.EmbeddedKafka(new NeverwinterDP.Actors.Kafka.Embedded.EmbeddedKafkaOptions { DefaultPartitions = 2 });
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        Directory.CreateDirectory(Path.Combine(dir.Path, "a"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "b"));
        Dictionary<string, string> Settings(bool pump) => new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.coverage.publish-interval"] = "200ms",
            ["nwdp.pump.enabled"] = pump ? "on" : "off",
            ["nwdp.sinks.files.fsync"] = "off",
        };
        await using var a = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a"), clock, Settings(pump: true));
        await using var b = await InProcessNode.StartAsync(Path.Combine(dir.Path, "b"), clock, Settings(pump: false));

        // a: 400 events, users u0..u399 from host ha; b: 600 events, users u200..u799 from host hb, every one at error.
        static IEnumerable<string> Lines(string host, int from, int count, string level) => Enumerable.Range(from, count).Select(i =>
            JsonSerializer.Serialize(new Dictionary<string, string> { ["host"] = host, ["level"] = level, ["msg"] = "m", ["user"] = "u" + i }));
        Assert.Equal(HttpStatusCode.OK, (await a.PostNdjsonAsync(Lines("ha", 0, 400, "info"), type: "app")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.PostNdjsonAsync(Lines("hb", 200, 600, "error"), type: "app")).StatusCode);

        foreach (var node in new[] { a, b })
        {
            await Wait.UntilAsync(async () =>
            {
                var o = await Nwdp.RunAsync("report", "summary", "--node", node.AdminNode, "--type", "app", "--json");
                return o.ExitCode == 0 && JsonDocument.Parse(o.Stdout).RootElement.GetProperty("events").GetInt64() == 1000;
            }, Timeout, () => $"{node.NodeId} does not answer for both nodes yet");
            var summary = await JsonAsync(node, "summary", "--type", "app");
            Assert.Equal(new[] { a.NodeId, b.NodeId }.Order(StringComparer.Ordinal), summary.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
            Assert.Equal(600, summary.GetProperty("errors").GetInt64());
            Assert.Equal(2, summary.GetProperty("distinct_hosts").GetInt64());
            var user = (await JsonAsync(node, "values", "--type", "app", "--key", "user")).GetProperty("keys")[0];
            var sigma = HyperLogLog.StandardErrorOf(12);
            Assert.InRange(user.GetProperty("distinct").GetInt64(), 800 * (1 - 3 * sigma), 800 * (1 + 3 * sigma)); // the union, not 400 + 600
            Assert.Equal(1000, user.GetProperty("events").GetInt64());
        }
    }

    private static CoverageSketch MergedFromTopic(CoverageStore store, CoverageOptions options)
    {
        var sketch = CoverageSketch.Empty("web", 0, options);
        store.MergeInto(sketch, "web", 0);
        return sketch;
    }

    private async Task<JsonElement> JsonAsync(InProcessNode node, string report, params string[] args)
    {
        var outcome = await Nwdp.RunAsync(["report", report, "--node", node.AdminNode, "--json", .. args]);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        output.WriteLine(outcome.Stdout);
        return JsonDocument.Parse(outcome.Stdout).RootElement.Clone();
    }
}
