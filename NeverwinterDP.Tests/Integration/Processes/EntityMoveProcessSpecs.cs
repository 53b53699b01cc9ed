using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using NeverwinterDP.Actors.Sharding;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Issue 15 item 3 (docs/cluster.md#entities-that-move-tested-with-processes): three <c>nwdp run</c> processes on one
/// <c>nwdp broker</c>, one PostgreSQL journal and one files directory. Node-3 holds some of every entity type (emitter
/// and watchdog shards, a sink writer) and a spill backlog; it is SIGKILLed and downed. The cluster's answer, read from
/// node-1 with the ops verbs, is the same after the move as before: every source's counts and last sequence, every
/// host's online/offline state; the sequences go on from where they were; every acknowledged event reaches the files
/// once; the backlog stays on node-3's disk (no other node has it) and is replayed when node-3 is started again.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class EntityMoveProcessSpecs(ITestOutputHelper output)
{
    private const string Type = "moves";
    private const int Hosts = 24;
    private static readonly TimeSpan Membership = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    private static readonly EntityMessageExtractor Shards = new(EntityShards.Count);

    [Fact]
    public async Task Each_entity_type_on_a_SIGKILLed_node_moves_with_its_state_and_its_spill_backlog_waits_for_the_node()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        using var d3 = new TempDir();
        using var files = new TempDir();
        await using var broker = await BrokerProcess.StartAsync("broker", "--partitions", "3", "--topic", "nwdp.logs." + Type);
        string[] settings =
        [
            .. NodeProcess.FastPump,
            "nwdp.persistence.provider=postgresql",
            $"nwdp.persistence.connection-string={db.ConnectionString}",
            "nwdp.persistence.allow-private-journal=off", // one journal: the journal rule lets every node in
            $"nwdp.sinks.files.directory={files.Path}",
            "nwdp.sinks.files.fsync=off",
            "nwdp.pump.writers-per-sink=3",
            "nwdp.pump.keep-alive-interval=1s",
            "nwdp.spill.after=2s",
            "nwdp.spill.probe-interval=500ms",
            // Offline 20 s after a host's last event: long enough for a move (kill, unreachable, down, recovery) on a
            // loaded machine, short enough to wait for.
            "nwdp.watchdog.offline-after=20s",
            "nwdp.watchdog.event-beat-interval=1s",
        ];
        await using var n1 = await NodeProcess.StartAsync("node-1", d1.Path, broker.Bootstrap, settings);
        await using var n2 = await NodeProcess.StartAsync("node-2", d2.Path, broker.Bootstrap, settings, ["--seed", n1.ClusterAddress]);
        var n3 = await NodeProcess.StartAsync("node-3", d3.Path, broker.Bootstrap, settings, ["--seed", n1.ClusterAddress]);
        NodeProcess? n3b = null;
        var clock = Stopwatch.StartNew();
        try
        {
            await n1.MembersUpAsync(3, Membership);
            await Wait.UntilAsync(() => n3.Child.Stderr.Any(l => l.Contains("sink writer files/") && l.Contains(" started on ")), Membership,
                () => "no sink writer started on node-3. " + n3.Child.Describe());
            Log(clock, "three members up, a sink writer on node-3");

            // Idle hosts: events through node-1 (so their sequence numbers are node-1's), then silence until offline.
            var run = Guid.NewGuid().ToString("N")[..8];
            using var client = Ingress.NewClient();
            var idle = Enumerable.Range(0, Hosts).Select(i => $"idle-{run}-{i}").ToList();
            var live = Enumerable.Range(0, Hosts).Select(i => $"live-{run}-{i}").ToList();
            var acked = new List<string>();
            await PostAsync(client, n1, idle, 10, 0, acked);
            var delivered = await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Count >= acked.Count, m => $"{m.Count} of {acked.Count}",
                Settle, () => Describe(n1, n2, n3));
            Assert.Equal(acked.Order(), delivered.Order());
            await Wait.UntilAsync(async () => (await WatchdogAsync(n1)).Count(h => idle.Contains(h.Host) && !h.Online) == Hosts, Settle,
                () => "the idle hosts did not go offline. " + n1.Child.Describe());
            Log(clock, $"{acked.Count} events of {Hosts} idle hosts delivered; all offline");

            // The bus goes down; live hosts send through node-3, which spills them to its own disk.
            Assert.Equal("ok down 1", await broker.CommandAsync("down 1"));
            var spilled = new List<string>();
            await PostAsync(client, n3, live, 25, 0, spilled);
            Assert.Equal(Hosts * 25, spilled.Count);
            Assert.Equal(spilled.Count, Backlog(await SpillStatusAsync(n3)));
            Assert.Equal(0, Backlog(await SpillStatusAsync(n1)));
            Assert.Equal(0, Backlog(await SpillStatusAsync(n2)));
            // The registry reports every flush interval: wait until every source's counts are in.
            await Wait.UntilAsync(async () => (await SourcesAsync(n1)).Sum(s => s.GetProperty("events").GetInt64()) == acked.Count + spilled.Count, Settle,
                () => "the sources' counts did not come in. " + Describe(n1, n2, n3));

            // Before: the cluster's answer, and where each entity type lives.
            var sourcesBefore = await SourcesAsync(n1);
            var hostsBefore = await WatchdogAsync(n1);
            Assert.Equal(2 * Hosts, sourcesBefore.Count);
            Assert.All(idle, h => Assert.Contains(hostsBefore, s => s.Host == h && !s.Online));
            Assert.All(live, h => Assert.Contains(hostsBefore, s => s.Host == h && s.Online));
            var emitterShards = await ShardHomesAsync(n1, "emitter");
            var watchdogShards = await ShardHomesAsync(n1, "watchdog");
            var onNode3 = (Emitters: sourcesBefore.Select(s => s.GetProperty("source_id").GetString()!).Where(s => emitterShards[Shards.ShardId(s)] == n3.ClusterAddress).ToList(),
                Idle: idle.Where(h => watchdogShards[Shards.ShardId(h)] == n3.ClusterAddress).ToList(),
                Live: live.Where(h => watchdogShards[Shards.ShardId(h)] == n3.ClusterAddress).ToList());
            Log(clock, $"node-3 holds {onNode3.Emitters.Count} emitters, {onNode3.Idle.Count} offline and {onNode3.Live.Count} online hosts' watchdogs, a sink writer and {spilled.Count} spilled events");
            Assert.NotEmpty(onNode3.Emitters);
            Assert.NotEmpty(onNode3.Idle);
            Assert.NotEmpty(onNode3.Live);

            // SIGKILL node-3; once it is unreachable it is downed and its shards move to node-1 and node-2.
            n3.Child.Signal(ChildProcess.SIGKILL);
            await n3.Child.WaitForExitAsync(Limits.ShortVerb);
            var killedAt = clock.Elapsed;
            await Wait.UntilAsync(async () => (await Nwdp.RunAsync("cluster", "show", "--node", n1.AdminNode!)).Lines
                .Any(l => l.StartsWith(n3.ClusterAddress + " ", StringComparison.Ordinal) && l.Contains("unreachable")), Membership);
            var down = await Nwdp.RunAsync("cluster", "down-unreachable", "--node", n1.AdminNode!);
            Assert.True(down.ExitCode == 0, down.ToString());
            await n1.MembersUpAsync(2, Membership, total: 2);
            Log(clock, $"node-3 killed, unreachable, downed and removed in {(clock.Elapsed - killedAt).TotalSeconds:0.0} s");

            // After: the same answer from the entities' new homes (asked until every one has recovered there). The
            // watchdog's answer moves with the clock: a host online before may since have passed its deadline (the
            // same deadline: its last beat moved with it) and gone offline then, as it would have without a move.
            List<JsonElement> sourcesAfter = [];
            List<HostState> hostsAfter = [];
            var attempts = new List<string>(); // what each answer lacked, for the log: how long the move takes and why
            await Wait.UntilAsync(async () =>
            {
                var asked = clock.Elapsed - killedAt;
                try
                {
                    sourcesAfter = await SourcesAsync(n1);
                    hostsAfter = await WatchdogAsync(n1);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    attempts.Add($"{asked.TotalSeconds:0.0}-{(clock.Elapsed - killedAt).TotalSeconds:0.0} s: {e.Message.Split('\n')[0]}");
                    throw;
                }
                attempts.Add($"{asked.TotalSeconds:0.0}-{(clock.Elapsed - killedAt).TotalSeconds:0.0} s: {sourcesAfter.Count} sources, {hostsAfter.Count} hosts");
                return Same(sourcesBefore, sourcesAfter) && hostsBefore.Count == hostsAfter.Count && hostsBefore.Zip(hostsAfter).All(p => Kept(p.Item1, p.Item2));
            }, Settle, () => $"sources before:\n{Text(sourcesBefore)}\nafter:\n{Text(sourcesAfter)}\nhosts before:\n{Text(hostsBefore.Select(h => h.Json))}\nafter:\n{Text(hostsAfter.Select(h => h.Json))}");
            Log(clock, $"the same sources and hosts answered {(clock.Elapsed - killedAt).TotalSeconds:0.0} s after the kill; "
                       + $"{hostsAfter.Count(h => live.Contains(h.Host) && !h.Online)} of {Hosts} online hosts past their deadline meanwhile; "
                       + $"the answers after the kill:\n    {string.Join("\n    ", attempts)}");
            var movedEmitters = await ShardHomesAsync(n1, "emitter");
            var movedWatchdogs = await ShardHomesAsync(n1, "watchdog");
            Assert.All(onNode3.Emitters, s => Assert.Contains(movedEmitters[Shards.ShardId(s)], new[] { n1.ClusterAddress, n2.ClusterAddress }));
            Assert.All(onNode3.Idle.Concat(onNode3.Live), h => Assert.Contains(movedWatchdogs[Shards.ShardId(h)], new[] { n1.ClusterAddress, n2.ClusterAddress }));

            // The backlog stayed on node-3's disk: no survivor has it, and with the bus back none of it is published.
            Assert.Equal(0, Backlog(await SpillStatusAsync(n1)));
            Assert.Equal(0, Backlog(await SpillStatusAsync(n2)));
            Assert.Equal("ok up 1", await broker.CommandAsync("up 1"));

            // The idle hosts send again through node-1: counts and sequences go on (11..20), and they come back online.
            await PostAsync(client, n1, idle, 10, 10, acked);
            await Wait.UntilAsync(async () =>
            {
                var sources = await SourcesAsync(n1);
                return idle.All(h => sources.Any(s => s.GetProperty("host").GetString() == h
                                                      && s.GetProperty("events").GetInt64() == 20 && s.GetProperty("last_source_seq").GetInt64() == 20));
            }, Settle, () => "the idle hosts' counts did not go on to 20. " + n1.Child.Describe());
            await Wait.UntilAsync(async () => (await WatchdogAsync(n1)).Count(h => idle.Contains(h.Host) && h.Online) == Hosts, Settle);
            // The live hosts' next beat (through node-1) finds each online again, its state (26 events) counted on.
            var liveBeats = new List<string>();
            await PostAsync(client, n1, live, 1, 25, liveBeats);
            await Wait.UntilAsync(async () =>
            {
                var hosts = await WatchdogAsync(n1);
                var sources = await SourcesAsync(n1);
                return live.All(h => hosts.Single(s => s.Host == h).Online
                                     && sources.Single(s => s.GetProperty("host").GetString() == h).GetProperty("events").GetInt64() == 26);
            }, Settle, () => "the live hosts did not come back online with 26 events each. " + n1.Child.Describe());
            var throughNode1 = acked.Concat(liveBeats).ToList();
            delivered = await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Count >= throughNode1.Count, m => $"{m.Count} of {throughNode1.Count}",
                Settle, () => Describe(n1, n2));
            Assert.Equal(throughNode1.Order(), delivered.Order());
            Assert.Contains(n1.Child.Stderr.Concat(n2.Child.Stderr), l => l.Contains("sink writer files/") && l.Contains(" started on "));
            Log(clock, $"idle hosts' sequences went on to 20; {throughNode1.Count} events through node-1 in the files once; none of node-3's {spilled.Count} spilled");

            // Node-3 again on its data directory: it rejoins and replays its own backlog, exactly once.
            n3b = await NodeProcess.StartAsync("node-3b", d3.Path, broker.Bootstrap, settings, ["--seed", n1.ClusterAddress]);
            await n1.MembersUpAsync(3, Membership);
            var all = throughNode1.Concat(spilled).ToList();
            delivered = await PublishedFiles.WaitForAsync(files.Path, Type, m => m.Count >= all.Count, m => $"{m.Count} of {all.Count}",
                Settle, () => Describe(n1, n2, n3b));
            Assert.Equal(all.Order(), delivered.Order());
            await Wait.UntilAsync(async () => Backlog(await SpillStatusAsync(n3b)) == 0, Settle);
            // A replay publishes; it does not count the events again.
            var final = await SourcesAsync(n1);
            Assert.All(live, h => Assert.Equal(26, final.Single(s => s.GetProperty("host").GetString() == h).GetProperty("events").GetInt64()));
            Log(clock, $"node-3 back: its {spilled.Count} spilled events replayed, {all.Count} in the files once");

            Assert.Equal(0, await n3b.StopGracefullyAsync());
            Assert.Equal(0, await n2.StopGracefullyAsync());
            Assert.Equal(0, await n1.StopGracefullyAsync());
        }
        finally
        {
            await n3.DisposeAsync();
            if (n3b is not null) await n3b.DisposeAsync();
        }
    }

    private void Log(Stopwatch clock, string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s: {what}");

    private static string Describe(params NodeProcess[] nodes) => string.Join('\n', nodes.Select(n => n.Child.Describe(stderrLines: 10)));

    /// <summary>Posts <paramref name="count"/> events per host (one request per host) and adds the acknowledged ones' messages.</summary>
    private static async Task PostAsync(HttpClient client, NodeProcess node, IReadOnlyList<string> hosts, int count, int from, List<string> acked)
    {
        foreach (var host in hosts)
        {
            var messages = Enumerable.Range(from, count).Select(i => $"{host}-{i}").ToList();
            using var response = await Ingress.PostAsync(client, node.Http, Type,
                messages.Select(m => $"{{\"msg\":\"{m}\",\"host\":\"{host}\",\"process\":\"app\",\"level\":\"info\"}}"));
            Assert.True(response.IsSuccessStatusCode, $"{host}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            acked.AddRange(messages);
        }
    }

    private static async Task<JsonElement> JsonVerbAsync(params string[] args)
    {
        var outcome = await Nwdp.RunAsync([.. args, "--json"]);
        if (outcome.ExitCode != 0)
            throw new InvalidOperationException($"nwdp {string.Join(' ', args.TakeWhile(a => a != "--node"))}: exit {outcome.ExitCode}: {outcome.Stderr.Trim()}\n{outcome.Stdout}");
        return JsonDocument.Parse(outcome.Stdout).RootElement.Clone();
    }

    /// <summary><c>nwdp sources --json</c>: every source the journal knows, asked of its emitter entity wherever it runs.</summary>
    private static async Task<List<JsonElement>> SourcesAsync(NodeProcess node) =>
        (await JsonVerbAsync("sources", "--node", node.AdminNode!)).GetProperty("sources").EnumerateArray().ToList();

    private sealed record HostState(string Host, bool Online, JsonElement Json);

    /// <summary><c>nwdp watchdog --json</c>.</summary>
    private static async Task<List<HostState>> WatchdogAsync(NodeProcess node) =>
        (await JsonVerbAsync("watchdog", "--node", node.AdminNode!)).GetProperty("hosts").EnumerateArray()
        .Select(h => new HostState(h.GetProperty("host").GetString()!, h.GetProperty("online").GetBoolean(), h)).ToList();

    /// <summary><c>nwdp cluster-sharding shard-stats -t TYPE --json</c>: each shard's member address.</summary>
    private static async Task<Dictionary<string, string>> ShardHomesAsync(NodeProcess node, string type)
    {
        var stats = await JsonVerbAsync("cluster-sharding", "shard-stats", "-t", type, "--node", node.AdminNode!);
        var homes = new Dictionary<string, string>();
        foreach (var member in stats.GetProperty("members").EnumerateArray())
        {
            Assert.Empty(member.GetProperty("failed").EnumerateArray());
            foreach (var shard in member.GetProperty("shards").EnumerateObject()) homes[shard.Name] = member.GetProperty("address").GetString()!;
        }
        return homes;
    }

    private static async Task<JsonElement> SpillStatusAsync(NodeProcess node)
    {
        using var client = node.AdminClient();
        return await client.GetFromJsonAsync<JsonElement>("/v1/spill/status");
    }

    /// <summary>Events of the test's topic spilled and not yet replayed (the node's own topics, e.g. its stats, left out).</summary>
    private static long Backlog(JsonElement status) => status.GetProperty("topics").EnumerateArray()
        .Where(t => t.GetProperty("topic").GetString() == "nwdp.logs." + Type).Sum(t => t.GetProperty("events").GetInt64());

    private static bool Same(IReadOnlyList<JsonElement> a, IReadOnlyList<JsonElement> b) =>
        a.Count == b.Count && a.Zip(b).All(p => JsonElement.DeepEquals(p.Item1, p.Item2));

    /// <summary>
    /// A host's state after the move is its state before (last beat, deadline, processes), online or offline as it
    /// was, or offline since its own deadline passed.
    /// </summary>
    private static bool Kept(HostState before, HostState after)
    {
        long Ms(HostState h, string name) => h.Json.GetProperty(name).GetInt64();
        if (before.Host != after.Host || Ms(before, "last_heartbeat_ms") != Ms(after, "last_heartbeat_ms") || Ms(before, "deadline_ms") != Ms(after, "deadline_ms")
            || !JsonElement.DeepEquals(before.Json.GetProperty("processes"), after.Json.GetProperty("processes"))) return false;
        if (before.Online && !after.Online) return Ms(after, "changed_at_ms") >= Ms(before, "deadline_ms");
        return JsonElement.DeepEquals(before.Json, after.Json);
    }

    private static string Text(IEnumerable<JsonElement> rows) => string.Join('\n', rows.Select(r => r.GetRawText()));
}
