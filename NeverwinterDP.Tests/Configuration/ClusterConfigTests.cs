using NeverwinterDP.Host.Node;
using Xunit;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Configuration;

/// <summary><c>nwdp.cluster.*</c> and <c>nwdp.admin.*</c> as the file, the environment and the flags give them.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ClusterConfigTests
{
    private static NodeConfig Load(string dir, Dictionary<string, string>? overrides = null)
    {
        var settings = new Dictionary<string, string> { ["nwdp.node.data-dir"] = dir };
        foreach (var (k, v) in overrides ?? new()) settings[k] = v;
        return NodeConfig.Load(null, settings);
    }

    [Fact]
    public void The_shipped_file_makes_a_cluster_of_one_with_every_role_and_the_resolver()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path);
        Assert.Equal("127.0.0.1", config.Cluster.Hostname);
        Assert.Equal(0, config.Cluster.Port);
        Assert.True(config.Cluster.JoinSelf);
        Assert.Empty(config.Cluster.Seeds);
        Assert.Equal(["ingress", "pump"], config.Cluster.Roles);
        Assert.True(config.PumpEnabled);
        Assert.Equal(("127.0.0.1", 9110), config.Admin.Endpoint);
        Assert.Null(config.Admin.Token);
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.Hocon.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", config.Hocon.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(20), config.Hocon.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
    }

    [Fact]
    public void Shard_stores_are_on_the_journal_the_journal_rule_is_on_and_topic_replication_is_auto_by_default()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path);
        Assert.Equal("persistence", config.Hocon.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Equal("eventsourced", config.Hocon.GetString("akka.cluster.sharding.remember-entities-store"));
        Assert.False(config.Persistence.AllowPrivateJournal);
        Assert.True(Load(dir.Path, new() { ["nwdp.persistence.allow-private-journal"] = "on" }).Persistence.AllowPrivateJournal);
        Assert.Equal(NeverwinterDP.Actors.Kafka.TopicReplication.Auto, config.TopicReplication);
        Assert.Equal(new NeverwinterDP.Actors.Kafka.TopicReplication(2, 1),
            Load(dir.Path, new() { ["nwdp.kafka.topic-replication-factor"] = "2", ["nwdp.kafka.topic-min-insync-replicas"] = "1" }).TopicReplication);
        Assert.Contains("nwdp.kafka.topic-min-insync-replicas", Assert.Throws<ArgumentException>(() =>
            Load(dir.Path, new() { ["nwdp.kafka.topic-min-insync-replicas"] = "none" })).Message);
    }

    [Fact]
    public void A_MariaDB_journal_is_the_mysql_provider_and_its_tables_are_made_by_the_node_not_by_the_plugin()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path, new()
        {
            ["nwdp.persistence.provider"] = "mariadb",
            ["nwdp.persistence.connection-string"] = "Server=db;User ID=nwdp;Password=x;Database=nwdp_state",
        });
        Assert.Equal(("mysql", "MySqlConnector"), (config.Persistence.Provider, config.Persistence.ProviderName));
        // Akka.Persistence.Sql's own MySQL set-up reads information_schema.INNODB_INDEXES, which MariaDB has not.
        var hocon = Akka.Configuration.ConfigurationFactory.ParseString(config.Persistence.ToHocon());
        Assert.False(hocon.GetBoolean("akka.persistence.journal.sql.auto-initialize"));
        Assert.False(hocon.GetBoolean("akka.persistence.snapshot-store.sql.auto-initialize"));
        var sqlite = Akka.Configuration.ConfigurationFactory.ParseString(Load(dir.Path, new()).Persistence.ToHocon());
        Assert.True(sqlite.GetBoolean("akka.persistence.journal.sql.auto-initialize"));
    }

    [Fact]
    public void Flags_and_environment_write_the_akka_keys()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path, new()
        {
            ["nwdp.cluster.hostname"] = "10.0.0.5",
            ["nwdp.cluster.port"] = "4053",
            ["nwdp.cluster.seeds"] = "10.0.0.5:4053, akka.tcp://nwdp@10.0.0.6:4053",
            ["nwdp.cluster.roles"] = "pump",
            ["nwdp.admin.endpoint"] = "off",
        });
        Assert.Equal("10.0.0.5", config.Hocon.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.Hocon.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://nwdp@10.0.0.5:4053", "akka.tcp://nwdp@10.0.0.6:4053"], config.Hocon.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["pump"], config.Hocon.GetStringList("akka.cluster.roles"));
        Assert.False(config.Cluster.HasRole("ingress"));
        Assert.True(config.PumpEnabled);
        Assert.False(config.Admin.Enabled);

        // The environment, under the flags.
        var saved = (Environment.GetEnvironmentVariable("NWDP_NODE_PORT"), Environment.GetEnvironmentVariable("NWDP_SEEDS"), Environment.GetEnvironmentVariable("NWDP_ADMIN_TOKEN"));
        try
        {
            Environment.SetEnvironmentVariable("NWDP_NODE_PORT", "4060");
            Environment.SetEnvironmentVariable("NWDP_SEEDS", "127.0.0.1:4060,127.0.0.1:4061");
            Environment.SetEnvironmentVariable("NWDP_ADMIN_TOKEN", "from-env");
            var fromEnv = Load(dir.Path, new() { ["nwdp.admin.endpoint"] = "0.0.0.0:9110", ["nwdp.cluster.roles"] = "ingress" });
            Assert.Equal(4060, fromEnv.Cluster.Port);
            Assert.Equal(["akka.tcp://nwdp@127.0.0.1:4060", "akka.tcp://nwdp@127.0.0.1:4061"], fromEnv.Cluster.Seeds);
            Assert.Equal("from-env", fromEnv.Admin.Token);
            Assert.False(fromEnv.PumpEnabled);
            Assert.Equal(4053, Load(dir.Path, new() { ["nwdp.cluster.port"] = "4053" }).Cluster.Port);
        }
        finally
        {
            Environment.SetEnvironmentVariable("NWDP_NODE_PORT", saved.Item1);
            Environment.SetEnvironmentVariable("NWDP_SEEDS", saved.Item2);
            Environment.SetEnvironmentVariable("NWDP_ADMIN_TOKEN", saved.Item3);
        }
    }

    [Theory]
    [InlineData("nwdp.cluster.roles", "ingress,pumps", "unknown role 'pumps'")]
    [InlineData("nwdp.cluster.roles", " , ", "at least one role")]
    [InlineData("nwdp.cluster.seeds", "127.0.0.1", "HOST:PORT")]
    [InlineData("nwdp.cluster.seeds", "127.0.0.1:0", "needs a real port")]
    [InlineData("nwdp.cluster.seeds", "akka.tcp://other@127.0.0.1:4053", "actor system 'other'")]
    [InlineData("nwdp.cluster.port", "70000", "nwdp.cluster.port")]
    [InlineData("nwdp.admin.endpoint", "nonsense", "nwdp.admin.endpoint")]
    [InlineData("nwdp.http.limits.max-connections", "many", "nwdp.http.limits.max-connections")]
    [InlineData("nwdp.http.limits.min-body-grace", "-1s", "nwdp.http.limits.min-body-grace")]
    [InlineData("nwdp.ingress.max-bytes-in-flight", "256MiB", "nwdp.ingress.max-bytes-in-flight (268435456 bytes) must be at least 285212672 bytes")]
    public void A_bad_value_is_an_error_naming_it(string key, string value, string message)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => Load(dir.Path, new() { [key] = value }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_default_budget_of_bytes_in_flight_takes_the_largest_request_the_limits_allow()
    {
        using var dir = new TempDir();
        var ingress = Load(dir.Path).Ingress;
        // 16 MiB gzip body as sent, beside four times the 64 MiB it may inflate to.
        Assert.Equal((16L << 20) + 4 * (64L << 20), ingress.LargestRequestCost);
        Assert.True(ingress.MaxBytesInFlight >= ingress.LargestRequestCost);
    }

    [Fact]
    public void The_http_limits_default_to_Kestrels_own_with_a_connection_cap_and_off_lifts_it()
    {
        using var dir = new TempDir();
        var limits = Load(dir.Path).HttpLimits;
        var kestrel = new Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits();
        Assert.Equal(10_000, limits.MaxConnections);
        Assert.Equal(kestrel.MaxRequestLineSize, limits.MaxRequestLineBytes);
        Assert.Equal(kestrel.MaxRequestHeadersTotalSize, limits.MaxHeaderBytes);
        Assert.Equal(kestrel.MaxRequestHeaderCount, limits.MaxHeaderCount);
        Assert.Equal(kestrel.MinRequestBodyDataRate!.BytesPerSecond, limits.MinBodyBytesPerSecond);
        Assert.Equal(kestrel.MinRequestBodyDataRate.GracePeriod, limits.MinBodyGrace);
        Assert.Equal(kestrel.KeepAliveTimeout, limits.KeepAliveTimeout);
        Assert.Equal(kestrel.RequestHeadersTimeout, limits.HeadersTimeout);
        Assert.Null(Load(dir.Path, new() { ["nwdp.http.limits.max-connections"] = "off" }).HttpLimits.MaxConnections);
    }

    [Fact]
    public void Cluster_tls_turns_on_the_transports_ssl_and_makes_seeds_akka_ssl_tcp_addresses()
    {
        using var dir = new TempDir();
        var plain = Load(dir.Path);
        Assert.False(plain.Hocon.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Null(plain.ClusterTls);
        Assert.Equal("akka.tcp", plain.Cluster.Scheme);

        var overlay = ClusterOptions.AkkaOverlay(new NeverwinterDP.Actors.Configuration.ConfigReader(
            Akka.Configuration.ConfigurationFactory.ParseString("nwdp.cluster.tls.enabled = on").WithFallback(Load(dir.Path).Hocon)).Section("nwdp"));
        Assert.True(overlay.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        var seeds = ClusterOptions.AkkaOverlay(new NeverwinterDP.Actors.Configuration.ConfigReader(
            Akka.Configuration.ConfigurationFactory.ParseString("""nwdp.cluster { tls.enabled = on, seeds = ["10.0.0.5:4053", "akka.ssl.tcp://nwdp@10.0.0.6:4053"] }""")
                .WithFallback(Load(dir.Path).Hocon)).Section("nwdp"));
        Assert.Equal(["akka.ssl.tcp://nwdp@10.0.0.5:4053", "akka.ssl.tcp://nwdp@10.0.0.6:4053"], seeds.GetStringList("akka.cluster.seed-nodes"));

        // A seed of the other scheme could never be reached: refused, naming the key.
        var e = Assert.Throws<ArgumentException>(() => ClusterOptions.SeedAddress("akka.tcp://nwdp@10.0.0.6:4053", tls: true));
        Assert.Contains("nwdp.cluster.tls.enabled", e.Message);
        Assert.Throws<ArgumentException>(() => ClusterOptions.SeedAddress("akka.ssl.tcp://nwdp@10.0.0.6:4053", tls: false));
        // With no TLS setting given (the --seed flag, admin addresses) either scheme is taken.
        Assert.Equal("akka.ssl.tcp://nwdp@10.0.0.6:4053", ClusterOptions.SeedAddress("akka.ssl.tcp://nwdp@10.0.0.6:4053"));
    }

    [Theory]
    [InlineData("", "nwdp.cluster.tls.certificate must be set")]
    [InlineData("/nonexistent/node.crt", "nwdp.cluster.tls.certificate: /nonexistent/node.crt does not exist")]
    public void Cluster_tls_without_a_certificate_stops_the_start_naming_the_key(string certificate, string message)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => Load(dir.Path, new() { ["nwdp.cluster.tls.enabled"] = "on", ["nwdp.cluster.tls.certificate"] = certificate }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Cluster_tls_options_are_read_from_their_keys()
    {
        using var dir = new TempDir();
        var tls = Load(dir.Path, new()
        {
            ["nwdp.cluster.tls.certificate"] = "/etc/nwdp/node.crt",
            ["nwdp.cluster.tls.key"] = "/etc/nwdp/node.key",
            ["nwdp.cluster.tls.password"] = "pw",
            ["nwdp.cluster.tls.ca"] = "/etc/nwdp/ca.pem",
            ["nwdp.cluster.tls.require-client-certificate"] = "off",
            ["nwdp.cluster.tls.validate-hostname"] = "on",
        }).Cluster.Tls; // enabled = off: nothing is loaded
        Assert.Equal(new NeverwinterDP.Protocol.Remote.RemoteTlsOptions
        {
            Enabled = false, CertificateFile = "/etc/nwdp/node.crt", KeyFile = "/etc/nwdp/node.key", Password = "pw", CaFile = "/etc/nwdp/ca.pem",
            RequireClientCertificate = false, ValidateHostname = true,
        }, tls);
    }
}
