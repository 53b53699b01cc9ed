using Akka.Configuration;
using Akka.Configuration.Hocon;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Node;
using Xunit;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Configuration;

/// <summary>
/// One source of truth for configuration: each module's reference.conf holds every default, cluster.hocon only
/// what operators change, and no shipped <c>nwdp.*</c> key goes unread.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ConfigurationTests
{
    private static NodeConfig Load(string dir, Dictionary<string, string>? overrides = null, string? file = null)
    {
        var settings = new Dictionary<string, string> { ["nwdp.node.data-dir"] = dir };
        foreach (var (k, v) in overrides ?? new()) settings[k] = v;
        return NodeConfig.Load(file, settings);
    }

    /// <summary>The sink kinds the node registers (the shipped sinks' options read their sections through them).</summary>
    private static List<SinkKind> SinkKinds() =>
        new ServiceCollection().AddSinkKinds().BuildServiceProvider().GetServices<SinkKind>().ToList();

    [Fact]
    public async Task Every_nwdp_key_shipped_in_cluster_hocon_or_a_reference_conf_is_read_by_some_code()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path);
        // The sinks' options read their own keys (as the SinkCatalog does at start).
        foreach (var (_, sink) in SinkKind.CreateAll(SinkKinds(), config.Sinks, config.DataDir))
            await sink.DisposeAsync();

        var read = config.Reader.KeysRead.ToHashSet(StringComparer.Ordinal);
        var shipped = new List<(string File, string Key)>();
        shipped.AddRange(NwdpKeys(ConfigurationFactory.ParseString(File.ReadAllText(NodeConfig.DefaultFile))).Select(k => ("cluster.hocon", k)));
        var references = ReferenceConfig.Files(typeof(NodeConfig).Assembly, typeof(ConfigReader).Assembly);
        Assert.Contains(references, r => r.Name == "NeverwinterDP.Actors.Pump.reference.conf");
        Assert.Contains(references, r => r.Name == "NeverwinterDP.Host.Configuration.reference.conf");
        foreach (var (name, reference) in references)
            shipped.AddRange(NwdpKeys(reference).Select(k => (name, k)));

        Assert.True(shipped.Count > 60, $"only {shipped.Count} shipped keys found: the walk over the files is broken");
        var unread = shipped.Where(s => !read.Contains(s.Key)).Select(s => $"{s.Key} ({s.File})").ToList();
        Assert.True(unread.Count == 0, "shipped keys no code reads:\n" + string.Join('\n', unread));
    }

    [Fact]
    public void Every_nwdp_key_of_cluster_hocon_has_its_default_in_a_reference_conf()
    {
        var reference = NwdpKeys(NodeConfig.Reference).ToHashSet(StringComparer.Ordinal);
        var operatorOnly = NwdpKeys(ConfigurationFactory.ParseString(File.ReadAllText(NodeConfig.DefaultFile)))
            .Where(k => !k.StartsWith("nwdp.sinks.", StringComparison.Ordinal) && !reference.Contains(k))
            .ToList();
        Assert.Empty(operatorOnly);
    }

    [Fact]
    public void An_operator_file_of_one_line_gets_every_other_value_from_the_reference_conf_files()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "short.hocon");
        File.WriteAllText(file, "nwdp.http.endpoint = \"127.0.0.1:0\"\n");
        var config = Load(dir.Path, file: file);
        Assert.Equal(("127.0.0.1", 0), config.HttpEndpoint);
        Assert.Equal(new PumpOptions(), config.Pump);
        Assert.Equal(512, config.Ingress.QueueCapacity);
        Assert.Equal(TimeSpan.FromSeconds(5), config.Spill.After);
        Assert.Equal(["ingress", "pump"], config.Cluster.Roles);
        Assert.Equal("sqlite", config.Persistence.Provider);
        Assert.Equal("keep-majority", config.Hocon.GetString("akka.cluster.split-brain-resolver.active-strategy"));
    }

    [Fact]
    public void The_defaults_records_keep_for_tests_equal_the_reference_conf_files()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path);
        Assert.Equal(new PumpOptions(), config.Pump);
        Assert.Equal(new StatsOptions(), config.Stats);
        Assert.Equal(new NeverwinterDP.Actors.Coverage.CoverageOptions(), config.Coverage);
        Assert.Equal(new RemoteIngressOptions(), config.RemoteIngress);
        Assert.Equal(new EmbeddedKafkaOptions(), config.EmbeddedKafka);
    }

    [Fact]
    public void A_key_missing_from_every_layer_fails_with_its_name()
    {
        var pump = new ConfigReader(ConfigurationFactory.ParseString("nwdp.pump { batch-size = 10 }")).Section("nwdp").Section("pump");
        Assert.Equal(10, pump.PositiveInt("batch-size"));
        var missing = Assert.Throws<ArgumentException>(() => pump.Bytes("batch-bytes"));
        Assert.Contains("nwdp.pump.batch-bytes", missing.Message);
        var bad = Assert.Throws<ArgumentException>(() => new ConfigReader(ConfigurationFactory.ParseString("nwdp.pump.batch-interval = soon")).Section("nwdp.pump").Duration("batch-interval"));
        Assert.Contains("nwdp.pump.batch-interval", bad.Message);
    }

    [Fact]
    public void Set_overrides_a_key_only_a_reference_conf_ships_and_the_environment_still_overrides_the_file()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path, new() { ["nwdp.ingress.queue-capacity"] = "7", ["nwdp.stats.grace"] = "3s" });
        Assert.Equal(7, config.Ingress.QueueCapacity);
        Assert.Equal(TimeSpan.FromSeconds(3), config.Stats.Grace);

        var saved = Environment.GetEnvironmentVariable("NWDP_NODE_ID");
        try
        {
            Environment.SetEnvironmentVariable("NWDP_NODE_ID", "node-from-env");
            Assert.Equal("node-from-env", Load(dir.Path).NodeId);
            Assert.Equal("node-from-flag", Load(dir.Path, new() { ["nwdp.node.id"] = "node-from-flag" }).NodeId);
        }
        finally
        {
            Environment.SetEnvironmentVariable("NWDP_NODE_ID", saved);
        }
    }

    [Fact]
    public async Task The_pump_batch_bytes_and_retry_max_attempts_keys_reach_the_sink_writers()
    {
        using var dir = new TempDir();
        var config = Load(dir.Path, new() { ["nwdp.pump.batch-bytes"] = "1KiB", ["nwdp.pump.retry-max-attempts"] = "3" });
        Assert.Equal(1024, config.Pump.BatchBytes);
        Assert.Equal(3, config.Pump.RetryMaxAttempts);
        var (sink, options) = new SinkWriterCatalog(new SinkCatalog(new SinkCatalogSettings(config.Sinks, config.DataDir), SinkKinds()), config.Pump, config.WritersPerSink)
            .Create("files");
        await sink.DisposeAsync();
        Assert.Equal(1024, options.BatchBytes);
        Assert.Equal(3, options.RetryMaxAttempts);

        var negative = Assert.Throws<ArgumentException>(() => Load(dir.Path, new() { ["nwdp.pump.retry-max-attempts"] = "-1" }));
        Assert.Contains("nwdp.pump.retry-max-attempts", negative.Message);
    }

    [Fact]
    public void The_ingress_producer_keeps_akkas_message_timeout_and_spill_after_must_be_shorter()
    {
        using var dir = new TempDir();
        var spilling = Load(dir.Path, new() { ["nwdp.spill.after"] = "7s" });
        Assert.Equal(TimeSpan.FromSeconds(30), spilling.IngressMessageTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), spilling.Spill.After);
        var tooLong = Assert.Throws<ArgumentException>(() => Load(dir.Path, new() { ["nwdp.spill.after"] = "30s" }));
        Assert.Contains("nwdp.spill.after", tooLong.Message);
        Assert.Contains("message.timeout.ms", tooLong.Message);
        var notSpilling = Load(dir.Path, new() { ["nwdp.spill.enabled"] = "off" });
        Assert.Equal(TimeSpan.FromSeconds(30), notSpilling.IngressMessageTimeout);
        Assert.Equal(30000, notSpilling.Hocon.GetLong("akka.kafka.producer.kafka-clients.message.timeout.ms"));
    }

    /// <summary>The leaf keys under <c>nwdp</c> (lists and scalars; a sink instance written as <c>{}</c> has none).</summary>
    private static IEnumerable<string> NwdpKeys(Config config)
    {
        if (!config.HasPath("nwdp")) return [];
        var keys = new List<string>();
        Walk(config.GetValue("nwdp").GetObject(), "nwdp", keys);
        return keys;
    }

    private static void Walk(HoconObject obj, string prefix, List<string> into)
    {
        foreach (var (key, value) in obj.Items)
        {
            var path = $"{prefix}.{key}";
            if (value.IsObject()) Walk(value.GetObject(), path, into);
            else into.Add(path);
        }
    }
}
