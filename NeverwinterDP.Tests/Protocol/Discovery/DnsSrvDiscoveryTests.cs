using NeverwinterDP.Protocol.Discovery;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Protocol.Discovery;

/// <summary>DNS SRV discovery (the data-centre option) against a DNS server in the test on a free port.</summary>
public sealed class DnsSrvDiscoveryTests
{
    [Fact]
    public async Task The_SRV_records_of_a_name_are_the_nodes_each_target_and_port_a_cluster_address()
    {
        await using var dns = new TinyDnsServer()
            .Srv("_nwdp._tcp.dc1.test", "node-2.dc1.test", 4054, priority: 10)
            .Srv("_nwdp._tcp.dc1.test", "node-1.dc1.test", 4053, priority: 10);
        var method = DiscoveryMethod.Parse($"dns-srv:_nwdp._tcp.dc1.test@{dns.Endpoint}");

        var nodes = await ClusterDiscovery.FindAsync(method, TimeSpan.FromSeconds(10));

        Assert.Equal(["akka.tcp://nwdp@node-1.dc1.test:4053", "akka.tcp://nwdp@node-2.dc1.test:4054"], nodes.Select(n => n.Akka));
        Assert.Equal(["node-1.dc1.test", "node-2.dc1.test"], nodes.Select(n => n.Host));
        var contacts = await ClusterDiscovery.ContactPointsAsync(method, TimeSpan.FromSeconds(10));
        Assert.Equal(["akka.tcp://nwdp@node-1.dc1.test:4053/system/receptionist", "akka.tcp://nwdp@node-2.dc1.test:4054/system/receptionist"], contacts);
    }

    [Fact]
    public async Task A_name_without_SRV_records_finds_no_node_and_the_contact_points_say_which_method_found_none()
    {
        await using var dns = new TinyDnsServer().Srv("_nwdp._tcp.dc1.test", "node-1.dc1.test", 4053);
        var method = DiscoveryMethod.Parse($"dns-srv:_nwdp._tcp.other.test@{dns.Endpoint}");

        Assert.Empty(await ClusterDiscovery.FindAsync(method, TimeSpan.FromSeconds(10)));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterDiscovery.ContactPointsAsync(method, TimeSpan.FromSeconds(10)));
        Assert.Contains("dns-srv:_nwdp._tcp.other.test@" + dns.Endpoint, e.Message);
        Assert.True(dns.Questions >= 1);
    }
}
