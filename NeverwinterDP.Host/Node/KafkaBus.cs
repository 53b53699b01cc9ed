using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The Kafka cluster this node uses: the one configured, or — when none is — the embedded in-memory broker,
/// started here and stopped when the node stops.
/// </summary>
public sealed class KafkaBus : IDisposable
{
    private readonly IDisposable? _provisionerResource;

    private KafkaBus(KafkaClients clients, EmbeddedKafka? embedded, ITopicProvisioner topics, IDisposable? provisionerResource, long epoch = 0)
    {
        Epoch = epoch;
        Clients = clients;
        Embedded = embedded;
        Topics = topics;
        _provisionerResource = provisionerResource;
    }

    public string BootstrapServers => Clients.BootstrapServers;

    /// <summary>Where every producer, consumer and admin client of the node starts its config: address and security.</summary>
    public KafkaClients Clients { get; }

    /// <summary>The in-process broker, when the node runs on the embedded default.</summary>
    public EmbeddedKafka? Embedded { get; }

    public ITopicProvisioner Topics { get; }

    /// <summary>This start's incarnation of the embedded broker on the data directory (<see cref="BusEpoch"/>); 0 on a real cluster.</summary>
    public long Epoch { get; }

    /// <summary>What the pumps and replays add to the Kafka offsets they hand the sinks.</summary>
    public long SinkOffsetBase => BusEpoch.OffsetBase(Epoch);

    /// <param name="embeddedEpoch">This start's <see cref="BusEpoch"/> on the data directory, when no cluster is configured.</param>
    public static KafkaBus Create(NodeConfig config, long embeddedEpoch)
    {
        if (config.KafkaBootstrap is { } bootstrap)
        {
            var clients = new KafkaClients(bootstrap, config.KafkaSecurity.Properties);
            var admin = new AdminTopicProvisioner(clients, config.TopicPartitions, config.TopicReplication,
                timeout: config.Spill.Enabled ? config.Spill.After : null); // a new log type spills as soon as a slow produce would
            return new KafkaBus(clients, null, admin, admin);
        }
        var embedded = new EmbeddedKafka(config.EmbeddedKafka);
        return new KafkaBus(new KafkaClients(embedded.BootstrapServers), embedded, new EmbeddedTopicProvisioner(embedded, config.EmbeddedKafka.DefaultPartitions, config.TopicReplication), null, embeddedEpoch);
    }

    public void Dispose()
    {
        _provisionerResource?.Dispose();
        Embedded?.Dispose();
    }
}
