using System.Diagnostics;
using System.Globalization;
using NeverwinterDP.Host.Bench;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// A network partition under load (docs/cluster.md#network-partitions): three <c>nwdp run</c> processes on a
/// <c>nwdp broker</c>, one SQLite journal and one files directory, the bench spreading a steady load over the three
/// ingress URLs. One node holding a sink writer is cut off from the other two's remoting with iptables
/// (<see cref="NetworkPartition"/>; it still reaches the broker). The split-brain resolver, on the product's settings,
/// downs it on the majority's side and it downs itself: the majority lists two members Up, the cut node's process exits
/// on its own, its sink writers start on the majority. The rules are removed, the node started again on the same ports
/// rejoins (three Up), and every event acknowledged on either side, before, during and after the cut, is in the files
/// exactly once.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class PartitionProcessSpecs(ITestOutputHelper output)
{
    private const string Type = "partspec";
    private static readonly TimeSpan Membership = TimeSpan.FromSeconds(90);

    [PartitionFact]
    public async Task A_node_cut_off_from_the_other_two_is_downed_its_shards_move_no_acknowledged_event_is_lost_or_doubled_and_it_rejoins_after_a_restart()
    {
        using var shared = new TempDir();
        using var files = new TempDir();
        var dirs = new[] { new TempDir(), new TempDir(), new TempDir() };
        var nodes = new NodeProcess?[3];
        using var partition = new NetworkPartition();
        await using var broker = await BrokerProcess.StartAsync("broker", "--partitions", "6", "--topic", "nwdp.logs." + Type);
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
                    "nwdp.pump.writers-per-sink=3",
                    "nwdp.pump.keep-alive-interval=1s",
                    $"nwdp.node.id=part-{i + 1}-{starts[i]}",
                ];
                // Split-brain resolver and failure detector: the product's (reference.conf), which is what is measured.
                return await NodeProcess.StartAsync($"node-{i + 1}.{starts[i]}", dirs[i].Path, broker.Bootstrap, settings,
                    ["--node-port", remoting[i].ToString(CultureInfo.InvariantCulture), "--seed", seeds], http[i], partition.Prefix(i));
            }
            for (var i = 0; i < 3; i++) nodes[i] = await StartAsync(i);
            await nodes[0]!.MembersUpAsync(3, Membership);

            // The node cut off: node-1, the oldest (the leader, every shard region's coordinator) and, started first, the
            // one that starts the sink writers; it holds at least one of them at the cut (the others may have been
            // rebalanced to the two younger nodes), so the hardest case: coordinators and writers both move.
            const int cut = 0;
            int[] majority = [1, 2];
            await Poll.UntilAsync(() => Task.FromResult(WritersHeld(nodes[cut]!).Count > 0), Membership,
                () => $"no sink writer started on node-1\n{Describe()}", 200);

            var clock = Stopwatch.StartNew();
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            var bench = BenchRunner.RunAsync(new BenchOptions
            {
                Url = BenchOptions.ResolveEventsUrl(http[0]),
                Urls = http.Select(BenchOptions.ResolveEventsUrl).ToList(),
                Type = Type,
                Events = 30_000,
                Rate = 400, // 75 s: the cut, the downing (~30 s) and the restart happen in it
                Batch = 20,
                Concurrency = 3,
                Warmup = TimeSpan.Zero,
                RequestTimeout = TimeSpan.FromSeconds(20),
                RetryTimeout = TimeSpan.FromMinutes(2),
                AckGapThreshold = TimeSpan.FromMilliseconds(500),
                RecordMessages = true,
            }, null, cancel.Token);

            // Under load: events flow into the files through every node's ingress before the cut.
            await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Count >= 1_000, m => $"{m.Count} of 1000 published before the cut",
                TimeSpan.FromSeconds(60), Describe);
            Assert.False(bench.IsCompleted, "the load ended before the cut");
            var majorityLogFrom = majority.ToDictionary(i => i, i => nodes[i]!.Child.Stderr.Count);
            var moved = WritersHeld(nodes[cut]!);
            var writers = string.Join(", ", Enumerable.Range(0, 3).Select(i => $"node-{i + 1}: {string.Join(' ', WritersHeld(nodes[i]!).Order())}"));
            Assert.True(moved.Count > 0, $"node-1 holds no sink writer at the cut ({writers}): nothing to move");
            var cutAt = clock.Elapsed;
            var cutWall = DateTimeOffset.UtcNow;
            partition.Cut(cut, remoting[cut], majority.Select(i => remoting[i]).ToList());
            output.WriteLine($"{cutAt.TotalSeconds:0.0} s: node-{cut + 1} cut off from node-{majority[0] + 1} and node-{majority[1] + 1}; sink writers {writers}");

            // The majority marks it unreachable, then downs and removes it; the cut node downs itself and exits.
            TimeSpan? unreachable = null, removed = null, exited = null, writersMoved = null;
            var deadline = Stopwatch.StartNew();
            // The longest stretch with no new file published: the delivery pause of the cut node's writers' partitions.
            var lastFiles = PublishedFiles.Files(files.Path, Type).Count;
            TimeSpan lastNewFile = clock.Elapsed, longestNoFile = TimeSpan.Zero;
            while (removed is null || exited is null || writersMoved is null)
            {
                var show = await Nwdp.RunAsync("cluster", "show", "--node", nodes[majority[0]]!.AdminNode!);
                var cutLine = show.Lines.FirstOrDefault(l => l.StartsWith(nodes[cut]!.ClusterAddress + " ", StringComparison.Ordinal));
                if (unreachable is null && cutLine is not null && cutLine.Contains("unreachable", StringComparison.OrdinalIgnoreCase)) unreachable = clock.Elapsed - cutAt;
                if (removed is null && show.ExitCode == 0 && cutLine is null && show.Lines.Count(l => l.Contains("| Up")) == 2) removed = clock.Elapsed - cutAt;
                if (exited is null && nodes[cut]!.Child.HasExited) exited = clock.Elapsed - cutAt;
                if (writersMoved is null && moved.All(id => majority.Any(i => WritersStarted(nodes[i]!, majorityLogFrom[i]).Contains(id)))) writersMoved = clock.Elapsed - cutAt;
                var filesNow = PublishedFiles.Files(files.Path, Type).Count;
                if (filesNow != lastFiles) (lastFiles, lastNewFile) = (filesNow, clock.Elapsed);
                if (clock.Elapsed - lastNewFile > longestNoFile) longestNoFile = clock.Elapsed - lastNewFile;
                foreach (var i in majority)
                    Assert.False(nodes[i]!.Child.HasExited, $"node-{i + 1}, on the majority's side, exited. {nodes[i]!.Child.Describe(stderrLines: 40)}");
                Assert.True(deadline.Elapsed < Membership,
                    $"within {Membership.TotalSeconds:0} s of the cut: unreachable {unreachable}, removed {removed}, exited {exited}, writers {string.Join(',', moved)} moved {writersMoved}\n{show}\n{Describe()}");
                await Task.Delay(250);
            }
            var exitCode = await nodes[cut]!.Child.WaitForExitAsync(Limits.GracefulExit);
            output.WriteLine($"after the cut: unreachable {unreachable?.TotalSeconds:0.0} s, downed and removed {removed!.Value.TotalSeconds:0.0} s, " +
                             $"node-{cut + 1} exited (code {exitCode}) {exited!.Value.TotalSeconds:0.0} s, its writers {string.Join(',', moved)} started on the majority {writersMoved!.Value.TotalSeconds:0.0} s; " +
                             $"longest stretch without a new file published {longestNoFile.TotalSeconds:0.0} s");
            foreach (var line in majority.SelectMany(i => nodes[i]!.Child.Stderr).Concat(nodes[cut]!.Child.Stderr).Where(l => l.Contains("SBR", StringComparison.Ordinal)))
                output.WriteLine(line);
            Assert.NotNull(unreachable);
            // It went by its own split-brain resolver's decision (the majority's down cannot reach it), not by a crash.
            Assert.Contains(nodes[cut]!.Child.Stderr, l => l.Contains("SBR took decision", StringComparison.Ordinal));

            // Rules removed; the node started again on its ports rejoins.
            partition.Heal();
            await nodes[cut]!.DisposeAsync();
            var restartAt = clock.Elapsed;
            nodes[cut] = await StartAsync(cut);
            await nodes[majority[0]]!.MembersUpAsync(3, Membership);
            await nodes[cut]!.MembersUpAsync(3, Membership);
            output.WriteLine($"node-{cut + 1} restarted: three members Up {(clock.Elapsed - restartAt).TotalSeconds:0.0} s after its start");

            var report = await bench;
            output.WriteLine(report.ToText());
            foreach (var gap in report.AckGaps)
                output.WriteLine($"no acknowledgement for {gap.Length.TotalMilliseconds:0} ms from {(gap.From - cutWall).TotalSeconds:0.0} s after the cut");
            Assert.Equal(0, report.Errors);
            Assert.Equal(report.EventsSent, report.EventsAccepted);
            Assert.True(report.Urls.Single(u => u.Url == BenchOptions.ResolveEventsUrl(http[cut])).EventsAccepted > 0, $"node-{cut + 1} took nothing");

            // Every acknowledged event in the shared files directory once (a batch resent after a lost answer may be
            // there twice: the sender's duplicate, which the bench counts).
            var accepted = report.AcceptedMessages!;
            var published = await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Distinct().Count() >= accepted.Count,
                m => $"{m.Distinct().Count()} of {accepted.Count} published", TimeSpan.FromSeconds(120), Describe);
            Assert.Empty(accepted.Except(published));
            var duplicates = published.Count - published.Distinct().Count();
            output.WriteLine($"{accepted.Count} acknowledged, {published.Count} in the files, {duplicates} duplicated, {report.ResentEvents} resent by the bench");
            Assert.True(duplicates <= report.ResentEvents, $"{duplicates} duplicated events in the files, {report.ResentEvents} resent by the bench");
            Assert.Empty(published.Except(accepted));

            // One at a time. The last may already be stopping when the one before it leaves: a two-member cluster is an
            // even split, and one such run saw it downed (exit 0 all the same) as the other's graceful leave ended.
            foreach (var i in new[] { cut }.Concat(majority))
                Assert.Equal(0, nodes[i]!.Child.HasExited ? await nodes[i]!.Child.WaitForExitAsync(Limits.GracefulExit) : await nodes[i]!.StopGracefullyAsync());
        }
        finally
        {
            partition.Heal(); // before the processes go, and whatever failed
            foreach (var node in nodes)
                if (node is not null) await node.DisposeAsync();
            foreach (var dir in dirs) dir.Dispose();
        }

        string Describe() => string.Join('\n', nodes.Where(n => n is not null).Select(n => n!.Child.Describe(stderrLines: 15)));
    }

    /// <summary>The sink writers (<c>files/N</c>) the node runs now: its last line about each says started, not handing off.</summary>
    private static HashSet<string> WritersHeld(NodeProcess node)
    {
        var last = new Dictionary<string, bool>();
        foreach (var line in node.Child.Stderr)
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"sink writer (files/\S+) (started on |handing off)");
            if (m.Success) last[m.Groups[1].Value] = m.Groups[2].Value.StartsWith("started", StringComparison.Ordinal);
        }
        return last.Where(w => w.Value).Select(w => w.Key).ToHashSet();
    }

    /// <summary>The sink writers (<c>files/N</c>) the node logged as started, in its standard error from line <paramref name="from"/>.</summary>
    private static HashSet<string> WritersStarted(NodeProcess node, int from) =>
        node.Child.Stderr.Skip(from)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"sink writer (files/\S+) started on "))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();

}
