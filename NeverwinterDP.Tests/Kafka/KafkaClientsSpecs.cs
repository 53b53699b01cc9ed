using System.Text.RegularExpressions;
using Akka.Configuration;
using Confluent.Kafka;
using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Kafka;

/// <summary>
/// <c>nwdp.kafka.security</c> mapped to librdkafka's properties, and carried by every kind of client the node makes.
/// The embedded broker speaks plaintext only: a client that really sends SASL is refused by it with "SASL Handshake not
/// supported", which is how these specs see that the properties reached librdkafka.
/// </summary>
public sealed class KafkaClientsSpecs : IDisposable
{
    private static readonly Dictionary<string, string> Sasl = new()
    {
        ["security.protocol"] = "sasl_plaintext",
        ["sasl.mechanism"] = "PLAIN",
        ["sasl.username"] = "nwdp",
        ["sasl.password"] = "s3cret-Pa55",
    };

    private readonly EmbeddedKafka _kafka = new();

    public void Dispose() => _kafka.Dispose();

    private static KafkaSecurityOptions Security(string hocon) =>
        KafkaSecurityOptions.FromConfig(new ConfigReader(ConfigurationFactory.ParseString(hocon).WithFallback(NodeConfig.Reference)).Section("nwdp.kafka.security"));

    [Fact]
    public void The_shipped_default_is_plaintext_with_no_property()
    {
        var security = Security("");
        Assert.True(security.IsPlaintext);
        Assert.Empty(security.Properties);
    }

    [Fact]
    public void Sasl_ssl_with_scram_and_a_ca_maps_to_librdkafkas_properties()
    {
        using var dir = new TempDir();
        var ca = Path.Combine(dir.Path, "ca.pem");
        File.WriteAllText(ca, "not read here");
        var security = Security($$"""
            nwdp.kafka.security {
              protocol = SASL_SSL
              sasl { mechanism = scram-sha-512, username = pump, password = "p w" }
              ssl { ca-file = "{{ca}}" }
            }
            """);
        Assert.Equal(new Dictionary<string, string>
        {
            ["security.protocol"] = "sasl_ssl",
            ["sasl.mechanism"] = "SCRAM-SHA-512",
            ["sasl.username"] = "pump",
            ["sasl.password"] = "p w",
            ["ssl.ca.location"] = ca,
            ["ssl.endpoint.identification.algorithm"] = "https",
        }, security.Properties);
    }

    [Fact]
    public void Mutual_tls_takes_the_certificate_key_and_its_password()
    {
        using var dir = new TempDir();
        var cert = Path.Combine(dir.Path, "node.pem");
        var key = Path.Combine(dir.Path, "node.key");
        File.WriteAllText(cert, "-");
        File.WriteAllText(key, "-");
        var security = Security($$"""
            nwdp.kafka.security { protocol = ssl, ssl { cert-file = "{{cert}}", key-file = "{{key}}", key-password = kp, endpoint-identification = none } }
            """);
        Assert.Equal("ssl", security.Properties["security.protocol"]);
        Assert.Equal(cert, security.Properties["ssl.certificate.location"]);
        Assert.Equal(key, security.Properties["ssl.key.location"]);
        Assert.Equal("kp", security.Properties["ssl.key.password"]);
        Assert.Equal("none", security.Properties["ssl.endpoint.identification.algorithm"]);
        Assert.False(security.Properties.ContainsKey("ssl.ca.location"));
        Assert.False(security.Properties.ContainsKey("sasl.mechanism"));
    }

    [Theory]
    [InlineData("protocol = kerberos", "nwdp.kafka.security.protocol")]
    [InlineData("protocol = sasl_plaintext", "nwdp.kafka.security.sasl.mechanism")]
    [InlineData("protocol = sasl_plaintext, sasl { mechanism = GSSAPI, username = u, password = p }", "nwdp.kafka.security.sasl.mechanism")]
    [InlineData("protocol = sasl_plaintext, sasl { mechanism = PLAIN, password = p }", "nwdp.kafka.security.sasl.username")]
    [InlineData("protocol = sasl_plaintext, sasl { mechanism = PLAIN, username = u }", "nwdp.kafka.security.sasl.password")]
    [InlineData("sasl { username = u }", "nwdp.kafka.security.sasl")]
    [InlineData("protocol = sasl_plaintext, sasl { mechanism = PLAIN, username = u, password = p }\n ssl { ca-file = x }", "nwdp.kafka.security.ssl")]
    [InlineData("protocol = ssl, ssl { ca-file = /nonexistent/ca.pem }", "nwdp.kafka.security.ssl.ca-file")]
    [InlineData("protocol = ssl, ssl { cert-file = /nonexistent/c.pem }", "nwdp.kafka.security.ssl.key-file")]
    [InlineData("protocol = ssl, ssl { endpoint-identification = maybe }", "nwdp.kafka.security.ssl.endpoint-identification")]
    public void A_bad_setting_stops_the_start_naming_its_key(string settings, string key)
    {
        var error = Assert.Throws<ArgumentException>(() => Security($"nwdp.kafka.security {{ {settings} }}"));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void The_password_is_never_in_what_the_clients_print()
    {
        var clients = new KafkaClients("127.0.0.1:9092", Sasl);
        Assert.Equal("127.0.0.1:9092 (sasl_plaintext)", clients.ToString());
        Assert.Contains("sasl.password", KafkaClients.SecretProperties);
    }

    [Fact]
    public void A_stage_setting_cannot_override_the_clusters_security()
    {
        var stage = ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray!, Serializers.ByteArray)
            .WithProperty("security.protocol", "plaintext").WithProperty("linger.ms", "7");
        var applied = new KafkaClients(_kafka.BootstrapServers, Sasl).Apply(stage);
        Assert.Equal("sasl_plaintext", applied.Properties["security.protocol"]);
        Assert.Equal("7", applied.Properties["linger.ms"]);
        Assert.Equal(_kafka.BootstrapServers, applied.BootstrapServers);
    }

    [Fact]
    public async Task Producers_consumers_admin_clients_and_the_stages_settings_all_send_the_connection_to_librdkafka()
    {
        var topic = KafkaTestKit.UniqueName("sec");
        _kafka.CreateTopic(topic);
        var sasl = new KafkaClients(_kafka.BootstrapServers, Sasl);

        // Control: the same clients without the connection properties work against this broker.
        var plain = new KafkaClients(_kafka.BootstrapServers);
        using (var admin = new AdminClientBuilder(plain.Admin()).Build())
            Assert.Contains(admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic && !t.Error.IsError);

        var errors = new List<string>();
        void Seen(Error e) { lock (errors) errors.Add(e.Reason); }

        using (var producer = new ProducerBuilder<Null, string>(sasl.Producer()).SetErrorHandler((_, e) => Seen(e)).Build())
            await AwaitSaslRefusal(errors, () => producer.Produce(topic, new Message<Null, string> { Value = "x" }), "producer");

        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(sasl.Consumer("nwdp-sec")).SetErrorHandler((_, e) => Seen(e)).Build())
        {
            consumer.Assign(new TopicPartition(topic, 0));
            await AwaitSaslRefusal(errors, () => consumer.Consume(TimeSpan.FromMilliseconds(100)), "consumer");
        }

        using (var admin = new AdminClientBuilder(sasl.Admin()).SetErrorHandler((_, e) => Seen(e)).Build())
            await AwaitSaslRefusal(errors, () =>
            {
                try { admin.GetMetadata(topic, TimeSpan.FromMilliseconds(200)); }
                catch (KafkaException) { /* the refusal is reported to the error handler too */ }
            }, "admin client");

        var settings = sasl.Apply(ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray!, Serializers.ByteArray));
        using (var staged = settings.CreateKafkaProducer((_, e) => Seen(e)))
            await AwaitSaslRefusal(errors, () => { }, "stage producer");

        var consumerSettings = sasl.Apply(ConsumerSettings<Ignore, Ignore>.Create(Deserializers.Ignore, Deserializers.Ignore));
        Assert.Equal("sasl_plaintext", consumerSettings.Properties["security.protocol"]);
        Assert.Equal("s3cret-Pa55", consumerSettings.Properties["sasl.password"]);

        using var provisioner = new AdminTopicProvisioner(sasl, 1, new TopicReplication(1, 1), TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<Exception>(() => provisioner.EnsureAsync(KafkaTestKit.UniqueName("sec")));
    }

    private static async Task AwaitSaslRefusal(List<string> errors, Action poke, string what)
    {
        lock (errors) errors.Clear();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            poke();
            lock (errors)
                if (errors.Any(e => e.Contains("SASL", StringComparison.Ordinal))) return;
            await Task.Delay(50);
        }
        lock (errors) Assert.Fail($"the {what} never tried SASL; its errors: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void No_client_config_is_started_outside_the_kafka_folder()
    {
        // A client config built from a bare address would skip nwdp.kafka.security: every one starts from KafkaClients
        // (or settings it applied) instead. Only the Kafka stages' own folder may set bootstrap.servers.
        var root = RepositoryRoot();
        var setting = new Regex(@"WithBootstrapServers\(|BootstrapServers\s*=[^=>]|\[""bootstrap\.servers""\]\s*=[^=]");
        var offenders = new[] { "NeverwinterDP.Actors", "NeverwinterDP.Host", "NeverwinterDP.Client" }
            .SelectMany(project => Directory.EnumerateFiles(Path.Combine(root, project), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => !f.Contains(Path.Combine("NeverwinterDP.Actors", "Kafka") + Path.DirectorySeparatorChar))
            .Where(f => setting.IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();
        Assert.True(offenders.Count == 0, "client configs built from a bare address (use KafkaClients): " + string.Join(", ", offenders));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NeverwinterDP.sln"))) return dir.FullName;
        throw new InvalidOperationException("NeverwinterDP.sln not found above " + AppContext.BaseDirectory);
    }
}
