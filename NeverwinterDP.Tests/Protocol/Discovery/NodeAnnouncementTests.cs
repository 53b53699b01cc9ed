using NeverwinterDP.Protocol.Discovery;
using Xunit;

namespace NeverwinterDP.Tests.Protocol.Discovery;

public sealed class NodeAnnouncementTests
{
    private static readonly NodeAnnouncement Node = new("10-0-0-5-4053", "10.0.0.5", 4053, "akka.tcp://nwdp@10.0.0.5:4053",
        "http://10.0.0.5:8080", "prod", ["ingress", "pump"]);

    [Fact]
    public void The_TXT_record_carries_the_version_cluster_address_ingress_and_roles_as_key_value_strings()
    {
        Assert.Equal(["txtvers=1", "cluster=prod", "akka=akka.tcp://nwdp@10.0.0.5:4053", "ingress=http://10.0.0.5:8080", "roles=ingress,pump"], Node.ToTxt());
    }

    [Fact]
    public void An_announcement_read_back_from_its_SRV_and_TXT_records_is_the_one_announced()
    {
        var read = NodeAnnouncement.FromRecords(Node.Instance, "10-0-0-5-4053._nwdp._tcp.local.", Node.Port, Node.ToTxt());
        Assert.Equal(Node.Akka, read.Akka);
        Assert.Equal(Node.Ingress, read.Ingress);
        Assert.Equal(Node.Cluster, read.Cluster);
        Assert.Equal(Node.Roles, read.Roles);
        Assert.Equal(4053, read.Port);
        Assert.Equal("10-0-0-5-4053._nwdp._tcp.local", read.Host); // the trailing dot of a DNS name is dropped
        Assert.Equal("akka.tcp://nwdp@10.0.0.5:4053/system/receptionist", read.Receptionist);
    }

    [Fact]
    public void A_plain_SRV_record_without_TXT_makes_the_address_from_its_target_and_port()
    {
        var read = NodeAnnouncement.FromRecords("node-1", "node-1.dc1.example.com.", 4053, null);
        Assert.Equal("akka.tcp://nwdp@node-1.dc1.example.com:4053", read.Akka);
        Assert.Equal("akka.tcp://nwdp@node-1.dc1.example.com:4053/system/receptionist", read.Receptionist);
        Assert.Null(read.Ingress);
        Assert.Null(read.Cluster);
        Assert.Empty(read.Roles);
    }

    [Fact]
    public void TXT_keys_are_case_insensitive_the_first_of_a_repeated_key_wins_and_flags_and_unknown_keys_are_ignored()
    {
        var read = NodeAnnouncement.FromRecords("n", "h", 1, ["AKKA=akka.tcp://nwdp@a:1/", "akka=akka.tcp://nwdp@b:2", "secure", "=x", "colour=blue", "Roles= ingress , pump ,"]);
        Assert.Equal("akka.tcp://nwdp@a:1", read.Akka);
        Assert.Equal(["ingress", "pump"], read.Roles);
    }

    [Fact]
    public void A_TXT_string_over_255_bytes_is_refused_naming_it()
    {
        var node = Node with { Ingress = "http://" + new string('h', 260) + ":8080" };
        var e = Assert.Throws<ArgumentException>(() => node.ToTxt());
        Assert.Contains("255 bytes", e.Message);
    }

    [Theory]
    [InlineData("mdns", true, "_nwdp._tcp", null)]
    [InlineData(" MDNS ", true, "_nwdp._tcp", null)]
    [InlineData("mdns:_logs._tcp", true, "_logs._tcp", null)]
    [InlineData("mdns:_logs._tcp.local.", true, "_logs._tcp", null)]
    [InlineData("dns-srv:_nwdp._tcp.dc1.example.com.", false, "_nwdp._tcp.dc1.example.com", null)]
    [InlineData("dns-srv:_nwdp._tcp.dc1.example.com@10.0.0.53", false, "_nwdp._tcp.dc1.example.com", "10.0.0.53:53")]
    [InlineData("dns-srv:nodes.test@127.0.0.1:5353", false, "nodes.test", "127.0.0.1:5353")]
    [InlineData("dns-srv:nodes.test@[::1]:5300", false, "nodes.test", "[::1]:5300")]
    public void A_discovery_method_is_parsed_from_its_one_string(string text, bool multicast, string name, string? server)
    {
        var method = DiscoveryMethod.Parse(text);
        Assert.Equal(multicast, method.Multicast);
        Assert.Equal(name, method.Name);
        Assert.Equal(server, method.Server?.ToString());
        Assert.Equal(method, DiscoveryMethod.Parse(method.ToString()));
    }

    [Theory]
    [InlineData("zookeeper:zk1:2181")]
    [InlineData("mdns:nwdp")]
    [InlineData("mdns:_nwdp._sctp")]
    [InlineData("dns-srv:")]
    [InlineData("dns-srv:nodes.test@dns.example.com")]
    [InlineData("")]
    public void Anything_else_is_refused_with_the_forms_it_takes(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => DiscoveryMethod.Parse(text));
        Assert.Contains("dns-srv:NAME", e.Message);
    }
}
