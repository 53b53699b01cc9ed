using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Configuration;

/// <summary><c>nwdp.mirrors.&lt;name&gt;</c>: each mirror over <c>nwdp.mirror.defaults</c>, and the errors naming the key.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class MirrorConfigTests
{
    private static NodeConfig Load(string dir, string hocon) =>
        NodeConfig.Load(null, new Dictionary<string, string> { ["nwdp.node.data-dir"] = dir }, hocon);

    [Fact]
    public void No_mirror_is_configured_by_default()
    {
        using var dir = new TempDir();
        Assert.Empty(NodeConfig.Load(null, new Dictionary<string, string> { ["nwdp.node.data-dir"] = dir.Path }).Mirrors);
    }

    [Fact]
    public void A_mirror_takes_its_keys_over_the_defaults_and_an_empty_side_is_the_nodes_own_kafka()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path, """
            nwdp.mirror.defaults.interval = 50ms
            nwdp.mirrors.to-dc2 {
              to = "kafka.dc2:9092"
              source-site = dc1
              target-site = dc2
              target-topic = "{site}.{topic}"
              batch = 500
              start = latest
              to-properties { security.protocol = SASL_SSL, "sasl.mechanism" = PLAIN }
            }
            """);
        var m = Assert.Single(config.Mirrors);
        Assert.Equal(("to-dc2", "dc1", "dc2", "{site}.{topic}", 500, false), (m.Options.Name, m.Options.SourceSite, m.Options.TargetSite, m.Options.TargetTopic,
            m.Options.MaxBatchRecords, m.Options.StartAtBeginning));
        Assert.Equal(TimeSpan.FromMilliseconds(50), m.Options.BatchInterval); // from the defaults
        Assert.Equal(@"^nwdp\.logs\..*", m.Options.TopicPattern);
        Assert.Equal("nwdp.mirror.offsets", m.Options.OffsetsTopic);
        Assert.Null(m.From);
        Assert.Equal("kafka.dc2:9092", m.To);
        Assert.Equal("SASL_SSL", m.ToProperties["security.protocol"]);
        Assert.Equal("PLAIN", m.ToProperties["sasl.mechanism"]);

        var node = new KafkaClients("127.0.0.1:9092", new Dictionary<string, string> { ["security.protocol"] = "SSL" });
        var resolved = m.Resolve(node);
        Assert.Equal("127.0.0.1:9092", resolved.Source.BootstrapServers);
        Assert.Equal("SSL", resolved.Source.Connection["security.protocol"]); // the node's own security
        Assert.Equal("kafka.dc2:9092", resolved.Target.BootstrapServers);
    }

    [Theory]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", target-site = b }", "nwdp.mirrors.m.source-site is required")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a }", "nwdp.mirrors.m.target-site is required")]
    [InlineData("nwdp.mirrors.m { source-site = a, target-site = b }", "nwdp.mirrors.m.from and nwdp.mirrors.m.to are both this node's own Kafka")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = a }", "nwdp.mirrors.m.target-site: source and target site are both 'a'")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, topics = \"(\" }", "nwdp.mirrors.m.topics: topic pattern '(' is not a regular expression")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, target-topic = x }", "nwdp.mirrors.m.target-topic: target topic 'x' must contain {topic}")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, batch = 0 }", "nwdp.mirrors.m.batch")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, interval = soon }", "nwdp.mirrors.m.interval")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, start = middle }", "nwdp.mirrors.m.start must be earliest or latest, got 'middle'")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, frm = x }", "nwdp.mirrors.m.frm: unknown key")]
    [InlineData("nwdp.mirrors.m { to = \"h:1\", source-site = a, target-site = b, to-properties { bootstrap.servers = x } }", "nwdp.mirrors.m.to-properties.bootstrap.servers: the cluster's address is nwdp.mirrors.m.to")]
    [InlineData("nwdp.mirrors.\"a.b\" { to = \"h:1\", source-site = a, target-site = b }", "nwdp.mirrors.a.b: a mirror's name is letters, digits, - and _")]
    [InlineData("nwdp.mirrors.m = 3", "nwdp.mirrors.m must be an object")]
    public void A_wrong_mirror_stops_the_start_naming_the_key(string hocon, string message)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => Load(dir.Path, hocon));
        Assert.Contains(message, e.Message);
    }
}
