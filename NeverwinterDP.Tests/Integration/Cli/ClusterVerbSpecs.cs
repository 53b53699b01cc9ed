using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Cli;

/// <summary>
/// Three nodes in this process form a cluster; every ops verb runs through the CLI's code path against their
/// admin APIs. Nodes go one at a time, youngest first: leave, down, then the last one leaves by itself.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ClusterVerbSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Membership = TimeSpan.FromSeconds(30);

    private static JsonElement Json(CliOutcome outcome)
    {
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Single(outcome.Lines);
        return JsonDocument.Parse(outcome.Stdout).RootElement.Clone();
    }

    private static int UpMembers(InProcessNode node) => Cluster.Get(node.System).State.Members.Count(m => m.Status == MemberStatus.Up);

    [Fact]
    public async Task Three_nodes_form_a_cluster_that_every_ops_verb_reads_and_changes()
    {
        var clock = Stopwatch.StartNew();
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        using var d3 = new TempDir();
        // node-1: both roles, the embedded broker, a cluster of its own. node-2: ingress only, seeded with
        // node-1, has an emitter registry. node-3: pump only, no seeds and join-self off: joined by 'cluster join'.
        await using var n1 = await InProcessNode.StartAsync(d1.Path);
        var kafka = n1.Bus.BootstrapServers;
        await using var n2 = await InProcessNode.StartAsync(d2.Path, overrides: new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka,
            ["nwdp.cluster.seeds"] = n1.ClusterAddress,
            ["nwdp.cluster.roles"] = "ingress",
        }, configureServices: s => s.AddSingleton<IRegistryQueries, FixedRegistry>());
        await using var n3 = await InProcessNode.StartAsync(d3.Path, overrides: new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka,
            ["nwdp.cluster.join-self"] = "off",
            ["nwdp.cluster.roles"] = "pump",
        });
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: started {n1.ClusterAddress}, {n2.ClusterAddress}, {n3.ClusterAddress}");
        Assert.Empty(Cluster.Get(n3.System).State.Members);

        var join = await Nwdp.RunAsync("cluster", "join", n1.ClusterAddress, "--node", n3.AdminNode);
        Assert.True(join.ExitCode == 0, join.ToString());
        Assert.Contains($"was asked to join {n1.ClusterAddress}", join.Stdout);
        // Every node's own view (gossip converges node by node): the verbs below ask each of them.
        await Poll.UntilAsync(() => Task.FromResult(UpMembers(n1) == 3 && UpMembers(n2) == 3 && UpMembers(n3) == 3), Membership,
            () => $"node-1 sees {UpMembers(n1)} members up, node-2 {UpMembers(n2)}, node-3 {UpMembers(n3)}");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: three members up");

        // The event stream starts with the current state.
        await using var tail = Nwdp.Start("cluster", "tail", "--node", n1.AdminNode);
        await Poll.UntilAsync(() => Task.FromResult(tail.Lines.Count(l => l.Contains(" MemberUp ")) == 3 && tail.Lines.Any(l => l.Contains(" LeaderChanged "))),
            Membership, () => $"cluster tail printed:\n{tail.Stdout}\nstderr: {tail.Stderr}");

        // cluster show: the table, then the count.
        var show = await Nwdp.RunAsync("cluster", "show", "--node", n1.AdminNode);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal(["address", "roles", "status"], show.Lines[0].Split('|', StringSplitOptions.TrimEntries));
        foreach (var (node, roles) in new[] { (n1, "ingress,pump"), (n2, "ingress"), (n3, "pump") })
        {
            var row = show.Lines.Single(l => l.StartsWith(node.ClusterAddress + " ", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal(roles, row[1]);
            Assert.StartsWith("Up", row[2]);
        }
        Assert.Equal("Count: 3 nodes", show.Lines[^1]);
        Assert.Contains("this node", show.Lines.Single(l => l.StartsWith(n1.ClusterAddress + " ", StringComparison.Ordinal)));

        var members = Json(await Nwdp.RunAsync("cluster", "show", "--node", n2.AdminNode, "--json"));
        Assert.Equal(n2.ClusterAddress, members.GetProperty("self").GetString());
        var leader = Cluster.Get(n1.System).State.Leader!.ToString();
        Assert.Equal(leader, members.GetProperty("leader").GetString());
        var list = members.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(3, list.Count);
        Assert.All(list, m => Assert.True(m.GetProperty("reachable").GetBoolean()));
        Assert.Equal([1, 2, 3], list.Select(m => m.GetProperty("up_number").GetInt32()).Order());
        Assert.Equal(1, list.Single(m => m.GetProperty("address").GetString() == n1.ClusterAddress).GetProperty("up_number").GetInt32());
        Assert.Single(list, m => m.GetProperty("leader").GetBoolean());
        Assert.Single(list, m => m.GetProperty("self").GetBoolean() && m.GetProperty("address").GetString() == n2.ClusterAddress);

        // cluster status and leader.
        var status = await Nwdp.RunAsync("cluster", "status", "--node", n3.AdminNode);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"Address:   {n3.ClusterAddress}", status.Lines);
        Assert.Contains("Roles:     pump", status.Lines);
        Assert.Contains("Status:    Up", status.Lines);
        Assert.Contains("Members:   3 (0 unreachable)", status.Lines);
        var statusJson = Json(await Nwdp.RunAsync("cluster", "status", "--node", n3.AdminNode, "--json"));
        Assert.True(statusJson.GetProperty("node").GetProperty("self").GetBoolean());
        Assert.Equal(3, statusJson.GetProperty("members").GetInt32());

        var leaderText = await Nwdp.RunAsync("cluster", "leader", "--node", n2.AdminNode);
        Assert.True(leaderText.ExitCode == 0, leaderText.ToString());
        Assert.Equal(leader, leaderText.Lines[0]);
        var leaderJson = Json(await Nwdp.RunAsync("cluster", "leader", "--node", n2.AdminNode, "--json"));
        Assert.Equal(leader, leaderJson.GetProperty("leader").GetString());
        // Role leaders: among the members with the role, the first by address (what Akka's state says).
        foreach (var role in new[] { "ingress", "pump" })
            Assert.Equal(Cluster.Get(n1.System).State.RoleLeader(role)!.ToString(), leaderJson.GetProperty("role_leaders").GetProperty(role).GetString());

        await ShardingVerbsAsync(n1, n2, n3);
        await ActorHierarchyAsync(n1);
        await RegistryVerbsAsync(n1, n2);
        await ListenersAndRolesAsync(n1, n2, n3);

        // Youngest first. node-3 is asked (through node-1) to leave: it leaves gracefully and its host stops.
        var leave = await Nwdp.RunAsync("cluster", "leave", n3.ClusterAddress, "--node", n1.AdminNode);
        Assert.True(leave.ExitCode == 0, leave.ToString());
        Assert.Contains($"{n3.ClusterAddress} was asked to leave", leave.Stdout);
        await Poll.UntilAsync(() => Task.FromResult(n3.App.Lifetime.ApplicationStopped.IsCancellationRequested && Cluster.Get(n1.System).State.Members.Count == 2),
            Membership, () => $"node-3 stopped: {n3.App.Lifetime.ApplicationStopped.IsCancellationRequested}; node-1 sees {Cluster.Get(n1.System).State.Members.Count} members");
        await Poll.UntilAsync(() => Task.FromResult(tail.Lines.Any(l => l.Contains($" MemberRemoved {n3.ClusterAddress}"))), Membership,
            () => $"cluster tail printed:\n{tail.Stdout}");
        Assert.Contains(tail.Lines, l => l.Contains($" MemberLeft {n3.ClusterAddress}"));
        Assert.DoesNotContain(tail.Lines, l => l.Contains($"UnreachableMember {n3.ClusterAddress}"));
        Assert.True(await n3.System.WhenTerminated.WaitAsync(Membership).ContinueWith(t => t.IsCompletedSuccessfully), "node-3's actor system did not terminate");
        var afterLeave = await Nwdp.RunAsync("cluster", "show", "--node", n1.AdminNode);
        Assert.Equal("Count: 2 nodes", afterLeave.Lines[^1]);
        Assert.DoesNotContain(n3.ClusterAddress, afterLeave.Stdout);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-3 left");

        // Nothing is unreachable: down-unreachable downs nobody.
        var none = await Nwdp.RunAsync("cluster", "down-unreachable", "--node", n1.AdminNode);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal(["no unreachable members"], none.Lines);
        var notMember = await Nwdp.RunAsync("cluster", "down", "127.0.0.1:1", "--node", n1.AdminNode);
        Assert.True(notMember.ExitCode == 1, notMember.ToString());
        Assert.Contains("akka.tcp://nwdp@127.0.0.1:1 is not a member", notMember.Stderr);
        Assert.Contains(n1.AdminNode, notMember.Stderr);

        // node-2 is downed: it is removed, and it stops itself.
        var down = Json(await Nwdp.RunAsync("cluster", "down", n2.ClusterAddress, "--node", n1.AdminNode, "--json"));
        Assert.Equal("down", down.GetProperty("action").GetString());
        Assert.Equal([n2.ClusterAddress], down.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        await Poll.UntilAsync(() => Task.FromResult(n2.App.Lifetime.ApplicationStopped.IsCancellationRequested && Cluster.Get(n1.System).State.Members.Count == 1),
            Membership, () => $"node-2 stopped: {n2.App.Lifetime.ApplicationStopped.IsCancellationRequested}; node-1 sees {Cluster.Get(n1.System).State.Members.Count} members");
        await Poll.UntilAsync(() => Task.FromResult(tail.Lines.Any(l => l.Contains($" MemberRemoved {n2.ClusterAddress}"))), Membership,
            () => $"cluster tail printed:\n{tail.Stdout}");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-2 downed");

        // Ctrl-C ends the tail with 0.
        Assert.Equal(0, await tail.StopAsync());
        output.WriteLine("cluster tail:\n" + tail.Stdout);

        // The last node leaves when asked to: 'cluster leave' without an address means the node asked.
        var self = await Nwdp.RunAsync("cluster", "leave", "--node", n1.AdminNode);
        Assert.True(self.ExitCode == 0, self.ToString());
        Assert.Contains($"{n1.ClusterAddress} is leaving the cluster", self.Stdout);
        await Poll.UntilAsync(() => Task.FromResult(n1.App.Lifetime.ApplicationStopped.IsCancellationRequested), Membership, () => "node-1 did not stop after leaving");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node-1 left");
    }

    private async Task ShardingVerbsAsync(InProcessNode n1, InProcessNode n2, InProcessNode n3)
    {
        var regions = new List<IActorRef>();
        foreach (var node in new[] { n1, n2, n3 }) regions.Add(await TestShards.StartAsync(node.System));
        const int entities = 12;
        for (var i = 0; i < entities; i++)
            Assert.Equal("e" + i, await regions[i % 3].Ask<string>(new Touch("e" + i), TimeSpan.FromSeconds(20)));

        var text = await Nwdp.RunAsync("cluster-sharding", "regions", "--node", n1.AdminNode);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Equal(["type", "shards", "entities"], text.Lines[0].Split('|', StringSplitOptions.TrimEntries));
        // The node's own regions (emitter, sink-writer, watchdog; spillover is a per-node actor, not a region) and the test's.
        var types = text.Lines.Skip(1).SkipLast(1).Select(l => l.Split('|', StringSplitOptions.TrimEntries)[0]).ToList();
        Assert.Equal(["emitter", "sink-writer", TestShards.TypeName, "watchdog"], types.Order(StringComparer.Ordinal));
        Assert.Equal($"Count: {types.Count} regions", text.Lines[^1]);

        // Each node's own entities, by three routes that must agree: regions, region-stats, shard-stats.
        var stats = Json(await Nwdp.RunAsync("cluster-sharding", "shard-stats", "-t", TestShards.TypeName, "--node", n2.AdminNode, "--json"));
        Assert.Equal(TestShards.TypeName, stats.GetProperty("type").GetString());
        Assert.Equal(entities, stats.GetProperty("entities").GetInt32());
        var perMember = stats.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("address").GetString()!, m => m.GetProperty("entities").GetInt32());
        Assert.Equal(new[] { n1, n2, n3 }.Select(n => n.ClusterAddress).Order(), perMember.Keys.Order());
        foreach (var node in new[] { n1, n2, n3 })
        {
            var region = Json(await Nwdp.RunAsync("cluster-sharding", "region-stats", "--type", TestShards.TypeName, "--node", node.AdminNode, "--json"));
            Assert.Equal(node.ClusterAddress, region.GetProperty("address").GetString());
            Assert.Equal(perMember[node.ClusterAddress], region.GetProperty("entities").GetInt32());
            Assert.Equal(region.GetProperty("shards").EnumerateObject().Sum(s => s.Value.GetInt32()), region.GetProperty("entities").GetInt32());
            var local = Json(await Nwdp.RunAsync("cluster-sharding", "regions", "--node", node.AdminNode, "--json")).GetProperty("regions").EnumerateArray()
                .Single(r => r.GetProperty("type").GetString() == TestShards.TypeName);
            Assert.Equal(perMember[node.ClusterAddress], local.GetProperty("entities").GetInt32());
        }
        var shardText = await Nwdp.RunAsync("cluster-sharding", "shard-stats", "-t", TestShards.TypeName, "--node", n1.AdminNode);
        Assert.True(shardText.ExitCode == 0, shardText.ToString());
        Assert.Contains($"{entities} entities on 3 members", shardText.Lines[^1]);
        var regionText = await Nwdp.RunAsync("cluster-sharding", "region-stats", "-t", TestShards.TypeName, "--node", n1.AdminNode);
        Assert.True(regionText.ExitCode == 0, regionText.ToString());
        Assert.Equal($"{TestShards.TypeName} on {n1.ClusterAddress}", regionText.Lines[0]);
        Assert.EndsWith($"{perMember[n1.ClusterAddress]} entities", regionText.Lines[^1]);

        var unknown = await Nwdp.RunAsync("cluster-sharding", "region-stats", "-t", "no-such-type", "--node", n1.AdminNode);
        Assert.True(unknown.ExitCode == 1, unknown.ToString());
        Assert.Contains("no shard region 'no-such-type'", unknown.Stderr);
        Assert.Contains(TestShards.TypeName, unknown.Stderr);
        var missing = await Nwdp.RunAsync("cluster-sharding", "shard-stats", "--node", n1.AdminNode);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("'--type'", missing.Stderr);
    }

    private static async Task ActorHierarchyAsync(InProcessNode n1)
    {
        var shallow = await Nwdp.RunAsync("actor", "hierarchy", "-d", "1", "--node", n1.AdminNode);
        Assert.True(shallow.ExitCode == 0, shallow.ToString());
        Assert.Contains("/user", shallow.Lines);
        Assert.Contains("/system", shallow.Lines);
        Assert.Contains(shallow.Lines, l => l.StartsWith("/system/sharding", StringComparison.Ordinal) && l.EndsWith("children)", StringComparison.Ordinal));
        Assert.DoesNotContain($"/system/sharding/{TestShards.TypeName}", shallow.Lines);

        var deep = Json(await Nwdp.RunAsync("actor", "hierarchy", "--depth", "2", "--node", n1.AdminNode, "--json"));
        Assert.Equal(2, deep.GetProperty("depth").GetInt32());
        var paths = deep.GetProperty("actors").EnumerateArray().ToDictionary(a => a.GetProperty("path").GetString()!, a => a.GetProperty("depth").GetInt32());
        Assert.Equal(2, paths[$"/system/sharding/{TestShards.TypeName}"]);
        Assert.Equal(1, paths["/system/cluster"]);
        Assert.All(paths.Values, d => Assert.InRange(d, 0, 2));

        var bad = await Nwdp.RunAsync("actor", "hierarchy", "-d", "-1", "--node", n1.AdminNode);
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Contains("'--depth'", bad.Stderr);
    }

    private static async Task RegistryVerbsAsync(InProcessNode n1, InProcessNode n2)
    {
        // n1 answers from the real registry (no events were sent in this test); n2 from the registry the test gave it.
        foreach (var (verb, empty) in new[] { ("sources", "Count: 0 sources"), ("watchdog", "Count: 0 hosts, 0 offline") })
        {
            var real = await Nwdp.RunAsync(verb, "--node", n1.AdminNode);
            Assert.True(real.ExitCode == 0, real.ToString());
            Assert.Equal(empty, real.Lines[^1]);
        }

        var sources = await Nwdp.RunAsync("sources", "--node", n2.AdminNode);
        Assert.True(sources.ExitCode == 0, sources.ToString());
        var row = sources.Lines[1].Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(["web-1/nginx", "42", "4200"], row[..3]);
        Assert.Equal("Count: 1 sources", sources.Lines[^1]);
        var sourcesJson = Json(await Nwdp.RunAsync("sources", "--node", n2.AdminNode, "--json"));
        var source = sourcesJson.GetProperty("sources").EnumerateArray().Single();
        Assert.Equal(40, source.GetProperty("events_by_type").GetProperty("access").GetInt64());

        var watchdog = await Nwdp.RunAsync("watchdog", "--node", n2.AdminNode);
        Assert.True(watchdog.ExitCode == 0, watchdog.ToString());
        Assert.Equal(["web-1", "OFFLINE"], watchdog.Lines[1].Split('|', StringSplitOptions.TrimEntries)[..2]);
        Assert.Equal("Count: 1 hosts, 1 offline", watchdog.Lines[^1]);
        var hosts = Json(await Nwdp.RunAsync("watchdog", "--node", n2.AdminNode, "--json"));
        Assert.False(hosts.GetProperty("hosts")[0].GetProperty("online").GetBoolean());

        // While a crashed member's shards have not moved: a partial answer naming who did not answer, not an error.
        ((FixedRegistry)n2.App.Services.GetRequiredService<IRegistryQueries>()).Unavailable.Add("web-2/app");
        var partial = await Nwdp.RunAsync("sources", "--node", n2.AdminNode);
        Assert.True(partial.ExitCode == 0, partial.ToString());
        Assert.Equal("Count: 1 sources", partial.Lines[^2]);
        Assert.StartsWith("Not answering: 1 sources (web-2/app): ", partial.Lines[^1]);
        var partialJson = Json(await Nwdp.RunAsync("sources", "--node", n2.AdminNode, "--json"));
        Assert.Equal("web-2/app", partialJson.GetProperty("unavailable").EnumerateArray().Single().GetString());
    }

    private static async Task ListenersAndRolesAsync(InProcessNode n1, InProcessNode n2, InProcessNode n3)
    {
        // With the admin token (the ingress listener ignores it): what is checked here is which listener serves what.
        using var http = n1.AdminClient(TimeSpan.FromSeconds(30));
        var admin = new Uri($"http://{n1.AdminNode}");
        // Admin routes are not on the ingress listener, ingress and health routes are not on the admin listener.
        using (var r = await http.GetAsync(new Uri(n1.Http, "/v1/cluster/members")))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Contains("admin API has its own listener", await r.Content.ReadAsStringAsync());
        }
        using (var r = await http.GetAsync(new Uri(admin, "/healthz")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await http.PostAsync(new Uri(admin, "/v1/events"), new StringContent("{\"msg\":\"x\"}\n", Encoding.UTF8, "application/x-ndjson")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await http.GetAsync(new Uri(admin, "/v1/cluster/members")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        // node-3 has only the pump role: its ingress route answers 503 naming the missing role; node-2 takes events.
        using (var r = await n3.PostNdjsonAsync(["{\"msg\":\"to a pump-only node\"}"], "roles"))
        {
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)r.StatusCode} {body}");
            Assert.Contains("'ingress' role", body);
        }
        using (var r = await n2.PostNdjsonAsync(["{\"msg\":\"to an ingress node\"}"], "roles"))
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        // Sink writers run only on the pump nodes (node-1 and node-3), wherever sharding put them.
        await NeverwinterDP.Tests.TestKit.Wait.UntilAsync(() => n1.Pumps.Count + n3.Pumps.Count == n1.Config.WritersPerSink, TimeSpan.FromSeconds(60));
        Assert.Empty(n2.Pumps);
    }
}
