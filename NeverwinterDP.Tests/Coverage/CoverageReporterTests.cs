using System.Text;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Coverage;

/// <summary>The collector's sketches and the reports built from them, on one node and merged over several, against exact counts.</summary>
public sealed class CoverageReporterTests
{
    private static readonly DateTimeOffset Hour0 = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static LogEvent Event(long ts, string host, string level, string msg, params (string Key, string Value)[] attributes) => new()
    {
        Ts = ts, SystemTs = ts, Host = host, Process = "web", Type = "app", Level = level, Message = msg,
        Attributes = attributes.ToDictionary(a => a.Key, a => a.Value),
    };

    private static (CoverageCollector Collector, CoverageStore Store, CoverageReporter Reporter) Node(string id, ManualClock clock, CoverageOptions options)
    {
        var collector = new CoverageCollector(options, clock);
        var store = new CoverageStore(options, clock);
        return (collector, store, new CoverageReporter(collector, store, options, clock, () => id));
    }

    [Fact]
    public async Task A_known_mix_is_summarised_with_exact_counts_shares_and_top_values()
    {
        var clock = new ManualClock(Hour0.AddMinutes(30));
        var (collector, _, reporter) = Node("n1", clock, new CoverageOptions());
        await using var _ = collector;
        var t = Hour0.AddMinutes(10).ToUnixTimeMilliseconds();
        var events = new List<LogEvent>();
        for (var i = 0; i < 100; i++)
        {
            var attributes = new List<(string, string)> { ("status", i < 70 ? "200" : i < 90 ? "404" : "500") };
            if (i % 4 == 0) attributes.Add(("user", i % 8 == 0 ? "" : "u" + i));
            if (i < 10) attributes.Add(("latency_ms", (i * 1.5 - 3).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            events.Add(Event(t + i * 1000, "h" + i % 3, i % 10 == 0 ? "ERROR" : "info", "ab€", attributes.ToArray()));
        }
        collector.Count(events);

        var summary = reporter.Summary("app", TimeSpan.FromHours(1));
        Assert.Equal(100, summary.Events);
        Assert.Equal(500, summary.Bytes); // "ab€" is 5 UTF-8 bytes
        Assert.Equal(10, summary.Errors);
        Assert.Equal(0.1, summary.ErrorRatio);
        Assert.Equal(3, summary.DistinctHosts);
        Assert.Equal(3, summary.DistinctSources);
        Assert.Equal(["n1"], summary.Nodes);
        Assert.Equal(2, summary.Minutes.Count); // minutes 10:10 and 10:11
        Assert.Equal(100, summary.Minutes.Sum(m => m.Events));

        var keys = reporter.Keys("app", TimeSpan.FromHours(1)).Keys.ToDictionary(k => k.Key);
        Assert.Equal((100, 1.0), (keys["status"].Events, keys["status"].Share));
        Assert.Equal((25, 0.25), (keys["user"].Events, keys["user"].Share));
        Assert.Equal((10, 0.1), (keys["latency_ms"].Events, keys["latency_ms"].Share));
        Assert.Equal("2026-12-05T10:10:00Z", keys["user"].FirstSeen);

        var values = reporter.Values("app", TimeSpan.FromHours(24)).Keys.ToDictionary(k => k.Key);
        Assert.Equal([new ValueShare("200", 70, 0.7, 0), new ValueShare("404", 20, 0.2, 0), new ValueShare("500", 10, 0.1, 0)], values["status"].Top);
        Assert.Equal((3L, true), (values["status"].Distinct, values["status"].DistinctExact));
        Assert.Equal(13, values["user"].Distinct); // 12 users and the empty value
        Assert.Equal(13.0 / 25, values["user"].EmptyShare, 6);
        Assert.Equal((-3.0, 10.5, 10L), (values["latency_ms"].Min!.Value, values["latency_ms"].Max!.Value, values["latency_ms"].Numeric));
        Assert.Null(values["user"].Min);
        Assert.Equal("status", Assert.Single(reporter.Values("app", TimeSpan.FromHours(1), "status").Keys).Key);
    }

    [Fact]
    public async Task Three_nodes_sketches_merged_through_their_records_match_the_exact_counts_of_the_whole_within_the_stated_error()
    {
        var clock = new ManualClock(Hour0.AddMinutes(59));
        var options = new CoverageOptions { TopValues = 10 };
        var nodes = new[] { Node("a", clock, options), Node("b", clock, options), Node("c", clock, options) };
        var random = new Random(42);
        var users = new HashSet<string>();
        var hosts = new HashSet<string>();
        var codes = new Dictionary<string, long>();
        long total = 0;
        for (var n = 0; n < 3; n++)
        {
            var batch = new List<LogEvent>();
            for (var i = 0; i < 20_000; i++)
            {
                var userValue = "user-" + random.Next(0, 15_000);
                var host = "host-" + random.Next(0, 400);
                var codeValue = random.NextDouble() < 0.6 ? "200" : random.NextDouble() < 0.7 ? "404" : "5" + random.Next(0, 40).ToString("00");
                users.Add(userValue);
                hosts.Add(host);
                codes[codeValue] = codes.GetValueOrDefault(codeValue) + 1;
                batch.Add(Event(Hour0.AddMinutes(n * 20 + i % 20).ToUnixTimeMilliseconds(), host, "info", "x", ("user", userValue), ("code", codeValue)));
                total++;
            }
            nodes[n].Collector.Count(batch);
        }
        // Node a answers: its own live sketches, and b's and c's as read back from nwdp.coverage.
        foreach (var other in nodes.Skip(1))
            foreach (var (_, _, record) in other.Collector.Collect(other == nodes[1] ? "b" : "c"))
            {
                var (node, published, sketch) = CoverageSketch.FromRecord(record, options);
                nodes[0].Store.Add(node, published, sketch);
            }
        var reporter = nodes[0].Reporter;
        var summary = reporter.Summary("app", TimeSpan.FromHours(2));
        Assert.Equal(["a", "b", "c"], summary.Nodes);
        Assert.Equal(total, summary.Events);
        var sigma = HyperLogLog.StandardErrorOf(options.HllPrecision);
        Assert.InRange(summary.DistinctHosts, hosts.Count * (1 - 3 * sigma), hosts.Count * (1 + 3 * sigma));
        var user = reporter.Values("app", TimeSpan.FromHours(2), "user").Keys.Single();
        Assert.InRange(user.Distinct, users.Count * (1 - 3 * sigma), users.Count * (1 + 3 * sigma));
        Assert.False(user.DistinctExact);
        var code = reporter.Values("app", TimeSpan.FromHours(2), "code").Keys.Single();
        Assert.Equal(total, code.Events);
        foreach (var top in code.Top)
        {
            var truth = codes[top.Value];
            Assert.InRange(truth, top.Count - top.MaxOver, top.Count);
            Assert.True(top.MaxOver <= total / options.TopValues);
        }
        Assert.Equal(codes["200"], code.Top[0].Count); // the heavy hitters are exact here: never evicted
        Assert.Equal("200", code.Top[0].Value);
        Assert.Equal("404", code.Top[1].Value);
        foreach (var (value, truth) in codes.Where(c => code.Top.All(t => t.Value != c.Key)))
            Assert.True(truth <= code.UnlistedMax, $"{value} {truth}");
        foreach (var n in nodes) await n.Collector.DisposeAsync();
    }

    [Fact]
    public async Task Bounds_hold_keys_past_the_limit_are_counted_as_dropped_types_past_it_go_to_other_and_old_hours_expire()
    {
        var clock = new ManualClock(Hour0.AddMinutes(5));
        var options = new CoverageOptions { MaxKeysPerType = 2, MaxTypes = 2, Retention = TimeSpan.FromMinutes(30), MaxValueLength = 4 };
        var (collector, _, reporter) = Node("n1", clock, options);
        await using var _ = collector;
        var ts = Hour0.ToUnixTimeMilliseconds();
        collector.Count([Event(ts, "h", "info", "m", ("a", "1"), ("b", "2"), ("c", "3"), ("d", "toolongvalue"))]);
        collector.Count([Event(ts, "h", "info", "m") with { Type = "second" }, Event(ts, "h", "info", "m") with { Type = "third" }]);
        var keys = reporter.Keys("app", TimeSpan.FromHours(1));
        Assert.Equal(2, keys.Keys.Count);
        Assert.Equal(2, keys.KeysDropped);
        Assert.Contains(CoverageCollector.OtherType, reporter.Types(TimeSpan.FromHours(1)));
        Assert.DoesNotContain("third", reporter.Types(TimeSpan.FromHours(1)));
        Assert.Equal(1, reporter.Summary(CoverageCollector.OtherType, TimeSpan.FromHours(1)).Unsketched);

        Assert.NotEmpty(collector.Collect("n1"));
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Empty(collector.Collect("n1"));
        Assert.Empty(reporter.Types(TimeSpan.FromHours(24)));
        collector.Count([Event(ts, "h", "info", "late")]);
        Assert.Equal(1, collector.Late);
        Assert.Empty(reporter.Types(TimeSpan.FromHours(24)));
    }

    [Fact]
    public async Task Accepted_batches_are_sketched_off_the_caller_and_the_same_record_read_back_gives_the_same_report()
    {
        var clock = new ManualClock(Hour0.AddMinutes(5));
        var options = new CoverageOptions();
        var (collector, _, reporter) = Node("n1", clock, options);
        await using var _ = collector;
        for (var b = 0; b < 50; b++)
            collector.Accepted(Enumerable.Range(0, 100).Select(i => Event(Hour0.ToUnixTimeMilliseconds() + i, "h" + b, "info", "m", ("k", "v" + i % 7))).ToList());
        await Wait.UntilAsync(() => collector.Processed == 5_000, TimeSpan.FromSeconds(30), () => $"{collector.Processed} processed");
        var live = reporter.Values("app", TimeSpan.FromHours(1));

        var (record, other) = (collector.Collect("n1").Single().Record, Node("n2", clock, options));
        await using var __ = other.Collector;
        var (node, published, sketch) = CoverageSketch.FromRecord(record, options);
        other.Store.Add(node, published, sketch);
        var fromTopic = other.Reporter.Values("app", TimeSpan.FromHours(1));
        Assert.Equal(Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(live)),
            Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(fromTopic)));
        Assert.Equal(5_000, fromTopic.Events);
        Assert.Equal(50, other.Reporter.Summary("app", TimeSpan.FromHours(1)).DistinctHosts);
        Assert.Throws<FormatException>(() => CoverageSketch.FromRecord(Encoding.UTF8.GetBytes("{}"), options));
    }
}

/// <summary>The sketcher's queue is bounded in memory as well as in batches: a node that cannot sketch keeps counting.</summary>
public sealed class CoverageQueueTests
{
    private static readonly DateTimeOffset Hour0 = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static List<LogEvent> Batch(long ts, int count, int messageChars) => Enumerable.Range(0, count).Select(i => new LogEvent
    {
        Ts = ts, SystemTs = ts, Host = "h", Process = "p", Type = "big", Level = "info", Message = new string('m', messageChars),
        Attributes = new Dictionary<string, string> { ["k"] = new string('v', messageChars) },
    }).ToList();

    [Fact]
    public void The_estimate_counts_every_string_and_a_fixed_cost_per_event_and_attribute()
    {
        var events = Batch(0, 3, 1000);
        // Per event: message 1000 + attribute key 1 + value 1000 + host 1 + process 1 + type 3 + level 4 characters.
        Assert.Equal(3 * (2 * (1000 + 1 + 1000 + 1 + 1 + 3 + 4) + 200 + 64), CoverageCollector.EstimatedBytes(events));
    }

    [Fact]
    public async Task Batches_past_queue_bytes_are_counted_not_sketched_and_the_queue_never_holds_more()
    {
        var clock = new ManualClock(Hour0.AddMinutes(30));
        var ts = Hour0.AddMinutes(5).ToUnixTimeMilliseconds();
        var batchBytes = CoverageCollector.EstimatedBytes(Batch(ts, 100, 10_000)); // ~4 MB of strings a batch
        var options = new CoverageOptions { QueueBatches = 1024, QueueBytes = 3 * batchBytes + batchBytes / 2 };
        // Nothing drains: the sketcher has fallen behind for good.
        await using var collector = new CoverageCollector(options, clock, drain: false);
        for (var i = 0; i < 10; i++)
        {
            collector.Accepted(Batch(ts, 100, 10_000));
            Assert.True(collector.QueuedBytes <= options.QueueBytes, $"{collector.QueuedBytes} bytes queued, over {options.QueueBytes}");
        }
        Assert.Equal(3 * batchBytes, collector.QueuedBytes);
        Assert.Equal(1000, collector.Received);
        Assert.Equal(700, collector.Processed); // the 7 batches past the bound, counted at once

        var store = new CoverageStore(options, clock);
        var summary = new CoverageReporter(collector, store, options, clock, () => "n1").Summary("big", TimeSpan.FromHours(1));
        Assert.Equal(700, summary.Events);
        Assert.Equal(700, summary.Unsketched);
    }
}
