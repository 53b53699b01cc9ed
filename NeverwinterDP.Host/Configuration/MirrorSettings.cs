using Akka.Configuration;
using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// One mirror of <c>nwdp.mirrors.&lt;name&gt;</c> (over <c>nwdp.mirror.defaults</c>): its options and its two clusters,
/// <c>null</c> for the node's own Kafka. Resolved into a <see cref="MirrorDefinition"/> once the node's Kafka is known.
/// </summary>
public sealed record MirrorSettings(MirrorOptions Options, string? From, IReadOnlyDictionary<string, string> FromProperties,
    string? To, IReadOnlyDictionary<string, string> ToProperties, MirrorCheckpointOptions Checkpoints)
{
    private static readonly string[] Fields =
    [
        "from", "to", "source-site", "target-site", "topics", "target-topic", "start", "batch", "batch-bytes", "interval", "topic-refresh",
        "request-timeout", "offsets-topic", "from-properties", "to-properties", "checkpoint-interval", "groups",
    ];

    /// <summary>
    /// Every <c>nwdp.mirrors.NAME</c>, each over <c>nwdp.mirror.defaults</c> (also read on its own, so its values are checked
    /// when no mirror is configured). Throws <see cref="ArgumentException"/> naming the key that is wrong.
    /// </summary>
    public static IReadOnlyList<MirrorSettings> FromConfig(ConfigReader nwdp)
    {
        var defaults = nwdp.Section("mirror.defaults");
        _ = Parse("defaults", defaults, template: true);
        var mirrors = nwdp.Raw("mirrors");
        var defaultsConfig = nwdp.Raw("mirror.defaults");
        var list = new List<MirrorSettings>();
        if (mirrors.IsEmpty) return list;
        foreach (var (name, value) in mirrors.Root.GetObject().Items.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var path = "nwdp.mirrors." + name;
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_-]{1,100}$"))
                throw new ArgumentException($"{path}: a mirror's name is letters, digits, - and _ (at most 100)");
            if (!value.IsObject()) throw new ArgumentException($"{path} must be an object {{ to = \"HOST:PORT\", source-site = ..., target-site = ... }}");
            var own = mirrors.GetConfig(name);
            foreach (var key in own.Root.GetObject().Items.Keys)
                if (!Fields.Contains(key)) throw new ArgumentException($"{path}.{key}: unknown key (known: {string.Join(", ", Fields)})");
            list.Add(Parse(name, new ConfigReader(own.WithFallback(defaultsConfig), path), template: false));
        }
        return list;
    }

    private static MirrorSettings Parse(string name, ConfigReader c, bool template)
    {
        string Key(string k) => c.Key(k);
        var start = c.String("start");
        if (start is not ("earliest" or "latest")) throw new ArgumentException($"{Key("start")} must be earliest or latest, got '{start}'");
        var from = c.OptionalString("from");
        var to = c.OptionalString("to");
        var sourceSite = c.String("source-site").Trim();
        var targetSite = c.String("target-site").Trim();
        var options = new MirrorOptions
        {
            Name = name,
            SourceSite = sourceSite,
            TargetSite = targetSite,
            TopicPattern = c.String("topics"),
            TargetTopic = c.String("target-topic"),
            StartAtBeginning = start == "earliest",
            MaxBatchRecords = c.PositiveInt("batch"),
            MaxBatchBytes = c.Bytes("batch-bytes"),
            BatchInterval = c.PositiveDuration("interval"),
            TopicRefresh = c.PositiveDuration("topic-refresh"),
            RequestTimeout = c.PositiveDuration("request-timeout"),
            OffsetsTopic = c.String("offsets-topic"),
        };
        var fromProperties = Properties(c, "from-properties");
        var toProperties = Properties(c, "to-properties");
        if (string.IsNullOrWhiteSpace(options.OffsetsTopic)) throw new ArgumentException($"{Key("offsets-topic")} must name a topic");
        var checkpoints = new MirrorCheckpointOptions { Interval = c.PositiveDuration("checkpoint-interval"), GroupPattern = c.String("groups") };
        try
        {
            checkpoints.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{Key("groups")}: {e.Message}", e);
        }
        if (template) return new MirrorSettings(options, from, fromProperties, to, toProperties, checkpoints);

        if (sourceSite.Length == 0) throw new ArgumentException($"{Key("source-site")} is required: the source cluster's site name (dc1, ...)");
        if (targetSite.Length == 0) throw new ArgumentException($"{Key("target-site")} is required: the target cluster's site name (dc2, ...)");
        if (from is null && to is null)
            throw new ArgumentException($"{Key("from")} and {Key("to")} are both this node's own Kafka: set one of them to the other cluster's bootstrap servers (HOST:PORT,...)");
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            var key = e.Message.StartsWith("source site", StringComparison.Ordinal) ? "source-site"
                : e.Message.StartsWith("target site", StringComparison.Ordinal) ? "target-site"
                : e.Message.StartsWith("source and target", StringComparison.Ordinal) ? "target-site"
                : e.Message.StartsWith("target topic", StringComparison.Ordinal) ? "target-topic"
                : e.Message.StartsWith("topic pattern", StringComparison.Ordinal) ? "topics"
                : null;
            throw new ArgumentException(key is null ? $"{c.Path}: {e.Message}" : $"{Key(key)}: {e.Message}", e);
        }
        return new MirrorSettings(options, from, fromProperties, to, toProperties, checkpoints);
    }

    private static Dictionary<string, string> Properties(ConfigReader c, string key)
    {
        var raw = c.Raw(key);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!raw.IsEmpty) Flatten(raw.Root, "", properties);
        if (properties.ContainsKey("bootstrap.servers"))
            throw new ArgumentException($"{c.Key(key)}.bootstrap.servers: the cluster's address is {c.Key(key == "from-properties" ? "from" : "to")}");
        return properties;
    }

    /// <summary>librdkafka's dotted names: <c>security.protocol = SSL</c> nests in HOCON, <c>"security.protocol" = SSL</c> does not; both give the same key.</summary>
    private static void Flatten(Akka.Configuration.Hocon.HoconValue value, string prefix, Dictionary<string, string> into)
    {
        if (value.IsObject())
        {
            foreach (var (k, v) in value.GetObject().Items) Flatten(v, prefix.Length == 0 ? k : prefix + "." + k, into);
            return;
        }
        into[prefix] = value.GetString();
    }

    /// <summary>The mirror with its clusters: the node's own Kafka (its address and security) where <see cref="From"/> or <see cref="To"/> is empty.</summary>
    public MirrorDefinition Resolve(KafkaClients node) =>
        new(Options, Clients(From, FromProperties, node), Clients(To, ToProperties, node), Checkpoints);

    private static KafkaClients Clients(string? bootstrap, IReadOnlyDictionary<string, string> properties, KafkaClients node)
    {
        if (bootstrap is not null) return new KafkaClients(bootstrap, properties);
        var merged = new Dictionary<string, string>(node.Connection);
        foreach (var (k, v) in properties) merged[k] = v;
        return new KafkaClients(node.BootstrapServers, merged);
    }
}
