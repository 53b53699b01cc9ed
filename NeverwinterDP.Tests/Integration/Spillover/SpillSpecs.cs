using System.Net.Http.Json;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>Spillover: events the bus cannot take are kept in the journal and replayed when it returns.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Broker_down_for_10s_while_100000_events_are_posted_every_2xx_event_arrives_exactly_once_and_the_audit_shows_no_loss()
    {
        using var dir = new TempDir();
        // The real time, moved forward only at the end, so that the audit's minutes close and settle without waiting.
        var clock = new ShiftedClock();
        await using var node = await InProcessNode.StartAsync(dir.Path, clock, overrides: new()
        {
            ["nwdp.spill.after"] = "2s",
            ["nwdp.spill.probe-interval"] = "500ms",
            ["nwdp.sinks.files.fsync"] = "off",
            ["nwdp.stats.publish-interval"] = "200ms",
            ["nwdp.stats.grace"] = "1s",
            ["nwdp.stats.settle-time"] = "5s",
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        const int total = 100_000, batch = 250;
        var acked = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var next = -1;
        var outage = Task.CompletedTask;

        async Task SendAsync()
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < total / batch)
            {
                var lines = Enumerable.Range(b * batch, batch).Select(i => JsonSerializer.Serialize(new { host = $"h{i % 7}", msg = $"{run}-{i}" })).ToList();
                while (true)
                {
                    var response = await node.PostNdjsonAsync(lines, type: "spill");
                    statuses.AddOrUpdate(response.StatusCode, 1, (_, c) => c + 1);
                    if (response.IsSuccessStatusCode) break;
                    await Task.Delay(100);
                }
                foreach (var l in lines) acked.Add(l);
                if (b == 80)
                {
                    outage = Task.Run(async () =>
                    {
                        output.WriteLine($"broker down at {acked.Count} acked");
                        node.Bus.Embedded!.BrokerDown(1);
                        await Task.Delay(TimeSpan.FromSeconds(10));
                        node.Bus.Embedded.BrokerUp(1);
                        output.WriteLine($"broker up at {acked.Count} acked");
                    });
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync()));
        await outage;
        output.WriteLine(string.Join(", ", statuses.Select(kv => $"{(int)kv.Key}={kv.Value}")));
        var ingress = node.App.Services.GetRequiredService<EventIngress>();
        output.WriteLine($"spilled {ingress.SpilledEvents} events in {ingress.SpilledBatches} batches");
        Assert.Equal(total, acked.Count);
        Assert.True(ingress.SpilledEvents > 0, "nothing was spilled during the outage");

        var topic = TopicNames.ForType("spill");
        await Wait.UntilAsync(() => node.PublishedLines(topic).Count >= total, TimeSpan.FromSeconds(180), () => $"{node.PublishedLines(topic).Count} published");
        var published = node.PublishedLines(topic).Select(MessageOf).ToList();
        if (published.Count != total) await DescribeDuplicatesAsync(node, topic);
        Assert.Equal(total, published.Count);
        Assert.Equal(Enumerable.Range(0, total).Select(i => $"{run}-{i}").Order(), published.Order());

        // nwdp audit (the node's admin API): every minute of the run closed and settled, no loss, no duplicates, and
        // the totals of the type are exactly the 2xx events, accepted and delivered by the files sink.
        var store = node.App.Services.GetRequiredService<StatsStore>();
        (long Accepted, long OnBus, long Files) Totals()
        {
            var rows = store.Audit(0).Where(r => r.Type == "spill").ToList();
            return (rows.Sum(r => r.Accepted), rows.Sum(r => r.OnBus), rows.Sum(r => r.Sinks.Where(s => s.Sink == "files").Sum(s => s.Delivered)));
        }
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        // Poll until the closed minutes reached the store; past the deadline, the audit below shows what it holds.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Totals() != (total, total, total) && DateTime.UtcNow < deadline) await Task.Delay(200);
        output.WriteLine($"store totals (accepted, on bus, files): {Totals()}");
        clock.Advance(TimeSpan.FromSeconds(6));

        var table = await Nwdp.RunAsync("audit", "--node", node.AdminNode);
        output.WriteLine(table.ToString());
        var audit = await Nwdp.RunAsync("audit", "--node", node.AdminNode, "--json");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var rows = JsonDocument.Parse(audit.Stdout).RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("type").GetString() == "spill").ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.True(r.GetProperty("settled").GetBoolean(), r.ToString()));
        var files = rows.Select(r => r.GetProperty("sinks").EnumerateArray().Single(s => s.GetProperty("sink").GetString() == "files")).ToList();
        Assert.All(files, s => Assert.Equal("ok", s.GetProperty("verdict").GetString()));
        Assert.Equal(total, rows.Sum(r => r.GetProperty("accepted").GetInt64()));
        Assert.Equal(total, rows.Sum(r => r.GetProperty("on_bus").GetInt64()));
        Assert.Equal(total, files.Sum(s => s.GetProperty("delivered").GetInt64()));
    }

    [Fact]
    public async Task A_replayed_spill_is_counted_as_accepted_on_nwdp_stats_at_its_replay_not_with_the_minute()
    {
        using var dir = new TempDir();
        // No sink (no pump flushes counts before its commits) and no publish tick within the test: only the replay's
        // own flush can put its counts on nwdp.stats (a node killed before the minute's publish keeps them then).
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.sinks.files.enabled"] = "off",
            ["nwdp.stats.publish-interval"] = "1h",
        });
        var store = node.App.Services.GetRequiredService<StatsStore>();
        (long Accepted, long OnBus) Totals(string type)
        {
            var rows = store.Audit(0).Where(r => r.Type == type).ToList();
            return (rows.Sum(r => r.Accepted), rows.Sum(r => r.OnBus));
        }
        // A direct write is answered once its counts are on nwdp.stats: the publisher runs from here on.
        await Wait.UntilAsync(async () => (await node.PostNdjsonAsync(["{\"msg\":\"warm\"}"], type: "warm")).IsSuccessStatusCode && Totals("warm").Accepted > 0,
            TimeSpan.FromSeconds(60), () => $"warm-up: {Totals("warm")} in the store");

        node.Bus.Embedded!.BrokerDown(1);
        for (var b = 0; b < 3; b++)
        {
            var response = await node.PostNdjsonAsync(Enumerable.Range(b * 10, 10).Select(i => JsonSerializer.Serialize(new { host = "h", msg = $"spilled {i}" })), type: "replayed");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal((0L, 0L), Totals("replayed"));
        node.Bus.Embedded.BrokerUp(1);

        async Task<long> ReplayedEventsAsync()
        {
            using var admin = node.AdminClient();
            var status = await admin.GetFromJsonAsync<JsonElement>("/v1/spill/status");
            return status.GetProperty("topics").EnumerateArray().Sum(t => t.GetProperty("replayed_events").GetInt64());
        }
        await Wait.UntilAsync(async () => await ReplayedEventsAsync() == 30, TimeSpan.FromSeconds(60), () => "the 30 spilled events not replayed");
        await Wait.UntilAsync(() => Totals("replayed") == (30, 30), TimeSpan.FromSeconds(30), () => $"{Totals("replayed")} (accepted, on bus) in the store");
    }

    [Fact]
    public async Task When_the_spill_quota_is_used_up_ingress_answers_503_and_nothing_accepted_before_is_lost()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.spill.quota"] = "40KiB",
            ["nwdp.sinks.files.fsync"] = "off",
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        node.Bus.Embedded!.BrokerDown(1);
        var accepted = new List<string>();
        HttpResponseMessage? refused = null;
        for (var b = 0; b < 100 && refused is null; b++)
        {
            var messages = Enumerable.Range(b * 50, 50).Select(i => $"{run}-{i}").ToList();
            var response = await node.PostNdjsonAsync(messages.Select(m => JsonSerializer.Serialize(new { host = "h", msg = m })), type: "quota");
            if (response.IsSuccessStatusCode) accepted.AddRange(messages);
            else refused = response;
        }
        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("quota", await refused.Content.ReadAsStringAsync());
        Assert.NotEmpty(accepted);
        output.WriteLine($"{accepted.Count} events accepted before the quota was used up");
        var status = await NeverwinterDP.Tests.TestKit.Nwdp.RunAsync("spill", "status", "--node", node.AdminNode);
        output.WriteLine(status.ToString());
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("bus DOWN", status.Stdout);
        Assert.Matches($@"nwdp\.logs\.quota\s*\|\s*\d+\s*\|\s*{accepted.Count}\s*\|", status.Stdout);

        node.Bus.Embedded.BrokerUp(1);
        var topic = TopicNames.ForType("quota");
        await Wait.UntilAsync(() => node.PublishedLines(topic).Count >= accepted.Count, TimeSpan.FromSeconds(60));
        var published = node.PublishedLines(topic).Select(MessageOf).ToList();
        Assert.Equal(accepted.Order(), published.Order());
    }

    [Fact]
    public async Task A_request_spilled_while_its_records_are_with_the_producer_shows_in_doubt_until_the_broker_takes_them_and_every_event_lands_once()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.sinks.files.fsync"] = "off",
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        var topic = TopicNames.ForType("indoubt");
        var sent = new List<string>();
        async Task PostAsync(int from, int count)
        {
            var messages = Enumerable.Range(from, count).Select(i => $"{run}-{i}").ToList();
            var response = await node.PostNdjsonAsync(messages.Select(m => JsonSerializer.Serialize(new { host = "h", msg = m })), type: "indoubt");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            sent.AddRange(messages);
        }
        static double InDoubt(string metrics) =>
            double.Parse(System.Text.RegularExpressions.Regex.Match(metrics, @"^nwdp_ingress_requests_in_doubt (\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);

        await PostAsync(0, 10); // the topic exists and the producer knows its leader
        Assert.Equal(0, InDoubt(await node.Client.GetStringAsync("/metrics")));
        node.Bus.Embedded!.BrokerDown(1);
        // Answered after spill.after (spilled); its records stay with the producer, which retries them.
        await PostAsync(10, 50);
        Assert.Equal(1, InDoubt(await node.Client.GetStringAsync("/metrics")));
        // Meanwhile requests spill at once: nothing new for the producer.
        await PostAsync(60, 50);
        Assert.Equal(1, InDoubt(await node.Client.GetStringAsync("/metrics")));
        var status = await NeverwinterDP.Tests.TestKit.Nwdp.RunAsync("spill", "status", "--node", node.AdminNode);
        Assert.Contains("In doubt: 1 spilled requests still with the Kafka producer", status.Stdout);

        node.Bus.Embedded.BrokerUp(1);
        await Wait.UntilAsync(async () => InDoubt(await node.Client.GetStringAsync("/metrics")) == 0, TimeSpan.FromSeconds(60), () => "still in doubt");
        // The spilled copies replayed (the held records found on the bus, not produced again), all delivered.
        var spill = node.App.Services.GetRequiredService<NeverwinterDP.Actors.Spillover.SpillWriter>();
        await Wait.UntilAsync(async () => (await spill.StatusAsync([topic], CancellationToken.None)).Single().Batches == 0, TimeSpan.FromSeconds(90), () => "spill backlog not replayed");
        await Wait.UntilAsync(() => node.PublishedLines(topic).Count >= sent.Count, TimeSpan.FromSeconds(90), () => $"{node.PublishedLines(topic).Count} of {sent.Count} published");
        Assert.Equal(sent.Order(), node.PublishedLines(topic).Select(MessageOf).Order());
    }

    /// <summary>On a failure: which messages are in the files sink more than once, in which files, and whether that lasts.</summary>
    private async Task DescribeDuplicatesAsync(InProcessNode node, string topic)
    {
        var dir = Path.Combine(node.FilesDir, topic);
        var where = Directory.EnumerateFiles(dir, "*.ndjson", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .SelectMany(f => File.ReadLines(f).Where(l => l.Length > 0).Select(l => (Message: MessageOf(l), File: Path.GetRelativePath(dir, f))))
            .GroupBy(x => x.Message).Where(g => g.Count() > 1).ToList();
        output.WriteLine($"{where.Count} messages more than once; e.g.:");
        foreach (var g in where.Take(5)) output.WriteLine($"  {g.Key}: {string.Join(", ", g.Select(x => x.File))}");
        await Task.Delay(TimeSpan.FromSeconds(5));
        output.WriteLine($"5 s later: {node.PublishedLines(topic).Count} lines");
    }

    /// <summary>The real time plus an offset the test moves forward.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        private long _offsetTicks;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    private static string MessageOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("msg").GetString()!;
    }
}
