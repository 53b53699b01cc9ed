using System.Diagnostics;
using System.Text.Json;
using NeverwinterDP.Host.Bench;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// One rolling restart under load (docs/cluster.md#rolling-restart, scripts/rolling-restart.sh at small scale): three
/// <c>nwdp run</c> processes on a <c>nwdp broker</c>, one SQLite journal and one files directory; the bench spreads a
/// small steady load over the three ingress URLs while each node in turn gets SIGTERM and is started again on the same
/// ports, the next only once the cluster shows three members Up again. Every acknowledged event is in the files exactly
/// once, and <c>nwdp audit</c> finds every minute of the run settled and nothing lost or duplicated.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class RollingRestartSpecs(ITestOutputHelper output)
{
    private const string Type = "rrspec";
    private static readonly TimeSpan Membership = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Each_of_three_nodes_restarted_in_turn_under_load_loses_and_duplicates_nothing_and_the_audit_agrees()
    {
        using var shared = new TempDir();
        using var files = new TempDir();
        var dirs = new[] { new TempDir(), new TempDir(), new TempDir() };
        var nodes = new NodeProcess?[3];
        await using var broker = await BrokerProcess.StartAsync("broker", "--partitions", "4", "--topic", "nwdp.logs." + Type);
        try
        {
            var http = Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{NodeProcess.FreePort()}").ToArray();
            var remoting = Enumerable.Range(0, 3).Select(_ => NodeProcess.FreePort()).ToArray();
            var seeds = string.Join(',', remoting.Select(p => $"127.0.0.1:{p}"));
            var starts = new int[3];
            async Task<NodeProcess> StartAsync(int i)
            {
                starts[i]++;
                string[] settings =
                [
                    .. NodeProcess.FastPump,
                    $"nwdp.persistence.connection-string=Data Source={Path.Combine(shared.Path, "cluster-state.db")}",
                    "nwdp.persistence.allow-private-journal=off", // one journal: the journal rule lets every node in
                    $"nwdp.sinks.files.directory={files.Path}",
                    "nwdp.sinks.files.fsync=off",
                    // Each start its own node id, so that the audit adds a stopped node's counts to its successor's.
                    $"nwdp.node.id=rr-{i + 1}-{starts[i]}",
                    "nwdp.stats.grace=2s", "nwdp.stats.publish-interval=1s", "nwdp.stats.settle-time=5s",
                ];
                return await NodeProcess.StartAsync($"node-{i + 1}.{starts[i]}", dirs[i].Path, broker.Bootstrap, settings,
                    ["--node-port", remoting[i].ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", seeds], http[i]);
            }
            for (var i = 0; i < 3; i++) nodes[i] = await StartAsync(i);
            await nodes[0]!.MembersUpAsync(3, Membership);

            var clock = Stopwatch.StartNew();
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            var bench = BenchRunner.RunAsync(new BenchOptions
            {
                Url = BenchOptions.ResolveEventsUrl(http[0]),
                Urls = http.Select(BenchOptions.ResolveEventsUrl).ToList(),
                Type = Type,
                Events = 35_000,
                Rate = 500, // 70 s: the three restarts (about 10-15 s each here) happen in it
                Batch = 25,
                Concurrency = 3,
                Warmup = TimeSpan.Zero,
                RequestTimeout = TimeSpan.FromSeconds(20),
                RetryTimeout = TimeSpan.FromMinutes(2),
                AckGapThreshold = TimeSpan.FromMilliseconds(200),
                RecordMessages = true,
            }, null, cancel.Token);

            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(3)); // acknowledgements flow between the restarts
                Assert.False(bench.IsCompleted, $"the load ended before restart {i + 1}: nothing to restart under");
                var stopped = clock.Elapsed;
                var exit = await nodes[i]!.StopGracefullyAsync();
                Assert.True(exit == 0, $"node-{i + 1} exited {exit}. {nodes[i]!.Child.Describe()}");
                await nodes[i]!.DisposeAsync();
                nodes[i] = await StartAsync(i);
                await nodes[i]!.MembersUpAsync(3, Membership);
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-{i + 1} stopped at {stopped.TotalSeconds:0.0} s, back and three members Up");
            }

            var report = await bench;
            output.WriteLine(report.ToText());
            Assert.Equal(0, report.Errors);
            Assert.Equal(report.EventsSent, report.EventsAccepted);
            Assert.All(report.Urls, u => Assert.True(u.EventsAccepted > 0, $"{u.Url} took nothing"));

            // Every acknowledged event in the shared files directory once (a batch resent after a lost answer may be
            // there twice: the sender's duplicate, which the bench counts).
            var accepted = report.AcceptedMessages!;
            var published = await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Distinct().Count() >= accepted.Count,
                m => $"{m.Distinct().Count()} of {accepted.Count} published", TimeSpan.FromSeconds(120), Describe);
            Assert.Empty(accepted.Except(published));
            var duplicates = published.Count - published.Distinct().Count();
            Assert.True(duplicates <= report.ResentEvents, $"{duplicates} duplicated events in the files, {report.ResentEvents} resent by the bench");
            Assert.Empty(published.Except(accepted)); // every batch was acknowledged in the end

            // The audit: every minute of the run settled, each sink's delivered count equal to the accepted one.
            List<JsonElement> rows = [];
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var audit = await Nwdp.RunAsync("audit", "--node", nodes[0]!.AdminNode!, "--since", "30m", "--json");
                Assert.True(audit.ExitCode is 0 or 3, audit.ToString()); // 3: something lost or duplicated (asserted below, once settled)
                rows = JsonDocument.Parse(audit.Stdout).RootElement.GetProperty("rows").EnumerateArray()
                    .Where(r => r.GetProperty("type").GetString() == Type).Select(r => r.Clone()).ToList();
                if (rows.Count > 0 && rows.All(r => r.GetProperty("settled").GetBoolean()) && rows.Sum(r => r.GetProperty("accepted").GetInt64()) >= accepted.Count) break;
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), $"the audit's minutes did not settle: {audit}");
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
            output.WriteLine((await Nwdp.RunAsync("audit", "--node", nodes[0]!.AdminNode!, "--since", "30m")).Stdout);
            Assert.Equal(accepted.Count + duplicates, rows.Sum(r => r.GetProperty("accepted").GetInt64()));
            var sinks = rows.SelectMany(r => r.GetProperty("sinks").EnumerateArray()).ToList();
            Assert.Contains(sinks, s => s.GetProperty("sink").GetString() == "files");
            Assert.All(sinks, s => Assert.True(s.GetProperty("verdict").GetString() == "ok", s.ToString()));

            for (var i = 2; i >= 0; i--) Assert.Equal(0, await nodes[i]!.StopGracefullyAsync());
        }
        finally
        {
            foreach (var node in nodes)
                if (node is not null) await node.DisposeAsync();
            foreach (var dir in dirs) dir.Dispose();
        }

        string Describe() => string.Join('\n', nodes.Where(n => n is not null).Select(n => n!.Child.Describe(stderrLines: 10)));
    }

}
