using System.Globalization;
using Akka.Configuration;
using NeverwinterDP.Actors;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Spill;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// A node's whole configuration: <c>cluster.hocon</c> (or <c>--config</c>), with environment variables and
/// flags over it, and the Kafka stages' reference defaults under it. Typed views for each part.
/// </summary>
public sealed class NodeConfig
{
    private NodeConfig(Config hocon)
    {
        Hocon = hocon;
        var nwdp = hocon.GetConfig("nwdp") ?? throw new ArgumentException("configuration has no 'nwdp' section");
        DataDir = Path.GetFullPath(Required(nwdp, "node.data-dir"));
        HttpEndpoint = ParseEndpoint(Required(nwdp, "http.endpoint"), "nwdp.http.endpoint");
        NodeId = nwdp.GetString("node.id", "");
        ShutdownTimeout = nwdp.GetTimeSpan("http.shutdown-timeout", TimeSpan.FromSeconds(30));
        KafkaBootstrap = NullIfEmpty(nwdp.GetString("kafka.bootstrap-servers", ""));
        TopicPartitions = Positive(nwdp.GetInt("kafka.topic-partitions", 8), "nwdp.kafka.topic-partitions");
        TopicReplicationFactor = (short)Positive(nwdp.GetInt("kafka.topic-replication-factor", 1), "nwdp.kafka.topic-replication-factor");
        EmbeddedKafka = new EmbeddedKafkaOptions
        {
            Brokers = Positive(nwdp.GetInt("embedded-kafka.brokers", 1), "nwdp.embedded-kafka.brokers"),
            DefaultPartitions = Positive(nwdp.GetInt("embedded-kafka.default-partitions", 8), "nwdp.embedded-kafka.default-partitions"),
        };
        Ingress = new IngressOptions
        {
            MaxRequestBytes = Bytes(nwdp, "ingress.max-request-bytes", 16L << 20),
            MaxDecompressedBytes = Bytes(nwdp, "ingress.max-decompressed-bytes", 64L << 20),
            MaxEventsPerRequest = Positive(nwdp.GetInt("ingress.max-events-per-request", 100_000), "nwdp.ingress.max-events-per-request"),
            QueueCapacity = Positive(nwdp.GetInt("ingress.queue-capacity", 512), "nwdp.ingress.queue-capacity"),
            EnqueueTimeout = nwdp.GetTimeSpan("ingress.enqueue-timeout", TimeSpan.FromMilliseconds(500)),
            RetryAfter = nwdp.GetTimeSpan("ingress.retry-after", TimeSpan.FromSeconds(1)),
            MaxBusBacklog = BacklogSetting(nwdp.GetString("ingress.max-bus-backlog", "auto")),
        };
        EmbeddedMaxUnread = Positive(nwdp.GetInt("embedded-kafka.max-unread-per-partition", 20_000), "nwdp.embedded-kafka.max-unread-per-partition");
        PumpEnabled = nwdp.GetBoolean("pump.enabled", true);
        Pump = new PumpOptions
        {
            GroupId = nwdp.GetString("pump.group-id", "nwdp-pump"),
            TopicPattern = nwdp.GetString("pump.topic-pattern", @"^nwdp\.logs\..*"),
            BatchSize = Positive(nwdp.GetInt("pump.batch-size", 5000), "nwdp.pump.batch-size"),
            BatchInterval = nwdp.GetTimeSpan("pump.batch-interval", TimeSpan.FromMilliseconds(200)),
            FlushInterval = nwdp.GetTimeSpan("pump.flush-interval", TimeSpan.FromSeconds(5)),
            FlushRecords = Positive(nwdp.GetInt("pump.flush-records", 500_000), "nwdp.pump.flush-records"),
            RetryMinBackoff = nwdp.GetTimeSpan("pump.retry-min-backoff", TimeSpan.FromMilliseconds(100)),
            RetryMaxBackoff = nwdp.GetTimeSpan("pump.retry-max-backoff", TimeSpan.FromSeconds(10)),
        };
        WritersPerSink = Positive(nwdp.GetInt("pump.writers-per-sink", 2), "nwdp.pump.writers-per-sink");
        SinkWriterKeepAlive = nwdp.GetTimeSpan("pump.keep-alive-interval", TimeSpan.FromSeconds(5));
        Roles = hocon.GetStringList("akka.cluster.roles").Select(r => r.Trim().ToLowerInvariant()).Where(r => r.Length > 0).ToList();
        Persistence = PersistenceOptions.FromConfig(nwdp, DataDir);
        RegistryFlushInterval = nwdp.GetTimeSpan("registry.flush-interval", TimeSpan.FromSeconds(1));
        DefaultBeatInterval = nwdp.GetTimeSpan("watchdog.event-beat-interval", TimeSpan.FromSeconds(10));
        Watchdog = new WatchdogOptions
        {
            OfflineAfter = nwdp.GetTimeSpan("watchdog.offline-after", TimeSpan.FromSeconds(30)),
            CheckInterval = nwdp.GetTimeSpan("watchdog.check-interval", TimeSpan.FromSeconds(1)),
            PersistBeatsEvery = nwdp.GetTimeSpan("watchdog.persist-beats-every", TimeSpan.FromSeconds(5)),
        };
        Spill = new SpillOptions
        {
            Enabled = nwdp.GetBoolean("spill.enabled", true),
            After = nwdp.GetTimeSpan("spill.after", TimeSpan.FromSeconds(5)),
            QuotaBytes = Bytes(nwdp, "spill.quota", 1L << 30),
            ProbeInterval = nwdp.GetTimeSpan("spill.probe-interval", TimeSpan.FromSeconds(1)),
            ReplayRate = Positive(nwdp.GetInt("spill.replay-rate", 50_000), "nwdp.spill.replay-rate"),
            ReplayInterval = nwdp.GetTimeSpan("spill.replay-interval", TimeSpan.FromMilliseconds(200)),
        };
        var filesDir = nwdp.GetString("sinks.files.directory", "");
        FilesSinkDirectory = string.IsNullOrEmpty(filesDir) ? Path.Combine(DataDir, "sinks", "files") : Path.GetFullPath(filesDir);
        Cluster = ClusterOptions.FromConfig(hocon);
        Admin = AdminOptions.FromConfig(nwdp, HttpEndpoint);
        PumpEnabled = PumpEnabled && Cluster.HasRole(NodeRoles.Pump);
    }

    public Config Hocon { get; }
    public string DataDir { get; }
    public (string Host, int Port) HttpEndpoint { get; }
    public string NodeId { get; }
    public TimeSpan ShutdownTimeout { get; }
    public string? KafkaBootstrap { get; }
    public int TopicPartitions { get; }
    public short TopicReplicationFactor { get; }
    public EmbeddedKafkaOptions EmbeddedKafka { get; }

    /// <summary>
    /// Records one partition of the embedded broker may hold unread before ingress answers 429 (it keeps
    /// ~5 MB per partition; 20,000 events of ~200 bytes are ~4 MB before lz4).
    /// </summary>
    public int EmbeddedMaxUnread { get; }
    public IngressOptions Ingress { get; }
    public bool PumpEnabled { get; }
    public PumpOptions Pump { get; }
    /// <summary><c>nwdp.pump.writers-per-sink</c>: sink-writer entities (consumer group members) per sink, spread over the pump nodes.</summary>
    public int WritersPerSink { get; }

    /// <summary><c>nwdp.pump.keep-alive-interval</c>: how often every node asks for every sink writer to run.</summary>
    public TimeSpan SinkWriterKeepAlive { get; }

    public const string PumpRole = "pump";
    public const string IngressRole = "ingress";

    /// <summary><c>akka.cluster.roles</c>; none = every role.</summary>
    public IReadOnlyList<string> Roles { get; }

    public bool HasRole(string role) => Roles.Count == 0 || Roles.Contains(role);

    public PersistenceOptions Persistence { get; }

    /// <summary><c>nwdp.registry.flush-interval</c>: how often a node reports the activity it summed to the emitter entities.</summary>
    public TimeSpan RegistryFlushInterval { get; }

    /// <summary><c>nwdp.watchdog.event-beat-interval</c>: the heartbeat interval assumed for a source that only sends events.</summary>
    public TimeSpan DefaultBeatInterval { get; }

    public WatchdogOptions Watchdog { get; }

    public SpillOptions Spill { get; }

    public string FilesSinkDirectory { get; }

    /// <summary>Cluster membership: remoting address, seeds, roles (<c>nwdp.cluster</c>).</summary>
    public ClusterOptions Cluster { get; }

    /// <summary>The admin API listener (<c>nwdp.admin</c>).</summary>
    public AdminOptions Admin { get; }

    /// <summary>Environment variables a node reads, and the key each sets.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>
    {
        ["NWDP_DATA"] = "nwdp.node.data-dir",
        ["NWDP_HTTP"] = "nwdp.http.endpoint",
        ["NWDP_KAFKA"] = "nwdp.kafka.bootstrap-servers",
        ["NWDP_NODE_ID"] = "nwdp.node.id",
        ["NWDP_NODE_PORT"] = "nwdp.cluster.port",
        ["NWDP_SEEDS"] = "nwdp.cluster.seeds",
        ["NWDP_ADMIN_TOKEN"] = "nwdp.admin.token",
    };

    /// <summary>The configuration file shipped beside the executable.</summary>
    public static string DefaultFile => Path.Combine(AppContext.BaseDirectory, "cluster.hocon");

    /// <summary>
    /// Loads <paramref name="file"/> (or the default file), then applies <paramref name="overrides"/>
    /// (HOCON paths to values, from flags), over the Kafka stages' defaults.
    /// </summary>
    public static NodeConfig Load(string? file, IReadOnlyDictionary<string, string>? overrides = null, string? extraHocon = null)
    {
        var path = file ?? DefaultFile;
        if (!File.Exists(path)) throw new FileNotFoundException($"configuration file not found: {path}", path);
        var config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        if (!string.IsNullOrWhiteSpace(extraHocon)) config = ConfigurationFactory.ParseString(extraHocon).WithFallback(config);
        // Environment over the file, flags over the environment.
        var settings = new Dictionary<string, string>();
        foreach (var (variable, key) in EnvironmentVariables)
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value) settings[key] = value;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        if (settings.Count > 0)
        {
            var text = string.Join('\n', settings.Select(kv => $"{kv.Key} = {Quote(kv.Value)}"));
            config = ConfigurationFactory.ParseString(text).WithFallback(config);
        }
        // nwdp.cluster.* decides akka.remote / akka.cluster: one place for the operator, the flags and the env.
        config = ClusterOptions.AkkaOverlay(config).WithFallback(config);
        return new NodeConfig(config.WithFallback(KafkaConfig.Default));
    }

    /// <summary>The id stamped on events' lineage: the configured one, or machine name and HTTP port.</summary>
    public string ResolveNodeId(int httpPort) => string.IsNullOrEmpty(NodeId) ? $"{Environment.MachineName}-{httpPort}" : NodeId;

    public static (string Host, int Port) ParseEndpoint(string value, string what)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
            throw new ArgumentException($"{what} must be HOST:PORT (port 0 picks a free one), got '{value}'");
        return (value[..colon].Trim('[', ']'), port);
    }

    /// <summary><c>auto</c> (-1: decided by the node), <c>off</c>/0, or a number of records.</summary>
    private static long BacklogSetting(string value) => value.Trim().ToLowerInvariant() switch
    {
        "auto" or "" => -1,
        "off" or "0" => 0,
        var v when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 => n,
        _ => throw new ArgumentException($"nwdp.ingress.max-bus-backlog must be auto, off or a positive number of records, got '{value}'"),
    };

    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string Required(Config c, string path)
    {
        var v = c.GetString(path, "");
        return string.IsNullOrWhiteSpace(v) ? throw new ArgumentException($"nwdp.{path} must be set") : v;
    }

    private static string? NullIfEmpty(string s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static int Positive(int value, string key) => value > 0 ? value : throw new ArgumentException($"{key} must be positive, got {value}");

    private static long Bytes(Config c, string path, long fallback)
    {
        var v = c.GetByteSize(path) ?? fallback;
        return v > 0 ? v : throw new ArgumentException($"nwdp.{path} must be a positive size, got {v}");
    }
}
