using System.Globalization;
using Akka.Configuration;
using NeverwinterDP.Actors;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Host.Search;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// A node's whole configuration: flags (<c>--set KEY=VALUE</c> and the named ones) over environment variables
/// over the operator file (<c>cluster.hocon</c>, or <c>--config</c>) over the modules' <c>reference.conf</c>
/// files, which hold the default of every key. Typed views for each part, read with no second set of defaults:
/// a key missing from every layer is a bug in a reference.conf and stops the node with its name.
/// </summary>
public sealed class NodeConfig
{
    private NodeConfig(Config hocon, ConfigReader reader)
    {
        Hocon = hocon;
        Reader = reader;
        var nwdp = reader.Section("nwdp");
        DataDir = Path.GetFullPath(Required(nwdp, "node.data-dir"));
        HttpEndpoint = ParseEndpoint(Required(nwdp, "http.endpoint"), "nwdp.http.endpoint");
        NodeId = nwdp.String("node.id");
        ShutdownTimeout = nwdp.Duration("http.shutdown-timeout");
        HttpLimits = HttpLimits.FromConfig(nwdp.Section("http.limits"));
        KafkaBootstrap = nwdp.OptionalString("kafka.bootstrap-servers");
        KafkaSecurity = KafkaSecurityOptions.FromConfig(nwdp.Section("kafka.security"));
        TopicPartitions = nwdp.PositiveInt("kafka.topic-partitions");
        TopicReplication = TopicReplication.Parse(nwdp.String("kafka.topic-replication-factor"), nwdp.String("kafka.topic-min-insync-replicas"));
        EmbeddedKafka = new EmbeddedKafkaOptions
        {
            Brokers = nwdp.PositiveInt("embedded-kafka.brokers"),
            DefaultPartitions = nwdp.PositiveInt("embedded-kafka.default-partitions"),
        };
        EmbeddedMaxUnread = nwdp.PositiveInt("embedded-kafka.max-unread-per-partition");
        Ingress = new IngressOptions
        {
            MaxRequestBytes = nwdp.Bytes("ingress.max-request-bytes"),
            MaxDecompressedBytes = nwdp.Bytes("ingress.max-decompressed-bytes"),
            MaxEventsPerRequest = nwdp.PositiveInt("ingress.max-events-per-request"),
            QueueCapacity = nwdp.PositiveInt("ingress.queue-capacity"),
            EnqueueTimeout = nwdp.Duration("ingress.enqueue-timeout"),
            RetryAfter = nwdp.Duration("ingress.retry-after"),
            MaxBytesInFlight = nwdp.Bytes("ingress.max-bytes-in-flight"),
            MaxBusBacklog = BacklogSetting(nwdp.String("ingress.max-bus-backlog")),
            BacklogWait = nwdp.Duration("ingress.backlog-wait"),
        };
        if (Ingress.MaxBytesInFlight < Ingress.LargestRequestCost)
            throw new ArgumentException(
                $"nwdp.ingress.max-bytes-in-flight ({Ingress.MaxBytesInFlight} bytes) must be at least {Ingress.LargestRequestCost} bytes: the largest request " +
                $"nwdp.ingress.max-request-bytes and max-decompressed-bytes allow holds that much ({IngressOptions.BudgetPerBodyByte} times its inflated body, " +
                "beside the body as sent); raise it or lower those");
        HecTokens = nwdp.Strings("inputs.hec.tokens");
        BulkVersion = nwdp.String("inputs.bulk.version");
        Syslog = SyslogOptions.FromConfig(nwdp.Section("inputs.syslog"));
        ZeroMq = ZeroMqOptions.FromConfig(nwdp.Section("inputs.zeromq"));
        var pump = nwdp.Section("pump");
        Pump = new PumpOptions
        {
            GroupId = pump.String("group-id"),
            TopicPattern = pump.String("topic-pattern"),
            BatchSize = pump.PositiveInt("batch-size"),
            BatchBytes = pump.Bytes("batch-bytes"),
            BufferBytes = pump.BytesOrZero("buffer-bytes"),
            FetchBytes = pump.BytesOrZero("fetch-bytes"),
            BatchInterval = pump.Duration("batch-interval"),
            FlushInterval = pump.Duration("flush-interval"),
            FlushRecords = pump.PositiveInt("flush-records"),
            RetryMinBackoff = pump.Duration("retry-min-backoff"),
            RetryMaxBackoff = pump.Duration("retry-max-backoff"),
            RetryMaxAttempts = RetryAttempts(pump, "retry-max-attempts"),
            LagInterval = pump.Duration("lag-interval"),
            LagTimeout = pump.Duration("lag-timeout"),
        };
        WritersPerSink = pump.PositiveInt("writers-per-sink");
        SinkWriterKeepAlive = pump.Duration("keep-alive-interval");
        Persistence = PersistenceOptions.FromConfig(nwdp.Section("persistence"), DataDir);
        RegistryFlushInterval = nwdp.Duration("registry.flush-interval");
        DefaultBeatInterval = nwdp.Duration("watchdog.event-beat-interval");
        Watchdog = new WatchdogOptions
        {
            OfflineAfter = nwdp.Duration("watchdog.offline-after"),
            CheckInterval = nwdp.Duration("watchdog.check-interval"),
            PersistBeatsEvery = nwdp.Duration("watchdog.persist-beats-every"),
        };
        Spill = new SpillOptions
        {
            Enabled = nwdp.Bool("spill.enabled"),
            After = nwdp.Duration("spill.after"),
            QuotaBytes = nwdp.Bytes("spill.quota"),
            ProbeInterval = nwdp.Duration("spill.probe-interval"),
            ReplayRate = nwdp.PositiveInt("spill.replay-rate"),
            ReplayInterval = nwdp.Duration("spill.replay-interval"),
            Encryption = new SpillEncryptionOptions
            {
                Enabled = nwdp.Bool("spill.encryption.enabled"),
                KeyFile = nwdp.OptionalString("spill.encryption.key-file"),
                KeyVariable = nwdp.OptionalString("spill.encryption.key-variable"),
                OldKeyFiles = nwdp.Strings("spill.encryption.old-key-files"),
            },
        };
        IngressMessageTimeout = TimeSpan.FromMilliseconds(hocon.GetLong("akka.kafka.producer.kafka-clients.message.timeout.ms"));
        if (Spill.Enabled && Spill.After >= IngressMessageTimeout)
            throw new ArgumentException(
                $"nwdp.spill.after ({Spill.After.TotalMilliseconds:0}ms) must be shorter than akka.kafka.producer.kafka-clients.message.timeout.ms " +
                $"({IngressMessageTimeout.TotalMilliseconds:0}ms): a request spills after the first, and the producer keeps what it already sent until the second");
        RemoteIngress = RemoteIngressOptions.FromConfig(nwdp.Section("remote-ingress"));
        Stats = StatsOptions.FromConfig(nwdp.Section("stats"));
        Coverage = CoverageOptions.FromConfig(nwdp.Section("coverage"));
        Watermarks = WatermarkOptions.FromConfig(nwdp.Section("watermarks"));
        var ganglia = nwdp.Section("monitoring").Section("ganglia");
        Ganglia = new GangliaOptions(ganglia.String("host"), ganglia.Int("port"), ganglia.Duration("interval"));
        Schemas = SchemaOptions.FromConfig(nwdp.Section("schemas"));
        Alerts = AlertSettings.FromConfig(nwdp.Section("alerts"));
        Search = SearchOptions.FromConfig(nwdp.Section("search"));
        Sinks = nwdp.Raw("sinks");
        // What the files sink decides itself (tests look there); read past the key log, which is for the sink's own reads.
        var filesDir = hocon.HasPath("nwdp.sinks.files.directory") ? hocon.GetString("nwdp.sinks.files.directory") : "";
        FilesSinkDirectory = string.IsNullOrEmpty(filesDir) ? Path.Combine(DataDir, "sinks", "files") : Path.GetFullPath(filesDir);
        Cluster = ClusterOptions.FromConfig(hocon, nwdp.Section("cluster"));
        Discovery = DiscoveryOptions.FromConfig(nwdp.Section("cluster.discovery"));
        // Loaded here, so a missing file or a wrong password stops the start (and nwdp check) naming the key.
        ClusterTls = Cluster.LoadTls();
        SenderKeysFile = nwdp.OptionalString("security.api-keys-file");
        Tls = TlsOptions.FromConfig(nwdp.Section("security.tls"));
        Admin = AdminOptions.FromConfig(nwdp.Section("admin"), HttpEndpoint, Tls);
        PumpEnabled = pump.Bool("enabled") && Cluster.HasRole(NodeRoles.Pump);
        Mirrors = MirrorSettings.FromConfig(nwdp);
        MirrorKeepAlive = nwdp.PositiveDuration("mirror.keep-alive-interval");
        MirrorLagInterval = nwdp.Duration("mirror.lag-interval");
        MirrorLagTimeout = nwdp.PositiveDuration("mirror.lag-timeout");
    }

    /// <summary><c>nwdp.mirrors</c>: the mirrors the cluster runs (none by default).</summary>
    public IReadOnlyList<MirrorSettings> Mirrors { get; }

    /// <summary><c>nwdp.mirror.keep-alive-interval</c>: how often every node asks for every mirror to run.</summary>
    public TimeSpan MirrorKeepAlive { get; }

    /// <summary><c>nwdp.mirror.lag-interval</c> and <c>lag-timeout</c>: how often the mirrors' lag is read from Kafka at most, and each request's bound.</summary>
    public TimeSpan MirrorLagInterval { get; }

    public TimeSpan MirrorLagTimeout { get; }

    /// <summary>The whole merged configuration (what the actor system is given).</summary>
    public Config Hocon { get; }

    /// <summary><c>nwdp.alerts</c>: the alert rules and webhooks (re-read by <see cref="ReloadAlerts"/>).</summary>
    public AlertSettings Alerts { get; }

    private (string? File, IReadOnlyDictionary<string, string>? Overrides, string? ExtraHocon) _loadedFrom;

    /// <summary>
    /// <c>nwdp.alerts</c> read again from the same file, environment and flags this configuration was loaded from
    /// (<c>nwdp alerts reload</c>, SIGHUP). Throws, naming the key, when the file no longer reads.
    /// </summary>
    public AlertSettings ReloadAlerts() => Load(_loadedFrom.File, _loadedFrom.Overrides, _loadedFrom.ExtraHocon).Alerts;
    public string DataDir { get; }
    public (string Host, int Port) HttpEndpoint { get; }
    public string NodeId { get; }
    public TimeSpan ShutdownTimeout { get; }

    /// <summary><c>nwdp.http.limits</c>: Kestrel's limits on both listeners.</summary>
    public HttpLimits HttpLimits { get; }
    public string? KafkaBootstrap { get; }

    /// <summary><c>nwdp.kafka.security</c>: what every Kafka client connects with (a real cluster only).</summary>
    public KafkaSecurityOptions KafkaSecurity { get; }
    public int TopicPartitions { get; }
    /// <summary><c>nwdp.kafka.topic-replication-factor</c> and <c>topic-min-insync-replicas</c> (auto: from the cluster's brokers).</summary>
    public TopicReplication TopicReplication { get; }
    public EmbeddedKafkaOptions EmbeddedKafka { get; }

    /// <summary>
    /// Records one partition of the embedded broker may hold unread before ingress answers 429 (it keeps
    /// ~5 MB per partition; 20,000 events of ~200 bytes are ~4 MB before lz4).
    /// </summary>
    public int EmbeddedMaxUnread { get; }
    public IngressOptions Ingress { get; }

    /// <summary><c>nwdp.inputs.hec.tokens</c>: the Splunk HEC tokens taken; none = HEC off.</summary>
    public IReadOnlyList<string> HecTokens { get; }

    /// <summary><c>nwdp.inputs.bulk.version</c>: the Elasticsearch version the <c>_bulk</c> input's <c>GET /</c> banner names.</summary>
    public string BulkVersion { get; }
    /// <summary><c>nwdp.inputs.syslog</c>: the syslog and RELP listeners.</summary>
    public SyslogOptions Syslog { get; }

    /// <summary><c>nwdp.inputs.zeromq</c>: the ZeroMQ ROUTER input.</summary>
    public ZeroMqOptions ZeroMq { get; }
    public bool PumpEnabled { get; }
    public PumpOptions Pump { get; }
    /// <summary><c>nwdp.pump.writers-per-sink</c>: sink-writer entities (consumer group members) per sink, spread over the pump nodes.</summary>
    public int WritersPerSink { get; }

    /// <summary><c>nwdp.pump.keep-alive-interval</c>: how often every node asks for every sink writer to run.</summary>
    public TimeSpan SinkWriterKeepAlive { get; }

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

    /// <summary>Zero-configuration discovery: mDNS announcements, seeds found by mDNS or DNS SRV (<c>nwdp.cluster.discovery</c>).</summary>
    public DiscoveryOptions Discovery { get; }

    /// <summary>Remoting over TLS (<c>nwdp.cluster.tls</c>): the certificate and CAs loaded; null when it is off.</summary>
    public NeverwinterDP.Protocol.Remote.RemoteTls? ClusterTls { get; }

    /// <summary><c>nwdp.security.api-keys-file</c>: the API keys senders of <c>POST /v1/events</c> must present; null = none needed.</summary>
    public string? SenderKeysFile { get; }

    /// <summary><c>nwdp.security.tls</c>: the ingress listener's certificate (and client CA); null = plain HTTP.</summary>
    public TlsOptions? Tls { get; }

    /// <summary>The admin API listener (<c>nwdp.admin</c>).</summary>
    public AdminOptions Admin { get; }

    /// <summary><c>nwdp.monitoring.ganglia</c>: the optional gmetric exporter.</summary>
    public GangliaOptions Ganglia { get; }

    /// <summary><c>nwdp.search</c>: log search (<c>GET /v1/search</c>, <c>nwdp search</c>).</summary>
    public SearchOptions Search { get; }

    /// <summary><c>nwdp.remote-ingress</c>: the Akka-remote ingress EmitterClients send to.</summary>
    public RemoteIngressOptions RemoteIngress { get; }

    /// <summary><c>nwdp.stats</c>: per-minute monitoring and the loss audit.</summary>
    public StatsOptions Stats { get; }

    /// <summary><c>nwdp.coverage</c>: the coverage and summary reports.</summary>
    public CoverageOptions Coverage { get; }
    /// <summary><c>nwdp.watermarks</c>: hour markers (ingress) and hour completions (pump).</summary>
    public WatermarkOptions Watermarks { get; }

    /// <summary><c>nwdp.schemas</c>: the schema registry this node serves, or the external one it uses.</summary>
    public SchemaOptions Schemas { get; }

    /// <summary>
    /// <c>nwdp.sinks</c> (empty when the operator configured none), as the sinks' options read it; reads through it
    /// are logged in <see cref="Reader"/>.
    /// </summary>
    public Config Sinks { get; }

    /// <summary>
    /// The ingress producer's <c>message.timeout.ms</c> (<c>akka.kafka.producer.kafka-clients.message.timeout.ms</c>):
    /// how long it keeps trying records it was given. With spillover off, a request not acknowledged by then is
    /// answered 503. With it on, a request waits only <c>nwdp.spill.after</c> (shorter) and is then spilled, while
    /// records already with the producer stay there until this timeout: a message timeout makes librdkafka's
    /// idempotent producer bump its epoch, after which records the broker already has can be written twice, so it
    /// must not fire on every short stall.
    /// </summary>
    public TimeSpan IngressMessageTimeout { get; }

    /// <summary>What read this configuration, with the keys it read (<see cref="ConfigReader.KeysRead"/>).</summary>
    public ConfigReader Reader { get; }

    /// <summary>Environment variables a node reads, and the key each sets.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>
    {
        ["NWDP_DATA"] = "nwdp.node.data-dir",
        ["NWDP_HTTP"] = "nwdp.http.endpoint",
        ["NWDP_KAFKA"] = "nwdp.kafka.bootstrap-servers",
        ["NWDP_KAFKA_SASL_PASSWORD"] = "nwdp.kafka.security.sasl.password",
        ["NWDP_NODE_ID"] = "nwdp.node.id",
        ["NWDP_NODE_PORT"] = "nwdp.cluster.port",
        ["NWDP_SEEDS"] = "nwdp.cluster.seeds",
        ["NWDP_CLUSTER_TLS_PASSWORD"] = "nwdp.cluster.tls.password",
        ["NWDP_ADMIN_TOKEN"] = "nwdp.admin.token",
        ["NWDP_HEC_TOKENS"] = "nwdp.inputs.hec.tokens",
    };

    /// <summary>The configuration file shipped beside the executable.</summary>
    public static string DefaultFile => Path.Combine(AppContext.BaseDirectory, "cluster.hocon");

    /// <summary>The defaults of every module: the node's (Host) and NeverwinterDP.Actors' <c>reference.conf</c> files.</summary>
    public static Config Reference => NodeReference.Value;

    private static readonly Lazy<Config> NodeReference = new(() => ReferenceConfig.Of(typeof(NodeConfig).Assembly).WithFallback(ReferenceConfig.Actors));

    /// <summary>
    /// Loads <paramref name="file"/> (or the default file) over the modules' defaults (<see cref="Reference"/>), with
    /// <paramref name="extraHocon"/> over the file, the environment over that, and <paramref name="overrides"/>
    /// (HOCON paths to values, from flags) over everything.
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
        // Roles someone who knows Akka set in akka.cluster.roles (and not in nwdp.cluster.roles) are kept.
        var akkaRoles = !config.HasPath("nwdp.cluster.roles") && config.HasPath("akka.cluster.roles") && config.GetStringList("akka.cluster.roles") is { Count: > 0 } set
            ? set.ToList()
            : null;
        var full = config.WithFallback(Reference);
        var reader = new ConfigReader(full);
        // nwdp.cluster.* decides akka.remote / akka.cluster: one place for the operator, the flags and the env.
        var hocon = ClusterOptions.AkkaOverlay(reader.Section("nwdp"), akkaRoles).WithFallback(full);
        return new NodeConfig(hocon, reader) { _loadedFrom = (file, overrides, extraHocon) };
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

    /// <summary>0 (retry until the store takes them) or a positive number of attempts.</summary>
    private static int RetryAttempts(ConfigReader pump, string key)
    {
        var v = pump.Int(key);
        return v >= 0 ? v : throw new ArgumentException($"{pump.Key(key)} must be 0 (until the store takes them) or a positive number, got {v}");
    }

    private static string Required(ConfigReader nwdp, string key) =>
        nwdp.OptionalString(key) ?? throw new ArgumentException($"{nwdp.Key(key)} must be set");
}
