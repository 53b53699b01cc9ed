using System.Text;
using System.Text.Json;
using NeverwinterDP.Host.Bench;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Bench;

public sealed class SteadyStateTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);

    [Fact]
    public void The_window_leaves_out_the_warm_up_and_reads_both_ends_between_samples()
    {
        // 1,000 events/s during the first 5 s (warming up), 10,000 events/s after; samples every 2 s.
        double Total(double t) => t <= 5 ? 1_000 * t : 5_000 + 10_000 * (t - 5);
        var samples = new[] { 2.0, 4, 6, 8, 10, 12 }.Select(t => new RateSample(t * S, Total(t))).ToList();

        var window = SteadyState.Compute(samples, warmup: 5 * S, loadEnd: 11 * S);

        Assert.NotNull(window);
        Assert.Equal(5 * S, window.From);
        Assert.Equal(11 * S, window.To);
        // Between the samples at 4 s (4,000) and 6 s (15,000) the total is read on a straight line: 9,500 at 5 s.
        // At 11 s, between 10 s and 12 s, the line is exact: 65,000.
        Assert.Equal(65_000 - 9_500, window.Growth, 6);
        Assert.Equal((65_000 - 9_500) / 6.0, window.PerSecond, 6);
    }

    [Fact]
    public void Exact_samples_at_both_ends_give_the_plain_rate()
    {
        // Out of order, as two threads may add them.
        var samples = new[] { new RateSample(1 * S, 100), new RateSample(7 * S, 2_100), new RateSample(3 * S, 500) };
        var window = SteadyState.Compute(samples, 3 * S, 7 * S)!;
        Assert.Equal(1_600, window.Growth);
        Assert.Equal(400, window.PerSecond);
    }

    [Fact]
    public void No_warm_up_starts_at_zero_events()
    {
        var window = SteadyState.Compute([new RateSample(2 * S, 800)], TimeSpan.Zero, 2 * S)!;
        Assert.Equal(800, window.Growth);
        Assert.Equal(400, window.PerSecond);
        Assert.Equal(200, SteadyState.ValueAt([new RateSample(2 * S, 800)], 0.5 * S));
    }

    [Fact]
    public void A_load_shorter_than_the_warm_up_or_samples_that_stop_early_have_no_window()
    {
        var samples = new[] { new RateSample(1 * S, 10), new RateSample(2 * S, 20) };
        Assert.Null(SteadyState.Compute(samples, 5 * S, 4 * S));
        Assert.Null(SteadyState.Compute(samples, 5 * S, 5 * S));
        Assert.Null(SteadyState.Compute(samples, 1 * S, 3 * S)); // no sample at or after 3 s
        Assert.Null(SteadyState.Compute([], TimeSpan.Zero, 1 * S));
    }

    [Fact]
    public void Node_cpu_is_percent_of_one_core_over_the_window_and_per_event()
    {
        // The node used 1.5 cores (1,500 ms CPU per second) after a 2 s warm-up at half a core; 30,000 events/s steady.
        var samples = new List<ProcessSample>();
        var cpu = TimeSpan.FromSeconds(10); // CPU used before the run: not counted
        for (var t = 0; t <= 10; t++)
        {
            samples.Add(new ProcessSample(t * S, cpu, (200 + t) * 1048576L));
            cpu += TimeSpan.FromMilliseconds(t < 2 ? 500 : 1_500);
        }
        var events = new SteadyWindow(2 * S, 10 * S, 240_000);

        var report = NodeProcessReport.From(42, samples, warmup: 2 * S, loadEnd: 10 * S, events, rssPeakBytes: 300 * 1048576L, note: null)!;

        Assert.Equal(42, report.Pid);
        Assert.Equal(130, report.CpuPercent, 6); // (2 x 500 + 8 x 1,500) ms over 10 s
        Assert.Equal(150, report.SteadyCpuPercent!.Value, 6);
        Assert.Equal(50, report.CpuMicrosPerEvent!.Value, 6); // 12 s of CPU for 240,000 events
        Assert.Equal(210 * 1048576L, report.RssMaxBytes);
        Assert.Equal(210 * 1048576L, report.RssEndBytes);
        Assert.Equal(300 * 1048576L, report.RssPeakBytes);
        Assert.Null(NodeProcessReport.From(42, samples.Take(1).ToList(), 2 * S, 10 * S, events, null, "exited"));
    }
}

public sealed class SequenceBitmapTests
{
    [Fact]
    public void Counts_sets_their_overlap_and_the_ranges_one_lacks()
    {
        var acknowledged = new SequenceBitmap();
        acknowledged.AddRange(0, 3_000_000); // spans three chunks
        var seen = new SequenceBitmap();
        seen.AddRange(0, 1_000);
        seen.AddRange(1_010, 2_000_000 - 1_010);
        seen.AddRange(2_000_001, 999_999);
        Assert.True(seen.Add(5_000_000_000));
        Assert.False(seen.Add(5_000_000_000));

        Assert.Equal(3_000_000, acknowledged.Count);
        Assert.Equal(3_000_000 - 11 + 1, seen.Count);
        Assert.Equal(3_000_000 - 11, seen.CountBoth(acknowledged));
        Assert.Equal(11, acknowledged.CountExcept(seen));
        Assert.Equal(1, seen.CountExcept(acknowledged));
        Assert.Equal([(1_000L, 1_009L), (2_000_000L, 2_000_000L)], acknowledged.RangesExcept(seen, 5));
        Assert.Equal([(1_000L, 1_009L)], acknowledged.RangesExcept(seen, 1));
        Assert.Equal([(5_000_000_000L, 5_000_000_000L)], seen.RangesExcept(acknowledged, 5));
        Assert.True(seen.Contains(5_000_000_000));
        Assert.False(seen.Contains(1_005));
        Assert.Throws<ArgumentOutOfRangeException>(() => seen.Add(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => seen.Add(BenchEventGenerator.MaxSequence + 1));
    }

    [Fact]
    public void Concurrent_adds_lose_nothing()
    {
        var set = new SequenceBitmap();
        Parallel.For(0, 8, i => set.AddRange(i * 500_000L, 600_000)); // overlapping ranges, racing on new chunks
        Assert.Equal(7 * 500_000 + 600_000, set.Count);
    }
}

public sealed class PartFileTallyTests
{
    private static readonly BenchEventGenerator Run = new("e2erun", "bench", hosts: 4);
    private static readonly BenchEventGenerator Other = new("otherrun", "bench", hosts: 4);

    /// <summary>A part file as the files sink publishes it: LogEventJson lines whose msg is the bench line's msg.</summary>
    private static void WritePart(string topicDir, string hour, int partition, long firstOffset, IEnumerable<string> messages, bool hidden = false)
    {
        var dir = Path.Combine(topicDir, hour);
        Directory.CreateDirectory(dir);
        var lines = messages.Select((m, i) => JsonSerializer.Serialize(new
        {
            ts = 1_700_000_000_000L,
            system_ts = 1_700_000_000_001L,
            host = "web-01",
            ip = "127.0.0.1",
            process = "nginx",
            type = "bench",
            version = "",
            level = "info",
            msg = m,
            attributes = new { req_id = "x" },
            lineage = new { node = "n-1", seq = firstOffset + i },
        })).ToList();
        var topic = Path.GetFileName(topicDir);
        var name = hidden
            ? $".{topic}-p{partition:D4}-o{firstOffset:D20}.ndjson.tmp"
            : $"{topic}-p{partition:D4}-o{firstOffset:D20}-o{firstOffset + lines.Count - 1:D20}.ndjson";
        File.WriteAllText(Path.Combine(dir, name), string.Join('\n', lines) + "\n", Encoding.UTF8);
    }

    [Fact]
    public void Finds_the_topic_under_a_data_directory_or_a_files_sink_directory()
    {
        using var data = new TempDir();
        var underData = Path.Combine(data.Path, "sinks", "files", "nwdp.logs.app.web");
        Assert.Equal(underData, PartFileTally.TopicDirectory(data.Path, "app.web")); // nothing written yet
        var tally = PartFileTally.ForDirectory(data.Path, "app.web", "r1");
        var sinkDir = Path.Combine(data.Path, "nwdp.logs.app.web"); // --e2e given the files sink's own directory
        WritePartAt(sinkDir, "r1", 0);
        Assert.Equal(sinkDir, PartFileTally.TopicDirectory(data.Path, "app.web"));
        WritePartAt(underData, "r1", 1);
        Assert.Equal(underData, PartFileTally.TopicDirectory(data.Path, "app.web"));
        Assert.Equal(2, tally.Scan());
        Assert.Equal(2, tally.Seen.Count);
    }

    private static void WritePartAt(string topicDir, string runId, long seq)
    {
        var generator = new BenchEventGenerator(runId);
        WritePart(topicDir, "2026/11/28/09", (int)seq, seq, [generator.MessageOf(seq)]);
    }

    [Fact]
    public void Counts_each_event_of_the_run_once_and_reports_a_duplicate_and_a_gap()
    {
        using var data = new TempDir();
        var topicDir = PartFileTally.TopicDirectory(data.Path, "bench");
        // seq 0..99 in two partitions and two hours; seq 40..49 never written (the gap); seq 7 written twice;
        // a hidden file being written and another run's events are not counted.
        WritePart(topicDir, "2026/11/28/09", 0, 0, Enumerable.Range(0, 20).Select(i => Run.MessageOf(i)));
        WritePart(topicDir, "2026/11/28/09", 1, 500, Enumerable.Range(20, 20).Select(i => Run.MessageOf(i)).Append(Other.MessageOf(3)));
        WritePart(topicDir, "2026/11/28/10", 0, 20, Enumerable.Range(50, 50).Select(i => Run.MessageOf(i)).Append(Run.MessageOf(7)));
        WritePart(topicDir, "2026/11/28/10", 1, 521, Enumerable.Range(40, 10).Select(i => Run.MessageOf(i)), hidden: true);
        File.WriteAllText(Path.Combine(topicDir, "2026/11/28/10", "notes.txt"), Run.MessageOf(45));

        var tally = new PartFileTally(Run.RunId, topicDir);
        Assert.Equal(3, tally.Scan());

        Assert.Equal(3, tally.FilesRead);
        Assert.Equal(91, tally.Lines);
        Assert.Equal(1, tally.Duplicates);
        Assert.Equal([7L], tally.DuplicateSamples);
        Assert.Equal(90, tally.Seen.Count);
        var acknowledged = new SequenceBitmap();
        acknowledged.AddRange(0, 100);
        Assert.Equal(90, tally.Seen.CountBoth(acknowledged));
        Assert.Equal([(40L, 49L)], acknowledged.RangesExcept(tally.Seen, 5));

        // Files already read are not read again; a newly published one is.
        Assert.Equal(0, tally.Scan());
        WritePart(topicDir, "2026/11/28/10", 1, 521, Enumerable.Range(40, 10).Select(i => Run.MessageOf(i)));
        Assert.Equal(1, tally.Scan());
        Assert.Equal(100, tally.Seen.CountBoth(acknowledged));
        Assert.Equal(1, tally.Duplicates);
        Assert.Equal(0, tally.AvroFilesSkipped);
    }

    [Fact]
    public void A_directory_not_there_yet_has_nothing_and_avro_files_are_named_not_read()
    {
        using var data = new TempDir();
        var topicDir = PartFileTally.TopicDirectory(data.Path, "bench");
        var tally = new PartFileTally(Run.RunId, topicDir);
        Assert.Equal(0, tally.Scan());
        Directory.CreateDirectory(topicDir);
        File.WriteAllBytes(Path.Combine(topicDir, "nwdp.logs.bench-p0000-o00000000000000000000-o00000000000000000009.avro"), [1, 2, 3]);
        Assert.Equal(0, tally.Scan());
        Assert.Equal(1, tally.AvroFilesSkipped);
        Assert.Equal(0, tally.Lines);
    }
}

public sealed class BenchReportTests
{
    [Fact]
    public void Json_and_text_carry_the_steady_state_the_node_and_the_end_to_end_check()
    {
        var report = new BenchReport
        {
            Url = new Uri("http://127.0.0.1:1/v1/events"),
            RunId = "r1",
            EventsSent = 1_000,
            EventsAccepted = 1_000,
            Requests = 10,
            Elapsed = TimeSpan.FromSeconds(10),
            LoadElapsed = TimeSpan.FromSeconds(9.5),
            Status = new Dictionary<int, long> { [200] = 10 },
            Warmup = TimeSpan.FromSeconds(5),
            Steady = new SteadyStateReport(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9.5), 450, 100, 5, 1, 2, 3, 4),
            Node = new NodeProcessReport(77, 150, 160, 12.5, 300 * 1048576L, 290 * 1048576L, null, null),
            EndToEnd = new EndToEndReport
            {
                Directory = "/d",
                Acknowledged = 1_000,
                InFilesAtRunEnd = 600,
                InFilesAfterWait = 990,
                Duplicates = 2,
                DuplicateSamples = [5, 6],
                MissingRanges = [(10, 19)],
                Files = 3,
            },
        };

        Assert.Equal(1, report.ExitCode); // no errors, but 10 missing and 2 duplicates
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(9.5, root.GetProperty("load_elapsed_s").GetDouble());
        Assert.Equal(100, root.GetProperty("steady").GetProperty("events_per_sec").GetDouble());
        Assert.Equal(2, root.GetProperty("steady").GetProperty("p99_ms").GetDouble());
        Assert.Equal(160, root.GetProperty("node").GetProperty("steady_cpu_percent").GetDouble());
        Assert.Equal(300, root.GetProperty("node").GetProperty("rss_max_mib").GetDouble());
        var e2e = root.GetProperty("e2e");
        Assert.Equal(1_000, e2e.GetProperty("acknowledged").GetInt64());
        Assert.Equal(600, e2e.GetProperty("in_files_at_run_end").GetInt64());
        Assert.Equal(990, e2e.GetProperty("in_files").GetInt64());
        Assert.Equal(10, e2e.GetProperty("missing").GetInt64());
        Assert.False(e2e.GetProperty("exactly_once").GetBoolean());
        Assert.Equal(10, e2e.GetProperty("missing_ranges")[0][0].GetInt64());

        var text = report.ToText();
        Assert.Contains("steady state      100 events/s from 5.0 s to 9.5 s", text, StringComparison.Ordinal);
        Assert.Contains("600 of 1,000 acknowledged events in files when the run ended, 990 after waiting", text, StringComparison.Ordinal);
        Assert.Contains("exactly once    NO: 10 missing, 2 duplicates", text, StringComparison.Ordinal);
        Assert.Contains("missing seq 10..19", text, StringComparison.Ordinal);

        var plain = report with { Steady = null, Node = null, EndToEnd = null };
        Assert.Equal(0, plain.ExitCode);
        using var plainJson = JsonDocument.Parse(plain.ToJson());
        Assert.Equal(JsonValueKind.Null, plainJson.RootElement.GetProperty("e2e").ValueKind);
        Assert.Equal(JsonValueKind.Null, plainJson.RootElement.GetProperty("steady").ValueKind);
        Assert.Contains("steady state      none", plain.ToText(), StringComparison.Ordinal);
    }
}
