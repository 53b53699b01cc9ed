using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The Kafka cluster this node uses: the one configured, or — when none is — the embedded in-memory broker,
/// started here and stopped when the node stops.
/// </summary>
public sealed class KafkaBus : IDisposable
{
    private readonly IDisposable? _provisionerResource;

    private KafkaBus(string bootstrapServers, EmbeddedKafka? embedded, ITopicProvisioner topics, IDisposable? provisionerResource)
    {
        BootstrapServers = bootstrapServers;
        Embedded = embedded;
        Topics = topics;
        _provisionerResource = provisionerResource;
    }

    public string BootstrapServers { get; }

    /// <summary>The in-process broker, when the node runs on the embedded default.</summary>
    public EmbeddedKafka? Embedded { get; }

    public ITopicProvisioner Topics { get; }

    public static KafkaBus Create(NodeConfig config)
    {
        if (config.KafkaBootstrap is { } bootstrap)
        {
            var admin = new AdminTopicProvisioner(bootstrap, config.TopicPartitions, config.TopicReplicationFactor,
                timeout: config.Spill.Enabled ? config.Spill.After : null); // a new log type spills as soon as a slow produce would
            return new KafkaBus(bootstrap, null, admin, admin);
        }
        var embedded = new EmbeddedKafka(config.EmbeddedKafka);
        return new KafkaBus(embedded.BootstrapServers, embedded, new EmbeddedTopicProvisioner(embedded, config.EmbeddedKafka.DefaultPartitions), null);
    }

    public void Dispose()
    {
        _provisionerResource?.Dispose();
        Embedded?.Dispose();
    }
}
