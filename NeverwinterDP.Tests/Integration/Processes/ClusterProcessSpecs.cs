using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>Three <c>nwdp run</c> processes on loopback form a cluster; the ops verbs run as processes too.</summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class ClusterProcessSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Membership = TimeSpan.FromSeconds(60);

    private sealed record Outcome(int ExitCode, IReadOnlyList<string> Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{string.Join('\n', Stdout)}\nstderr:\n{Stderr}";
    }

    private static async Task<Outcome> NwdpAsync(params string[] args)
    {
        await using var child = ChildProcess.StartNwdp("nwdp " + string.Join(' ', args), args);
        var code = await child.WaitForExitAsync(Limits.ShortVerb);
        return new Outcome(code, child.Stdout, string.Join('\n', child.Stderr));
    }

    /// <summary>Runs <c>nwdp cluster show</c> until <paramref name="done"/> holds for its output.</summary>
    private static async Task<Outcome> ShowUntilAsync(NodeProcess node, Func<Outcome, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var show = await NwdpAsync("cluster", "show", "--node", node.AdminNode!);
            if (show.ExitCode == 0 && done(show)) return show;
            if (clock.Elapsed > Membership)
                throw new TimeoutException($"'nwdp cluster show' did not show {what} within {Membership.TotalSeconds:0} s; last:\n{show}\n{node.Child.Describe()}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task Three_processes_form_a_cluster_and_a_killed_one_is_downed_and_removed()
    {
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        using var d3 = new TempDir();
        var clock = Stopwatch.StartNew();
        await using var n1 = await NodeProcess.StartAsync("node-1", d1.Path, flags: ["--node-port", "0"]);
        Assert.Matches(@"^akka\.tcp://nwdp@127\.0\.0\.1:[1-9]\d*$", n1.ClusterAddress);
        Assert.Matches(@"^127\.0\.0\.1:[1-9]\d*$", n1.AdminNode);
        // The seed given as the full address from the ready line, and as HOST:PORT.
        var seedHostPort = n1.ClusterAddress["akka.tcp://nwdp@".Length..];
        await using var n2 = await NodeProcess.StartAsync("node-2", d2.Path, flags: ["--seed", n1.ClusterAddress]);
        await using var n3 = await NodeProcess.StartAsync("node-3", d3.Path, flags: ["--seed", seedHostPort, "--roles", "pump"]);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {n1.ReadyLine}\n{n2.ReadyLine}\n{n3.ReadyLine}");

        var three = await ShowUntilAsync(n1, s => s.Stdout.Count(l => l.Contains("| Up")) == 3, "three members up");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s:\n{string.Join('\n', three.Stdout)}");
        Assert.Equal("Count: 3 nodes", three.Stdout[^1]);
        foreach (var (node, roles) in new[] { (n1, "ingress,pump"), (n2, "ingress,pump"), (n3, "pump") })
            Assert.Equal(roles, three.Stdout.Single(l => l.StartsWith(node.ClusterAddress + " ", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries)[1]);

        // SIGKILL: no leave. The others mark it unreachable; down-unreachable removes it.
        n3.Child.Signal(ChildProcess.SIGKILL);
        await n3.Child.WaitForExitAsync(Limits.ShortVerb);
        var unreachable = await ShowUntilAsync(n1, s => s.Stdout.Any(l => l.StartsWith(n3.ClusterAddress + " ", StringComparison.Ordinal) && l.Contains("unreachable")),
            "node-3 unreachable");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s:\n{string.Join('\n', unreachable.Stdout)}");
        var down = await NwdpAsync("cluster", "down-unreachable", "--node", n2.AdminNode!);
        Assert.True(down.ExitCode == 0, down.ToString());
        // The resolver (stable-after 20s) may have been quicker on a slow machine; then nothing was left to down.
        Assert.True(down.Stdout.Contains($"  down: {n3.ClusterAddress}") || down.Stdout.Contains("no unreachable members"), down.ToString());
        var two = await ShowUntilAsync(n1, s => s.Stdout[^1] == "Count: 2 nodes", "two members");
        Assert.DoesNotContain(two.Stdout, l => l.Contains(n3.ClusterAddress));
        Assert.DoesNotContain(two.Stdout, l => l.Contains("unreachable"));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-3 removed");

        // SIGTERM: node-2 leaves gracefully (no unreachable period, long before the resolver's 20 s) and exits 0.
        var leaving = Stopwatch.StartNew();
        Assert.Equal(0, await n2.StopGracefullyAsync());
        var one = await ShowUntilAsync(n1, s => s.Stdout[^1] == "Count: 1 nodes", "one member");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-2 left in {leaving.Elapsed.TotalSeconds:0.0} s");
        Assert.True(leaving.Elapsed < TimeSpan.FromSeconds(15), $"node-2 took {leaving.Elapsed.TotalSeconds:0.0} s to leave: downed rather than left? {n2.Child.Describe()}");
        Assert.Contains(n2.Child.Stderr, l => l.Contains("Exiting completed"));

        var exit = await n1.StopGracefullyAsync();
        Assert.True(exit == 0, $"node-1 exited {exit}. {n1.Child.Describe()}");
    }

    /// <summary>
    /// The journal rule (docs/cluster.md#one-journal-for-the-cluster): two nodes on one SQLite file form a cluster; a
    /// third node on a SQLite file of its own joins, finds that its journal is not the oldest member's, says what to
    /// configure, leaves and exits 3, and the cluster goes on without it.
    /// </summary>
    [Fact]
    public async Task A_node_with_a_private_SQLite_journal_is_refused_at_join_while_nodes_sharing_one_SQLite_file_form_a_cluster()
    {
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        using var d3 = new TempDir();
        string[] shared = [.. NodeProcess.FastPump, "nwdp.persistence.allow-private-journal=off",
            $"nwdp.persistence.connection-string=Data Source={Path.Combine(d1.Path, "cluster-state.db")}"];
        await using var n1 = await NodeProcess.StartAsync("node-1", d1.Path, settings: shared);
        await using var n2 = await NodeProcess.StartAsync("node-2", d2.Path, kafka: n1.Kafka, settings: shared, flags: ["--seed", n1.ClusterAddress]);
        await ShowUntilAsync(n1, s => s.Stdout.Count(l => l.Contains("| Up")) == 2, "two members up");
        var clock = Stopwatch.StartNew();
        while (!n2.Child.Stderr.Any(l => l.Contains("journal: the same as the cluster's oldest member " + n1.ClusterAddress, StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < Membership, $"node-2 never compared its journal with node-1's. {n2.Child.Describe()}");
            await Task.Delay(200);
        }

        // Not through NodeProcess: whether the refusal comes before or after its ready line is the machine's timing.
        await using var n3 = ChildProcess.StartNwdp("node-3", ["run", "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", d3.Path,
            "--kafka", n1.Kafka, "--seed", n1.ClusterAddress, "--set", "nwdp.persistence.allow-private-journal=off"]);
        var code = await n3.WaitForExitAsync(Membership);
        output.WriteLine(n3.Describe(stderrLines: 8));
        Assert.True(code == 3, $"node-3 exited {code}. {n3.Describe()}");
        var refusal = n3.Stderr.Last(l => l.StartsWith("nwdp run: ", StringComparison.Ordinal));
        Assert.Contains($"sqlite file {Path.Combine(d3.Path, "nwdp-state.db")} on ", refusal);
        Assert.Contains($"the oldest member {n1.ClusterAddress} writes sqlite file {Path.Combine(d1.Path, "cluster-state.db")}", refusal);
        Assert.Contains("nwdp.persistence.provider = postgresql (or mysql)", refusal);
        Assert.Contains("one SQLite file", refusal);

        var two = await ShowUntilAsync(n1, s => s.Stdout[^1] == "Count: 2 nodes", "node-3 gone");
        Assert.Equal(2, two.Stdout.Count(l => l.Contains("| Up")));
        Assert.False(n2.Child.HasExited, n2.Child.Describe());
        Assert.Equal(0, await n2.StopGracefullyAsync());
        Assert.Equal(0, await n1.StopGracefullyAsync());
    }

    /// <summary>
    /// Three processes on one Kafka (node-1's embedded broker), one PostgreSQL (persistence) and one files directory:
    /// node-3 runs a sink writer and is SIGKILLed while events flow; once it is downed its writer restarts on another
    /// node and every acknowledged event is in the files exactly once.
    /// </summary>
    [Fact]
    public async Task A_SIGKILLed_nodes_sink_writer_restarts_elsewhere_and_every_acknowledged_event_is_delivered()
    {
        await using var db = await NeverwinterDP.Tests.TestKit.PostgresDatabase.CreateAsync();
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        using var d3 = new TempDir();
        using var shared = new TempDir();
        string[] settings =
        [
            .. NodeProcess.FastPump,
            "nwdp.persistence.provider=postgresql",
            $"nwdp.persistence.connection-string={db.ConnectionString}",
            $"nwdp.sinks.files.directory={shared.Path}",
            "nwdp.sinks.files.fsync=off",
            "nwdp.pump.writers-per-sink=3",
            "nwdp.pump.keep-alive-interval=1s",
            "nwdp.persistence.allow-private-journal=off", // one PostgreSQL journal: the journal rule lets every node in
        ];
        await using var n1 = await NodeProcess.StartAsync("node-1", d1.Path, settings: settings, flags: ["--node-port", "0"]);
        await using var n2 = await NodeProcess.StartAsync("node-2", d2.Path, kafka: n1.Kafka, settings: settings, flags: ["--seed", n1.ClusterAddress]);
        await using var n3 = await NodeProcess.StartAsync("node-3", d3.Path, kafka: n1.Kafka, settings: settings, flags: ["--seed", n1.ClusterAddress, "--roles", "pump"]);
        await ShowUntilAsync(n1, s => s.Stdout.Count(l => l.Contains("| Up")) == 3, "three members up");
        var deadline = Stopwatch.StartNew();
        while (!n3.Child.Stderr.Any(l => l.Contains("sink writer files/") && l.Contains(" started on ")))
        {
            Assert.True(deadline.Elapsed < Membership, $"no sink writer started on node-3. {n3.Child.Describe()}");
            await Task.Delay(200);
        }

        var run = Guid.NewGuid().ToString("N")[..8];
        var acked = new List<string>();
        using var client = Ingress.NewClient();
        for (var b = 0; b < 40; b++)
        {
            if (b == 15)
            {
                n3.Child.Signal(ChildProcess.SIGKILL);
                await n3.Child.WaitForExitAsync(Limits.ShortVerb);
                output.WriteLine($"node-3 killed after {acked.Count} acknowledged events");
            }
            var lines = Enumerable.Range(b * 500, 500).Select(i => $"{run}-{i}").ToList();
            var via = b % 2 == 0 ? n1 : n2;
            var response = await Ingress.PostAsync(client, via.Http, "killed", lines.Select(m => Ingress.Line(m, "h" + (b % 5))));
            if (response.IsSuccessStatusCode) acked.AddRange(lines);
        }
        await ShowUntilAsync(n1, s => s.Stdout.Any(l => l.StartsWith(n3.ClusterAddress + " ", StringComparison.Ordinal) && l.Contains("unreachable")), "node-3 unreachable");
        var down = await NwdpAsync("cluster", "down-unreachable", "--node", n1.AdminNode!);
        Assert.True(down.ExitCode == 0, down.ToString());
        await ShowUntilAsync(n1, s => s.Stdout[^1] == "Count: 2 nodes", "two members");

        var published = await PublishedFiles.WaitForAsync(shared.Path, "killed", m => m.Count >= acked.Count, m => $"{m.Count} of {acked.Count} published",
            TimeSpan.FromSeconds(120), () => n1.Child.Describe() + "\n" + n2.Child.Describe());
        output.WriteLine($"{acked.Count} acknowledged, {published.Count} published");
        Assert.Equal(acked.Count, published.Count);
        Assert.Equal(acked.Order(), published.Order());
        Assert.Contains(n1.Child.Stderr.Concat(n2.Child.Stderr), l => l.Contains("sink writer files/") && l.Contains(" started on "));

        Assert.Equal(0, await n2.StopGracefullyAsync());
        Assert.Equal(0, await n1.StopGracefullyAsync());
    }
}
