using Confluent.Kafka;

namespace NeverwinterDP.Actors.Kafka.Settings;

/// <summary>
/// How a node reaches its Kafka cluster: the bootstrap servers and the connection properties (<c>security.protocol</c>,
/// <c>sasl.*</c>, <c>ssl.*</c>) that every producer, consumer and admin client it makes must carry. Every client config
/// starts here, so a property added to <see cref="Connection"/> reaches all of them.
/// </summary>
/// <remarks>A class, not a record: a record's generated <c>ToString</c> would print the SASL password.</remarks>
public sealed class KafkaClients
{
    public KafkaClients(string bootstrapServers, IReadOnlyDictionary<string, string>? connection = null)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers)) throw new ArgumentException("bootstrap servers are required", nameof(bootstrapServers));
        if (connection?.ContainsKey("bootstrap.servers") == true)
            throw new ArgumentException("bootstrap.servers is given on its own, not among the connection properties", nameof(connection));
        BootstrapServers = bootstrapServers;
        Connection = connection is null ? new Dictionary<string, string>() : new Dictionary<string, string>(connection);
    }

    public string BootstrapServers { get; }

    /// <summary>The properties every client gets besides <c>bootstrap.servers</c> (security, in practice).</summary>
    public IReadOnlyDictionary<string, string> Connection { get; }

    /// <summary>Properties whose values are secrets: never printed, never logged.</summary>
    public static IReadOnlySet<string> SecretProperties { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem", "sasl.oauthbearer.client.secret",
    };

    /// <summary>A producer's config: the connection, with the caller's settings over it.</summary>
    public ProducerConfig Producer() => new(Properties());

    /// <summary>A consumer's config in <paramref name="groupId"/> (required by the client even when it only assigns).</summary>
    public ConsumerConfig Consumer(string groupId) => new(Properties()) { GroupId = groupId };

    public AdminClientConfig Admin() => new(Properties());

    /// <summary><paramref name="settings"/> (from <c>akka.kafka.producer</c>) with this cluster's address and connection.</summary>
    public ProducerSettings<TKey, TValue> Apply<TKey, TValue>(ProducerSettings<TKey, TValue> settings) =>
        settings with { Properties = Merge(settings.Properties) };

    /// <summary><paramref name="settings"/> (from <c>akka.kafka.consumer</c>) with this cluster's address and connection.</summary>
    public ConsumerSettings<TKey, TValue> Apply<TKey, TValue>(ConsumerSettings<TKey, TValue> settings) =>
        settings with { Properties = Merge(settings.Properties) };

    /// <summary>The bootstrap servers and the security protocol; never a secret.</summary>
    public override string ToString() =>
        Connection.TryGetValue("security.protocol", out var protocol) ? $"{BootstrapServers} ({protocol})" : BootstrapServers;

    private Dictionary<string, string> Properties() => new(Connection) { ["bootstrap.servers"] = BootstrapServers };

    // The connection wins over a stage's kafka-clients block: security is the cluster's, not one stage's.
    private Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> stage)
    {
        var merged = new Dictionary<string, string>(stage);
        foreach (var (key, value) in Connection) merged[key] = value;
        merged["bootstrap.servers"] = BootstrapServers;
        return merged;
    }
}
