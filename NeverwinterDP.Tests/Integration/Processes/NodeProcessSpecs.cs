using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Tests that start real OS processes: they run one at a time (and not beside other collections), so two
/// cores are enough and timings stay meaningful.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "nwdp processes";
}

/// <summary><c>nwdp run</c> as an operator runs it: its own process, signals, restarts, the load generator beside it.</summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class NodeProcessSpecs(ITestOutputHelper output)
{
    private static string NewRunId() => Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Run_prints_the_ready_line_and_exits_0_on_SIGTERM_after_flushing()
    {
        using var dir = new TempDir();
        var run = NewRunId();
        const string type = "graceful";
        var clock = Stopwatch.StartNew();
        // Files are published only at a flush. With a 10-minute flush interval the one flush in this test is the
        // one SIGTERM makes: nothing is in the files before it, everything after it. One writer: with two, a second
        // one joining late (a loaded machine) moves partitions, and a moved partition's files are published at once.
        await using var node = await NodeProcess.StartAsync("node", dir.Path,
            settings: ["nwdp.pump.flush-interval=10m", "nwdp.pump.batch-interval=50ms", "nwdp.pump.writers-per-sink=1"]);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {node.ReadyLine}");
        Assert.Equal("127.0.0.1", node.Http.Host);
        Assert.NotEqual(0, node.Http.Port);
        Assert.Matches(@"^127\.0\.0\.1:[1-9]\d*$", node.Kafka);
        Assert.Equal(Path.GetFullPath(dir.Path), node.DataDir);

        using var http = Ingress.NewClient();
        using (var health = await http.GetAsync(new Uri(node.Http, "/healthz")))
        {
            var body = await health.Content.ReadAsStringAsync();
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"GET /healthz answered {(int)health.StatusCode} {body}. {node.Child.Describe()}");
            Assert.Contains("\"status\":\"ready\"", body);
        }

        var acked = new List<string>();
        async Task PostAsync(int from, int count)
        {
            var messages = Enumerable.Range(from, count).Select(i => $"{run}-{i:D5}").ToList();
            using var response = await Ingress.PostAsync(http, node.Http, type, messages.Select((m, i) => Ingress.Line(m, "web-" + i % 5)));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST answered {(int)response.StatusCode} {body}. {node.Child.Describe()}");
            Assert.Equal($"{{\"accepted\":{count}}}", body);
            acked.AddRange(messages);
        }

        // The first request creates the topic; the pump discovers new topics by metadata refresh, so wait until it
        // has written the first events to the sink (not yet published) before the rest.
        await PostAsync(0, 20);
        await Poll.UntilAsync(async () => await Ingress.DeliveredAsync(http, node.Http) >= 20, Limits.PumpCatchUp,
            () => $"the pump did not deliver the first 20 events to the files sink. {node.Child.Describe()}");
        for (var b = 0; b < 6; b++) await PostAsync(20 + b * 50, 50);
        await Poll.UntilAsync(async () => await Ingress.DeliveredAsync(http, node.Http) >= acked.Count, Limits.PumpCatchUp,
            () => $"the pump did not deliver {acked.Count} events to the files sink. {node.Child.Describe()}");
        Assert.True(PublishedFiles.Files(node.FilesDir, type).Count == 0,
            "files were published before SIGTERM although flush-interval is 10m: " + string.Join(", ", PublishedFiles.Files(node.FilesDir, type)));

        // Standard output carries the ready line and nothing else while the node runs (logs go to standard error).
        Assert.Equal([node.ReadyLine], node.Child.Stdout);

        var stopping = Stopwatch.StartNew();
        var exitCode = await node.StopGracefullyAsync();
        output.WriteLine($"SIGTERM to exit: {stopping.Elapsed.TotalSeconds:0.00} s, exit code {exitCode}");
        Assert.True(exitCode == 0, $"nwdp run exited {exitCode} after SIGTERM. {node.Child.Describe()}");

        var published = PublishedFiles.Messages(node.FilesDir, type);
        AssertEachExactlyOnce(acked, published, allowedExtra: null, node.Child);
        var topicDir = PublishedFiles.TopicDir(node.FilesDir, type);
        Assert.All(PublishedFiles.Files(node.FilesDir, type), f =>
            Assert.Matches(@"^\d{4}/\d{2}/\d{2}/\d{2}$", Path.GetRelativePath(topicDir, Path.GetDirectoryName(f)!).Replace('\\', '/')));
        // Not asserted (it would make this test fail at random): during shutdown Akka sometimes prints its last log line,
        // '[INFO]...[remoting-terminator] Remoting shut down.', on standard output. Reported as a product bug.
        if (node.Child.Stdout.Count > 1) output.WriteLine("standard output after SIGTERM: " + string.Join(" | ", node.Child.Stdout.Skip(1)));
        output.WriteLine($"{published.Count} events in {PublishedFiles.Files(node.FilesDir, type).Count} files; total {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// The same promise without giving the pump time to catch up: SIGTERM straight after the last 200. The embedded
    /// broker dies with the node, so whatever was acknowledged must reach the files before the process exits.
    /// The events go to a new log type, so the pump has not even subscribed to its topic when SIGTERM arrives (before
    /// 1d7a7d7 all 300 were lost, with exit code 0).
    /// </summary>
    [Fact]
    public async Task SIGTERM_straight_after_the_acknowledgements_still_delivers_them_on_the_embedded_broker()
    {
        using var dir = new TempDir();
        var run = NewRunId();
        const string type = "late";
        await using var node = await NodeProcess.StartAsync("node", dir.Path);
        using var http = Ingress.NewClient();
        var acked = new List<string>();
        for (var b = 0; b < 6; b++)
        {
            var messages = Enumerable.Range(b * 50, 50).Select(i => $"{run}-{i:D5}").ToList();
            using var response = await Ingress.PostAsync(http, node.Http, type, messages.Select((m, i) => Ingress.Line(m, "web-" + i % 5)));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST answered {(int)response.StatusCode} {body}. {node.Child.Describe()}");
            acked.AddRange(messages);
        }

        var exitCode = await node.StopGracefullyAsync();
        Assert.True(exitCode == 0, $"nwdp run exited {exitCode} after SIGTERM. {node.Child.Describe()}");
        AssertEachExactlyOnce(acked, PublishedFiles.Messages(node.FilesDir, type), allowedExtra: null, node.Child);
    }

    [Fact]
    public async Task Killing_the_node_mid_stream_loses_no_acknowledged_event()
    {
        using var dir = new TempDir();
        var run = NewRunId();
        const string type = "crash";
        const int total = 30_000;
        const int batchSize = 200;
        const int batches = total / batchSize;
        const int senders = 6;
        var sendBudget = TimeSpan.FromSeconds(75);
        var pace = TimeSpan.FromMilliseconds(150);
        var clock = Stopwatch.StartNew();

        await using var broker = await BrokerProcess.StartAsync("broker", "--partitions", "8");
        Assert.Equal($"ok topic nwdp.logs.{type}", await broker.CommandAsync($"topic nwdp.logs.{type} 8"));
        var nodes = new List<NodeProcess>();
        try
        {
            var first = await NodeProcess.StartAsync("node-1", dir.Path, broker.Bootstrap);
            nodes.Add(first);
            Assert.Equal(broker.Bootstrap, first.Kafka);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: broker {broker.Bootstrap}; {first.ReadyLine}");
            var target = new Target(first);

            var acked = new ConcurrentDictionary<string, byte>();
            var unacked = new ConcurrentDictionary<string, byte>();
            var ackedBy = new ConcurrentDictionary<string, int>();
            var outcomes = new ConcurrentDictionary<string, int>();
            string? lastFailure = null;
            using var abort = new CancellationTokenSource();
            using var http = Ingress.NewClient();

            async Task SendAsync(int sender)
            {
                for (var b = sender; b < batches; b += senders)
                {
                    for (var attempt = 0;; attempt++)
                    {
                        if (abort.IsCancellationRequested) return;
                        if (clock.Elapsed > sendBudget)
                            throw new TimeoutException($"sender {sender}: batch {b} not acknowledged after {attempt} attempts in {sendBudget.TotalSeconds:0} s; " +
                                                       $"last failure: {lastFailure}; outcomes so far: {Tally(outcomes)}. {target.Node.Child.Describe()}");
                        var node = target.Node;
                        // A retry carries new messages: the failed attempt may or may not be in Kafka, and must not be confused with this one.
                        var messages = Enumerable.Range(0, batchSize).Select(i => $"{run}-b{b:D3}-a{attempt}-{i:D3}").ToList();
                        string outcome;
                        try
                        {
                            using var response = await Ingress.PostAsync(http, node.Http, type, messages.Select((m, i) => Ingress.Line(m, "web-" + (b + i) % 8)));
                            outcome = ((int)response.StatusCode).ToString();
                            if (response.StatusCode == HttpStatusCode.OK)
                            {
                                foreach (var m in messages) acked.TryAdd(m, 0);
                                ackedBy.AddOrUpdate(node.Child.Name, batchSize, (_, n) => n + batchSize);
                                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                                // Paced (about 4 s in all) so that the first node's pump publishes and commits a few times before the kill.
                                await Task.Delay(pace);
                                break;
                            }
                            var body = await response.Content.ReadAsStringAsync();
                            lastFailure = $"{node.Child.Name} answered {outcome} {body}";
                            if ((int)response.StatusCode is >= 400 and < 500 and not 429)
                                throw new InvalidOperationException($"sender {sender}: {lastFailure}");
                        }
                        catch (HttpRequestException e)
                        {
                            outcome = "transport error";
                            lastFailure = $"{node.Child.Name}: {e.Message}";
                        }
                        catch (TaskCanceledException)
                        {
                            outcome = "timeout";
                            lastFailure = $"{node.Child.Name}: request timed out";
                        }
                        outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                        foreach (var m in messages) unacked.TryAdd(m, 0);
                        await Task.Delay(100);
                    }
                }
            }

            async Task Aborting(Func<Task> work)
            {
                try
                {
                    await work();
                }
                catch
                {
                    abort.Cancel(); // the others stop too: one failure is enough to report
                    throw;
                }
            }

            var ackedAtKill = 0;
            var sending = Enumerable.Range(0, senders).Select(s => Task.Run(() => Aborting(() => SendAsync(s)))).ToList();
            var crash = Task.Run(() => Aborting(async () =>
            {
                await Poll.UntilAsync(() => Task.FromResult(!acked.IsEmpty), TimeSpan.FromSeconds(20),
                    () => $"node-1 acknowledged nothing; outcomes {Tally(outcomes)}; last failure: {lastFailure}. {first.Child.Describe()}", intervalMs: 20);
                await Poll.UntilAsync(() => Task.FromResult(acked.Count >= total / 3 || sending.All(t => t.IsCompleted)), sendBudget,
                    () => $"only {acked.Count} events acknowledged; outcomes {Tally(outcomes)}; last failure: {lastFailure}. {first.Child.Describe()}", intervalMs: 5);
                ackedAtKill = acked.Count;
                first.Child.Signal(ChildProcess.SIGKILL);
                var killedCode = await first.Child.WaitForExitAsync(TimeSpan.FromSeconds(20));
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL node-1 with {ackedAtKill} events acknowledged, " +
                                 $"{PublishedFiles.Messages(first.FilesDir, type).Count} published (exit code {killedCode})");
                var second = await NodeProcess.StartAsync("node-2", dir.Path, broker.Bootstrap);
                lock (nodes) nodes.Add(second);
                target.Node = second;
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {second.ReadyLine}");
            }));
            await Task.WhenAll([.. sending, crash]);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: all {batches} batches acknowledged; outcomes {Tally(outcomes)}; " +
                             $"acknowledged by {string.Join(", ", ackedBy.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}; {unacked.Count} unacknowledged attempts");
            Assert.Equal(total, acked.Count);
            Assert.True(ackedAtKill < total && ackedBy.GetValueOrDefault("node-2") > 0,
                $"the kill did not happen mid-stream: {ackedAtKill} acknowledged before it, {ackedBy.GetValueOrDefault("node-2")} by the restarted node");

            var restarted = target.Node;
            var caughtUp = await PublishedFiles.WaitForAsync(restarted.FilesDir, type,
                messages =>
                {
                    var set = messages.ToHashSet();
                    return acked.Keys.All(set.Contains);
                },
                messages =>
                {
                    var set = messages.ToHashSet();
                    var missing = acked.Keys.Where(m => !set.Contains(m)).ToList();
                    return $"{messages.Count} lines published, {missing.Count} acknowledged events missing, e.g. {string.Join(", ", missing.Order().Take(5))}";
                },
                Limits.PumpCatchUp, () => restarted.Child.Describe());
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the files hold every acknowledged event ({caughtUp.Count} lines)");

            // Stop the restarted node cleanly so that nothing is still being written while the files are counted.
            var exitCode = await restarted.StopGracefullyAsync();
            Assert.True(exitCode == 0, $"node-2 exited {exitCode} after SIGTERM. {restarted.Child.Describe()}");
            var published = PublishedFiles.Messages(restarted.FilesDir, type);
            AssertEachExactlyOnce(acked.Keys.ToList(), published, unacked.Keys.ToHashSet(), restarted.Child);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {published.Count} lines: {acked.Count} acknowledged + {published.Count - acked.Count} of {unacked.Count} unacknowledged attempts");
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Bench_against_a_running_node_reports_json_and_all_events_arrive()
    {
        using var dir = new TempDir();
        const int events = 20_000;
        var runId = "r" + NewRunId();
        var clock = Stopwatch.StartNew();
        await using var node = await NodeProcess.StartAsync("node", dir.Path);
        var url = node.Http.GetLeftPart(UriPartial.Authority);

        await using var bench = ChildProcess.StartNwdp("bench",
            ["bench", "--url", url, "--events", events.ToString(), "--batch", "100", "--concurrency", "8", "--json", "--run-id", runId]);
        var benchCode = await bench.WaitForExitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: bench exited {benchCode}: {string.Join(" ", bench.Stdout)}");
        Assert.True(benchCode == 0, $"nwdp bench exited {benchCode}. {bench.Describe()}\nnode: {node.Child.Describe()}");

        var stdout = bench.Stdout.Where(l => l.Trim().Length > 0).ToList();
        Assert.True(stdout.Count == 1, $"nwdp bench --json printed {stdout.Count} lines on standard output, not one JSON object. {bench.Describe()}");
        using var report = JsonDocument.Parse(stdout[0]);
        var root = report.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        double Number(string name)
        {
            Assert.True(root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number, $"'{name}' is missing or not a number in {stdout[0]}");
            return value.GetDouble();
        }
        Assert.Equal(0, Number("errors"));
        Assert.True(Number("events_per_sec") > 0, stdout[0]);
        Assert.True(Number("mib_per_sec") > 0, stdout[0]);
        Assert.InRange(Number("p50_ms"), double.Epsilon, Number("p99_ms"));
        Assert.Equal(events, Number("events"));

        await PublishedFiles.WaitForAsync(node.FilesDir, "bench", m => m.Count >= events, m => $"{m.Count} of {events} lines published",
            Limits.PumpCatchUp, () => node.Child.Describe());
        // A clean stop, then the count: nothing may arrive twice, late.
        var exitCode = await node.StopGracefullyAsync();
        Assert.True(exitCode == 0, $"node exited {exitCode} after SIGTERM. {node.Child.Describe()}");
        var published = PublishedFiles.Messages(node.FilesDir, "bench");
        Assert.Equal(events, published.Count);
        var seqs = published.Select(m =>
        {
            var match = Regex.Match(m, @" run=(\w+) seq=(\d+)");
            Assert.True(match.Success, $"no 'run=ID seq=N' in '{m}'");
            Assert.Equal(runId, match.Groups[1].Value);
            return long.Parse(match.Groups[2].Value);
        }).ToHashSet();
        Assert.Equal(events, seqs.Count);
        Assert.Equal(0, seqs.Min());
        Assert.Equal(events - 1, seqs.Max());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {published.Count} bench events in {PublishedFiles.Files(node.FilesDir, "bench").Count} files");
    }

    /// <summary>
    /// Every expected message is published exactly once; any other line must be one of <paramref name="allowedExtra"/>
    /// (requests that were not acknowledged may or may not have arrived), and also at most once.
    /// </summary>
    private static void AssertEachExactlyOnce(IReadOnlyCollection<string> expected, IReadOnlyList<string> published, IReadOnlySet<string>? allowedExtra, ChildProcess node)
    {
        var counts = published.GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());
        var duplicated = counts.Where(kv => kv.Value > 1).Select(kv => $"{kv.Key} x{kv.Value}").Order().ToList();
        var missing = expected.Where(m => !counts.ContainsKey(m)).Order().ToList();
        var expectedSet = expected.ToHashSet();
        var foreign = counts.Keys.Where(m => !expectedSet.Contains(m) && allowedExtra?.Contains(m) != true).Order().ToList();
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"{missing.Count} acknowledged events missing, e.g. {string.Join(", ", missing.Take(5))}");
        if (duplicated.Count > 0) problems.Add($"{duplicated.Count} events published more than once, e.g. {string.Join(", ", duplicated.Take(5))}");
        if (foreign.Count > 0) problems.Add($"{foreign.Count} lines nobody sent, e.g. {string.Join(", ", foreign.Take(5))}");
        Assert.True(problems.Count == 0, $"{published.Count} lines published for {expected.Count} acknowledged events: {string.Join("; ", problems)}. {node.Describe()}");
    }

    private static string Tally(ConcurrentDictionary<string, int> outcomes) =>
        string.Join(", ", outcomes.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>The node senders post to; switched after the restart.</summary>
    private sealed class Target(NodeProcess node)
    {
        private volatile NodeProcess _node = node;

        public NodeProcess Node
        {
            get => _node;
            set => _node = value;
        }
    }
}
