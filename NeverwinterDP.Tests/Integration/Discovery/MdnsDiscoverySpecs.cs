using System.Text.Json;
using NeverwinterDP.Tests.Integration.Processes;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Discovery;

/// <summary>
/// mDNS discovery where multicast really works: two network namespaces joined by a veth pair, made and removed by
/// the test (nothing is multicast on the machine's own interfaces). A node announces itself in one; in the other,
/// <c>nwdp discover</c> finds it with no host given, and a second node with <c>nwdp.cluster.discovery.method = mdns</c>
/// and no seeds joins its cluster.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class MdnsDiscoverySpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);

    [NetnsFact]
    public async Task A_node_announcing_in_one_namespace_is_found_and_joined_from_the_other_with_no_host_configured()
    {
        using var namespaces = NetworkNamespaces.Create();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        await using var nodeA = ChildProcess.Start("node-a", NetworkNamespaces.Nwdp(namespaces.A, "run",
            "--http", NetworkNamespaces.AddressA + ":0", "--data", dirA.Path,
            "--set", "nwdp.cluster.hostname=" + NetworkNamespaces.AddressA,
            "--set", "nwdp.cluster.discovery.announce=on",
            "--set", "nwdp.cluster.discovery.instance=node-a",
            "--set", "nwdp.cluster.discovery.interfaces=" + namespaces.LinkA));
        var readyA = await nodeA.WaitForStdoutAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), Ready, "node A's ready line");
        var http = Field(readyA, "http");
        var akka = Field(readyA, "node");
        Assert.StartsWith($"akka.tcp://nwdp@{NetworkNamespaces.AddressA}:", akka);

        // A client's view: no host given, the node found over the veth with what it announced.
        await using (var discover = ChildProcess.Start("discover", NetworkNamespaces.Nwdp(namespaces.B, "discover",
                         "--method", "mdns", "--interface", namespaces.LinkB, "--timeout", "30s", "--json")))
        {
            Assert.True(await discover.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, discover.Describe());
            var nodes = JsonDocument.Parse(string.Join('\n', discover.Stdout)).RootElement.EnumerateArray().ToList();
            output.WriteLine(string.Join('\n', discover.Stdout));
            var node = Assert.Single(nodes);
            Assert.Equal("node-a", node.GetProperty("instance").GetString());
            Assert.Equal(akka, node.GetProperty("akka").GetString());
            Assert.Equal(akka + "/system/receptionist", node.GetProperty("receptionist").GetString());
            Assert.Equal(http, node.GetProperty("ingress").GetString());
            Assert.Equal("nwdp", node.GetProperty("cluster").GetString());
            Assert.Equal(["ingress", "pump"], node.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }

        // A new node with no seeds finds node A the same way and joins its cluster.
        await using var nodeB = ChildProcess.Start("node-b", NetworkNamespaces.Nwdp(namespaces.B, "run",
            "--http", NetworkNamespaces.AddressB + ":0", "--data", dirB.Path,
            "--set", "nwdp.cluster.hostname=" + NetworkNamespaces.AddressB,
            "--set", "nwdp.cluster.discovery.method=mdns",
            "--set", "nwdp.cluster.discovery.timeout=30s",
            "--set", InProcessNode.PrivateJournalKey + "=on", // its own journal: this spec tests discovery
            "--set", "nwdp.cluster.discovery.interfaces=" + namespaces.LinkB));
        var readyB = await nodeB.WaitForStdoutAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), Ready, "node B's ready line");
        var akkaB = Field(readyB, "node");
        await Poll.UntilAsync(() => Task.FromResult(nodeB.Stderr.Any(l => l.Contains("joining " + akka, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(60), () => "node B never said it joins node A: " + nodeB.Describe());
        // Node A (the leader of its cluster of one) moves node B to Up.
        await Poll.UntilAsync(() => Task.FromResult(nodeA.Stderr.Any(l => l.Contains(akkaB, StringComparison.Ordinal) && l.Contains("Up", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(90), () => "node A never saw node B up: " + nodeA.Describe());

        // Announcements stop cleanly with the node.
        nodeB.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await nodeB.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        nodeA.Signal(ChildProcess.SIGTERM);
        Assert.Equal(0, await nodeA.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(nodeA.Stderr, l => l.Contains("discovery: announcements stopped", StringComparison.Ordinal));
    }

    private static string Field(string readyLine, string name) =>
        readyLine.Split(' ').Single(f => f.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
}
