using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Host.Cli.Ops;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Stats;

/// <summary>Per-minute stats and the loss audit in a node: /metrics, the nwdp.stats topic, nwdp stats and nwdp audit.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class NodeStatsSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Minute0 = new(2026, 11, 28, 21, 18, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static Dictionary<string, string> Settings(Dictionary<string, string>? more = null)
    {
        var s = new Dictionary<string, string>
        {
            ["nwdp.stats.publish-interval"] = "100ms",
            ["nwdp.stats.grace"] = "5s",
            ["nwdp.stats.settle-time"] = "30s",
            ["nwdp.sinks.files.fsync"] = "off",
        };
        foreach (var (k, v) in more ?? new()) s[k] = v;
        return s;
    }

    private static string Line(string host, string process, string level, string msg, string? type = null) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["host"] = host, ["process"] = process, ["level"] = level, ["msg"] = msg }
            .Concat(type is null ? [] : [new KeyValuePair<string, string>("type", type)]).ToDictionary());

    private static int Utf8(string s) => Encoding.UTF8.GetByteCount(s);

    [Fact]
    public async Task A_known_mix_from_three_hosts_is_counted_exactly_in_metrics_on_the_topic_and_by_nwdp_stats_and_a_clean_run_audits_ok()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Minute0.AddSeconds(5));
        await using var node = await InProcessNode.StartAsync(dir.Path, clock, Settings());

        // h1/web: 4 info + 2 error; h2/db: 3 info + 1 crit; h3/agent: 2 heartbeat events, 1 fatal, and 2 heartbeats.
        const string info = "GET /ä 200"; // 11 UTF-8 bytes
        const string err = "boom"; // 4
        var h1 = Enumerable.Repeat(Line("h1", "web", "info", info), 4).Concat(Enumerable.Repeat(Line("h1", "web", "ERROR", err), 2)).ToList();
        var h2 = Enumerable.Repeat(Line("h2", "db", "info", info), 3).Append(Line("h2", "db", "crit", err)).ToList();
        var h3 = new List<string> { Line("h3", "agent", "info", "alive", "heartbeat"), Line("h3", "agent", "info", "alive", "heartbeat"), Line("h3", "agent", "fatal", "disk gone") };
        foreach (var batch in new[] { h1, h2 })
            Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(batch, type: "app")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(h3, type: "app")).StatusCode);
        foreach (var listener in node.App.Services.GetServices<IHeartbeatListener>())
            for (var i = 0; i < 2; i++) listener.Heartbeat(new SourceHeartbeat("h3", "agent", clock.GetUtcNow().ToUnixTimeMilliseconds()));
        Assert.Equal(HttpStatusCode.BadRequest, (await node.PostNdjsonAsync(["{\"nomsg\":1}"], type: "app")).StatusCode);

        // Everything delivered to the files sink (13 events: 11 of type app, 2 of type heartbeat).
        await Wait.UntilAsync(() => node.Pumps.Sum(p => p.SinkMetrics.Delivered) == 13, Timeout, () => $"{node.Pumps.Sum(p => p.SinkMetrics.Delivered)} delivered; "
            + string.Join("; ", node.Pumps.Select(p => $"pump {p.Sink.Name}: {p.Stats.Restarts} restarts, last failure {p.Stats.LastFailure ?? "none"}")));

        // /metrics: cumulative, at once.
        var metrics = ParseMetrics(await node.Client.GetStringAsync("/metrics"));
        double M(string name, params string[] labels) => metrics.GetValueOrDefault(name + "{" + string.Join(',', labels) + "}", -1);
        Assert.Equal(4, M("nwdp_events_total", "category=normal", "host=h1", "process=web", "type=app"));
        Assert.Equal(44, M("nwdp_event_bytes_total", "category=normal", "host=h1", "process=web", "type=app"));
        Assert.Equal(2, M("nwdp_events_total", "category=error", "host=h1", "process=web", "type=app"));
        Assert.Equal(8, M("nwdp_event_bytes_total", "category=error", "host=h1", "process=web", "type=app"));
        Assert.Equal(3, M("nwdp_events_total", "category=normal", "host=h2", "process=db", "type=app"));
        Assert.Equal(1, M("nwdp_events_total", "category=error", "host=h2", "process=db", "type=app"));
        Assert.Equal(1, M("nwdp_events_total", "category=error", "host=h3", "process=agent", "type=app"));
        Assert.Equal(4, M("nwdp_events_total", "category=watchdog", "host=h3", "process=agent", "type=heartbeat")); // 2 events + 2 beats
        Assert.Equal(Utf8("alive") * 2, M("nwdp_event_bytes_total", "category=watchdog", "host=h3", "process=agent", "type=heartbeat"));
        Assert.Equal(15, metrics.Where(kv => kv.Key.StartsWith("nwdp_events_total{", StringComparison.Ordinal)).Sum(kv => kv.Value)); // 13 events + 2 beats
        Assert.Equal(13, M("nwdp_ingress_events_accepted_total"));
        Assert.Equal(3, M("nwdp_ingress_requests_total", "outcome=accepted", "status=200"));
        Assert.Equal(1, M("nwdp_ingress_requests_total", "outcome=refused", "status=400"));
        Assert.Equal(13, M("nwdp_sink_delivered_total", "sink=files"));
        Assert.Equal(0, M("nwdp_sink_dead_lettered_total", "sink=files"));
        Assert.True(M("nwdp_sink_batches_total", "sink=files") >= 1);

        // The minute closes: each node publishes it to nwdp.stats.
        clock.Advance(TimeSpan.FromMinutes(1) + Grace);
        var onTopic = await ConsumeStatsAsync(node.Bus.BootstrapServers, records =>
            records.Count(r => r.Point == StatsPoints.Ingress) >= 4
            // Accepted and bus counts go out before each answer, delivered counts at each commit (cumulative for the
            // minute), so the minute may be published more than once: wait for the record of the last request and the
            // last commit of each type (the asserts below check that it is the last).
            && records.Any(r => r.Point == StatsPoints.Accepted && r.Type == "app" && r.Lines >= 11)
            && records.Any(r => r.Point == StatsPoints.Accepted && r.Type == "heartbeat" && r.Lines >= 2)
            && records.Any(r => r.Point == StatsPoints.Bus && r.Type == "app" && r.Lines >= 11)
            && records.Any(r => r.Point == StatsPoints.Bus && r.Type == "heartbeat" && r.Lines >= 2)
            && records.Any(r => r.Point == StatsPoints.Delivered && r.Type == "app" && r.Lines >= 11)
            && records.Any(r => r.Point == StatsPoints.Delivered && r.Type == "heartbeat" && r.Lines >= 2)
            && records.Any(r => r is { Point: StatsPoints.Counted, Topic: "nwdp.logs.app" }));
        var nodeId = node.App.Services.GetRequiredService<NodeIdentity>().Id;
        Assert.All(onTopic, r => Assert.Equal(nodeId, r.Node));
        // Every count is of the events' minute (counted positions carry the minute they were published in).
        Assert.All(onTopic.Where(r => r.Point != StatsPoints.Counted), r => Assert.Equal("2026-11-28T21:18:00Z", r.Minute));
        Assert.Contains(onTopic, r => r is { Point: StatsPoints.Counted, Sink: "files", Topic: "nwdp.logs.app" });
        StatsRecord Series(string type, string host) => onTopic.Last(r => r.Point == StatsPoints.Ingress && r.Type == type && r.Host == host);
        Assert.Equal(Expect(normal: (4, 44), error: (2, 8)), Categories(Series("app", "h1")));
        Assert.Equal(Expect(normal: (3, 33), error: (1, 4)), Categories(Series("app", "h2")));
        Assert.Equal(Expect(error: (1, Utf8("disk gone"))), Categories(Series("app", "h3")));
        Assert.Equal(Expect(watchdog: (4, 10)), Categories(Series("heartbeat", "h3"))); // 2 events + 2 beats (0 bytes)
        Assert.Equal("agent", Series("heartbeat", "h3").Process);
        Assert.Equal(4, onTopic.Where(r => r.Point == StatsPoints.Ingress).Select(r => (r.Type, r.Host)).Distinct().Count());
        Assert.Equal(11, onTopic.Last(r => r.Point == StatsPoints.Accepted && r.Type == "app").Lines);
        Assert.Equal(2, onTopic.Last(r => r.Point == StatsPoints.Accepted && r.Type == "heartbeat").Lines);
        Assert.Equal(11, onTopic.Last(r => r.Point == StatsPoints.Bus && r.Type == "app").Lines);
        Assert.Equal(11, onTopic.Last(r => r.Point == StatsPoints.Delivered && r.Type == "app" && r.Sink == "files").Lines);

        // nwdp stats: the table and the JSON, from the node's store.
        var where = node.AdminNode;
        var store = node.App.Services.GetRequiredService<StatsStore>();
        await Wait.UntilAsync(() => store.Stats(0).Count == 4, Timeout, () => $"{store.Stats(0).Count} rows in the store");
        var (code, stdout, stderr) = await RunAsync("stats", "--node", where, "--since", "10m");
        output.WriteLine(stdout);
        Assert.Equal((0, ""), (code, stderr));
        var table = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Split(l.Trim(), @"\s{2,}")).ToList();
        Assert.Equal(["MINUTE", "TYPE", "PROCESS", "HOST", "NORMAL lines/bytes", "ERROR lines/bytes", "WATCHDOG lines/bytes", "NORMAL_SPILL lines/bytes", "ERROR_SPILL lines/bytes", "WATCHDOG_SPILL lines/bytes"], table[0]);
        Assert.Equal([
            ["2026-11-28 21:18", "app", "web", "h1", "4/44", "2/8", "0/0", "0/0", "0/0", "0/0"],
            ["2026-11-28 21:18", "app", "db", "h2", "3/33", "1/4", "0/0", "0/0", "0/0", "0/0"],
            ["2026-11-28 21:18", "app", "agent", "h3", "0/0", "1/9", "0/0", "0/0", "0/0", "0/0"],
            ["2026-11-28 21:18", "heartbeat", "agent", "h3", "0/0", "0/0", "4/10", "0/0", "0/0", "0/0"],
        ], table.Skip(1));

        (code, stdout, _) = await RunAsync("stats", "--node", where, "--host", "h2", "--type", "app", "--json");
        Assert.Equal(0, code);
        var row = Assert.Single(JsonDocument.Parse(stdout).RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal(("app", "db", "h2", "2026-11-28T21:18:00Z"), (row.GetProperty("type").GetString(), row.GetProperty("process").GetString(), row.GetProperty("host").GetString(), row.GetProperty("minute").GetString()));
        Assert.Equal([3L, 1, 0, 0, 0, 0], StatsCategories.Names.Select(n => row.GetProperty("lines").GetProperty(n).GetInt64()));
        Assert.Equal([33L, 4, 0, 0, 0, 0], StatsCategories.Names.Select(n => row.GetProperty("bytes").GetProperty(n).GetInt64()));

        // A clean run: once settled, nothing lost, nothing duplicated, exit 0. The store reads nwdp.stats' partitions
        // each at its own pace (the delivered counts are keyed apart from the series): wait until it holds every count
        // the topic had above, or a settled minute would be judged on part of them.
        await Wait.UntilAsync(() => store.Audit(0) is [{ Type: "app", Accepted: 11, OnBus: 11, Sinks: [{ Delivered: 11 }] }, { Type: "heartbeat", Accepted: 2, OnBus: 2, Sinks: [{ Delivered: 2 }] }],
            Timeout, () => string.Join("; ", store.Audit(0).Select(r => $"{r.Type} {r.Accepted}/{r.OnBus}: {string.Join(", ", r.Sinks.Select(s => $"{s.Sink} {s.Delivered}"))}")));
        (code, stdout, _) = await RunAsync("audit", "--node", where, "--json");
        Assert.Equal(0, code);
        Assert.All(JsonDocument.Parse(stdout).RootElement.GetProperty("rows").EnumerateArray(), r => Assert.False(r.GetProperty("settled").GetBoolean()));
        clock.Advance(Settle);
        (code, stdout, stderr) = await RunAsync("audit", "--node", where);
        output.WriteLine(stdout);
        Assert.Equal((0, ""), (code, stderr));
        var audit = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Split(l.Trim(), @"\s{2,}")).ToList();
        Assert.Equal(["MINUTE", "TYPE", "ACCEPTED", "ON BUS", "DELIVERED files"], audit[0]);
        Assert.Equal(["2026-11-28 21:18", "app", "11", "11", "11 ok"], audit[1]);
        Assert.Equal(["2026-11-28 21:18", "heartbeat", "2", "2", "2 ok"], audit[2]);
        Assert.StartsWith("no loss or duplicates", audit[3][0]);
    }

    [Fact]
    public async Task A_sink_that_drops_records_is_reported_lost_and_records_on_the_bus_twice_duplicated_with_exit_3()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Minute0.AddSeconds(5));
        await using var node = await InProcessNode.StartAsync(dir.Path, clock, Settings(new()
        {
            ["nwdp.sinks.drop.kind"] = "dropping",
            ["nwdp.sinks.drop.topics"] = @"^nwdp\.logs\.lossy$",
        }), configureServices: s => s.AddSinkKind("dropping", section => new DroppingSink(section.Name)));

        // lossy: 10 events, the drop sink refuses 3 of them; twice: 6 events accepted, 2 of them also written to the bus a second time.
        var lossy = Enumerable.Range(0, 10).Select(i => Line("h1", "web", "info", (i is 2 or 5 or 7 ? "drop-" : "keep-") + i)).ToList();
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(lossy, type: "lossy")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(Enumerable.Range(0, 6).Select(i => Line("h2", "db", "info", "twice-" + i)).ToList(), type: "twice")).StatusCode);
        ProduceAgain(node.Bus.BootstrapServers, TopicNames.ForType("twice"), Enumerable.Range(0, 2).Select(i => new LogEvent
        {
            Host = "h2", Process = "db", Type = "twice", Message = "twice-" + i, SystemTs = Minute0.AddSeconds(5).ToUnixTimeMilliseconds(), Ts = Minute0.ToUnixTimeMilliseconds(),
        }));

        long Delivered(string sink) => node.Pumps.Where(p => p.Sink.Name == sink).Sum(p => p.SinkMetrics.Delivered);
        long Letters(string sink) => node.Pumps.Where(p => p.Sink.Name == sink).Sum(p => p.SinkMetrics.DeadLettered);
        await Wait.UntilAsync(() => Delivered("files") == 18 && Delivered("drop") == 7 && Letters("drop") == 3, Timeout,
            () => $"files {Delivered("files")}, drop {Delivered("drop")} + {Letters("drop")} dead-lettered; "
                  + string.Join("; ", node.Pumps.Select(p => $"pump {p.Sink.Name}: {p.Stats.Restarts} restarts, last failure {p.Stats.LastFailure ?? "none"}")));

        clock.Advance(TimeSpan.FromMinutes(1) + Grace);
        var where = node.AdminNode;
        var store = node.App.Services.GetRequiredService<StatsStore>();
        // The accepted counts reach the store before the answers, the delivered ones at each commit, the per-host series
        // with the minute: wait for all of them (a count arriving after the settle time would re-open the minute).
        await Wait.UntilAsync(() => store.Audit(0) is [{ Type: "lossy", Accepted: 10 } l, { Type: "twice", Accepted: 6 } t]
                                    && l.Sinks.Sum(s => s.Delivered) == 17 && t.Sinks.Sum(s => s.Delivered) == 8 && store.Stats(0).Count == 2,
            Timeout, () => string.Join("; ", store.Audit(0).Select(r => $"{r.Type} {r.Accepted}: {string.Join(", ", r.Sinks.Select(s => $"{s.Sink} {s.Delivered}"))}")));
        clock.Advance(Settle);

        var (code, stdout, stderr) = await RunAsync("audit", "--node", where, "--since", "1h");
        output.WriteLine(stdout);
        Assert.Equal((3, ""), (code, stderr));
        var table = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Split(l.Trim(), @"\s{2,}")).ToList();
        Assert.Equal(["MINUTE", "TYPE", "ACCEPTED", "ON BUS", "DELIVERED drop", "DELIVERED files"], table[0]);
        Assert.Equal(["2026-11-28 21:18", "lossy", "10", "10", "7 LOST 3", "10 ok", "<-- LOST in drop"], table[1]);
        Assert.Equal(["2026-11-28 21:18", "twice", "6", "6", "-", "8 DUPLICATED 2", "<-- DUPLICATED in files"], table[2]);
        Assert.Equal("1 lost and 1 duplicated (minute, type, sink) in the last 3600 s", table[3][0]);

        (code, stdout, _) = await RunAsync("audit", "--node", where, "--json");
        Assert.Equal(3, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((1, 1), (json.GetProperty("lost").GetInt32(), json.GetProperty("duplicated").GetInt32()));
        var lossyRow = json.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("type").GetString() == "lossy");
        Assert.Equal([("drop", 7L, "lost"), ("files", 10L, "ok")],
            lossyRow.GetProperty("sinks").EnumerateArray().Select(s => (s.GetProperty("sink").GetString(), s.GetProperty("delivered").GetInt64(), s.GetProperty("verdict").GetString())));
    }

    [Fact]
    public async Task Each_node_counts_and_publishes_its_own_events_and_either_node_answers_for_both()
    {
        using var kafka = new NeverwinterDP.Actors.Kafka.Embedded.EmbeddedKafka(new NeverwinterDP.Actors.Kafka.Embedded.EmbeddedKafkaOptions { DefaultPartitions = 4 });
        kafka.CreateTopic(TopicNames.Stats, 4);
        kafka.CreateTopic(TopicNames.ForType("app"), 4);
        using var dir = new TempDir();
        var clock = new ManualClock(Minute0.AddSeconds(5));
        Directory.CreateDirectory(Path.Combine(dir.Path, "a"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "b"));
        await using var a = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a"), clock, Settings(new() { ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers }));
        await using var b = await InProcessNode.StartAsync(Path.Combine(dir.Path, "b"), clock, Settings(new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.pump.enabled"] = "off",
        }));

        Assert.Equal(HttpStatusCode.OK, (await a.PostNdjsonAsync(Enumerable.Repeat(Line("h1", "web", "info", "one"), 3), type: "app")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.PostNdjsonAsync(Enumerable.Repeat(Line("h1", "web", "error", "two"), 5), type: "app")).StatusCode);
        await Wait.UntilAsync(() => a.Pumps.Sum(p => p.SinkMetrics.Delivered) == 8, Timeout, () => $"{a.Pumps.Sum(p => p.SinkMetrics.Delivered)} delivered");

        // Each node's /metrics holds only its own counts (a registry per node, though both run in this process).
        var ma = ParseMetrics(await a.Client.GetStringAsync("/metrics"));
        var mb = ParseMetrics(await b.Client.GetStringAsync("/metrics"));
        const string normal = "nwdp_events_total{category=normal,host=h1,process=web,type=app}";
        const string error = "nwdp_events_total{category=error,host=h1,process=web,type=app}";
        Assert.Equal((3.0, 0.0), (ma[normal], ma.GetValueOrDefault(error)));
        Assert.Equal((0.0, 5.0), (mb.GetValueOrDefault(normal), mb[error]));
        Assert.Equal(8, ma["nwdp_sink_delivered_total{sink=files}"]);
        Assert.False(mb.ContainsKey("nwdp_sink_delivered_total{sink=files}"));

        clock.Advance(TimeSpan.FromMinutes(1) + Grace);
        var ids = new[] { a, b }.Select(n => n.App.Services.GetRequiredService<NodeIdentity>().Id).ToList();
        var onTopic = await ConsumeStatsAsync(kafka.BootstrapServers, records => records.Count(r => r.Point == StatsPoints.Ingress) >= 2 && records.Any(r => r.Point == StatsPoints.Delivered));
        Assert.Equal(3, onTopic.Last(r => r.Point == StatsPoints.Ingress && r.Node == ids[0]).CategoryLines!["normal"]);
        Assert.Equal(5, onTopic.Last(r => r.Point == StatsPoints.Ingress && r.Node == ids[1]).CategoryLines!["error"]);
        Assert.Equal(ids[0], onTopic.Last(r => r.Point == StatsPoints.Delivered).Node);

        foreach (var node in new[] { a, b })
        {
            var store = node.App.Services.GetRequiredService<StatsStore>();
            // The audit's counts go out ahead of the minute, the per-host series with it: wait for both.
            await Wait.UntilAsync(() => store.Audit(0) is [{ Accepted: 8, Sinks: [{ Delivered: 8 }] }] && store.Stats(0) is [{ } r] && r.Lines["normal"] + r.Lines["error"] == 8,
                Timeout, () => $"{store.Audit(0).Count} audit rows, {store.Stats(0).Count} stats rows");
            var row = Assert.Single(store.Stats(0));
            Assert.Equal((3L, 5L), (row.Lines["normal"], row.Lines["error"]));
        }
        clock.Advance(Settle);
        var (code, stdout, _) = await RunAsync("audit", "--node", b.AdminNode);
        output.WriteLine(stdout);
        Assert.Equal(0, code);
        Assert.Contains("2026-11-28 21:18  app   8         8       8 ok", stdout);
    }

    [Fact]
    public async Task The_verbs_name_an_unreachable_node_and_exit_1_and_reject_bad_flags_with_exit_2()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var (code, stdout, stderr) = await RunAsync("audit", "--node", $"127.0.0.1:{port}");
        Assert.Equal((1, ""), (code, stdout));
        Assert.StartsWith($"nwdp audit: cannot reach node 127.0.0.1:{port}", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        var err = new StringWriter();
        Assert.Equal(2, await CliApp.RunAsync(["stats", "--since", "soon"], new StringWriter(), err));
        Assert.Contains("--since", err.ToString());
        Assert.Equal(2, await CliApp.RunAsync(["audit", "--node", "nohost"], new StringWriter(), err = new StringWriter()));
        Assert.Contains("--node", err.ToString());
    }

    [Fact]
    public async Task The_stats_and_audit_routes_are_served_on_the_admin_listener_only_and_name_a_bad_parameter()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings());
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync([Line("h1", "web", "info", "one")], type: "app")).StatusCode);

        // The ingress listener: neither the admin routes nor the old /admin paths.
        foreach (var path in new[] { "/v1/stats", "/v1/audit", "/v1/stats?since=10m&type=app", "/admin/stats", "/admin/audit" })
        {
            using var response = await node.Client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} on the ingress listener: {(int)response.StatusCode}");
        }

        using var admin = node.AdminClient();
        using (var response = await admin.GetAsync("/v1/stats?since=10m&type=app&host=h1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(JsonValueKind.String, root.GetProperty("since").ValueKind);
            Assert.Equal(JsonValueKind.Array, root.GetProperty("rows").ValueKind);
        }
        using (var response = await admin.GetAsync("/v1/audit"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(30, root.GetProperty("settle_time_s").GetDouble());
            Assert.Equal((0, 0), (root.GetProperty("lost").GetInt64(), root.GetProperty("duplicated").GetInt64()));
        }
        // The old paths are not admin routes either.
        using (var response = await admin.GetAsync("/admin/stats"))
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // A bad since: 400 with a JSON error naming the parameter.
        foreach (var path in new[] { "/v1/stats?since=soon", "/v1/audit?since=-5m", "/v1/audit?since=1e400h", "/v1/stats?since=10m&since=1h", "/v1/audit?since=" })
        {
            using var response = await admin.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Contains("'since'", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        }

        // The verbs ask the admin listener by default: told the ingress port, they name the 404.
        var (code, stdout, stderr) = await RunAsync("audit", "--node", $"{node.Http.Host}:{node.Http.Port}");
        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains("answered 404", stderr);
        var help = await Nwdp.RunAsync("stats", "--help");
        Assert.Contains("default 127.0.0.1:9110", help.Stdout);
        foreach (var flag in new[] { "--type", "--host", "--since", "--node", "--token", "--json" }) Assert.Contains(flag, help.Stdout);
    }

    /// <summary>Runs <c>nwdp</c> with these arguments as the executable does, with captured output.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var outcome = await Nwdp.RunAsync(args);
        return (outcome.ExitCode, outcome.Stdout, outcome.Stderr);
    }

    private static Dictionary<string, (long, long)> Expect((long, long) normal = default, (long, long) error = default, (long, long) watchdog = default) => new()
    {
        ["normal"] = normal, ["error"] = error, ["watchdog"] = watchdog, ["normal_spill"] = (0, 0), ["error_spill"] = (0, 0), ["watchdog_spill"] = (0, 0),
    };

    private static Dictionary<string, (long, long)> Categories(StatsRecord r) =>
        StatsCategories.Names.ToDictionary(n => n, n => (r.CategoryLines![n], r.CategoryBytes![n]));

    /// <summary>Prometheus text: <c>name{k="v",...} value</c> keyed as <c>name{k=v,...}</c> with the labels sorted.</summary>
    private static Dictionary<string, double> ParseMetrics(string text)
    {
        var result = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            var m = Regex.Match(line, @"^(\w+)(?:\{(.*)\})? (\S+)$");
            if (!m.Success) continue;
            var labels = Regex.Matches(m.Groups[2].Value, @"(\w+)=""((?:[^""\\]|\\.)*)""").Select(l => l.Groups[1].Value + "=" + l.Groups[2].Value).Order(StringComparer.Ordinal);
            result[m.Groups[1].Value + "{" + string.Join(',', labels) + "}"] = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>Reads every partition of nwdp.stats from the start until <paramref name="enough"/> holds.</summary>
    private static async Task<List<StatsRecord>> ConsumeStatsAsync(string bootstrap, Func<List<StatsRecord>, bool> enough)
    {
        Librdkafka.EnsureLoaded();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(TopicNames.Stats, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartitionOffset(TopicNames.Stats, p.PartitionId, Offset.Beginning)).ToList();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "test-" + Guid.NewGuid(), EnableAutoCommit = false }).Build();
        consumer.Assign(partitions);
        var records = new List<(string Key, StatsRecord Record)>();
        var deadline = DateTime.UtcNow + Timeout;
        while (!enough(records.Select(r => r.Record).ToList()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {records.Count} stats records on the topic");
            var result = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200)));
            if (result?.Message is { } message) records.Add((message.Key, StatsRecord.FromJson(message.Value)));
        }
        // Keyed by host (per-type points: by type; counted positions: by sink, topic and partition).
        Assert.All(records, r => Assert.Equal(r.Record.Point == StatsPoints.Counted ? $"{r.Record.Sink}|{r.Record.Topic}|{r.Record.Partition}" : r.Record.Host ?? r.Record.Type, r.Key));
        consumer.Close();
        return records.Select(r => r.Record).ToList();
    }

    private static void ProduceAgain(string bootstrap, string topic, IEnumerable<LogEvent> events)
    {
        Librdkafka.EnsureLoaded();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        foreach (var e in events)
            producer.Produce(topic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(e.Host), Value = LogEventAvro.EncodeFramed(e) });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A sink that refuses (dead-letters) every record whose message starts with <c>drop-</c> and takes the rest.</summary>
    private sealed class DroppingSink(string name) : ISink
    {
        public string Name => name;

        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation) =>
            Task.FromResult(new SinkWriteResult(batch.Select(r => r.Event.Message.StartsWith("drop-", StringComparison.Ordinal) ? SinkOutcome.Rejected : SinkOutcome.Delivered).ToList(),
                batch.Select(r => r.Event.Message.StartsWith("drop-", StringComparison.Ordinal) ? "dropped by the test" : null).ToList()));

        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "ok"));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
