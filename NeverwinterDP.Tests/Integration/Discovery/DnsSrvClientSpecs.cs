using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Discovery;

/// <summary>An EmitterClient given <c>Discovery = dns-srv:...</c> and no contact point finds the node through a DNS server in the test.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DnsSrvClientSpecs
{
    [Fact]
    public async Task A_client_with_no_contact_points_finds_the_node_by_its_SRV_record_and_its_events_arrive()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var address = Akka.Actor.Address.Parse(node.ClusterAddress);
        await using var dns = new TinyDnsServer().Srv("_nwdp._tcp.dc1.test", address.Host!, address.Port!.Value);
        var options = ClientTestKit.Options(node) with { ContactPoints = [], Discovery = $"dns-srv:_nwdp._tcp.dc1.test@{dns.Endpoint}" };

        await using (var client = await EmitterClient.StartAsync(options))
        {
            Assert.Equal([node.ContactPoint()], await client.ContactPointsAsync(TimeSpan.FromSeconds(10)));
            var run = Guid.NewGuid().ToString("N")[..8];
            var events = Enumerable.Range(0, 50).Select(i => ClientTestKit.Event(run, "web-1", i, "discovered")).ToList();
            await client.EmitAsync(events).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(50, client.Metrics.EventsAcked);
        }
        await ClientTestKit.Eventually(() => node.Published(TopicNames.ForType("discovered")).Count >= 50, TimeSpan.FromSeconds(60));
        Assert.Equal(50, node.Published(TopicNames.ForType("discovered")).Count);
    }

    [Fact]
    public async Task A_client_whose_discovery_finds_no_node_fails_to_start_naming_the_method()
    {
        await using var dns = new TinyDnsServer();
        var options = new EmitterClientOptions { Discovery = $"dns-srv:_nwdp._tcp.empty.test@{dns.Endpoint}", DiscoveryTimeout = TimeSpan.FromSeconds(5) };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => EmitterClient.StartAsync(options));
        Assert.Contains("dns-srv:_nwdp._tcp.empty.test", e.Message);
        Assert.Throws<ArgumentException>(() => new EmitterClientOptions().Validate());
        Assert.Throws<ArgumentException>(() => new EmitterClientOptions { Discovery = "zookeeper:zk1" }.Validate());
    }
}
