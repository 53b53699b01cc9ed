using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Actors.Kafka;

/// <summary>
/// Makes sure a topic exists before the first record goes to it (a log type seen for the first time), so
/// it gets our partition count rather than whatever broker auto-creation would give. Each topic is
/// checked once per process.
/// </summary>
public interface ITopicProvisioner
{
    Task EnsureAsync(string topic, CancellationToken cancellation = default);

    /// <summary>
    /// Makes sure a control topic that keeps the last record of every key for ever exists: one partition (its
    /// records have one order), <c>cleanup.policy=compact</c>. An existing topic is left as it is.
    /// </summary>
    Task EnsureCompactedAsync(string topic, CancellationToken cancellation = default);
}

/// <summary>
/// Creates topics through the embedded broker's own call (the mock has no CreateTopics API). The replication factor
/// follows <paramref name="replication"/> for the embedded broker's own number of brokers (never more than it has);
/// min.insync.replicas cannot be set: the mock keeps no topic configs and acknowledges acks=all once its leader has a
/// record (docs/configuration.md, nwdp.kafka.topic-min-insync-replicas).
/// </summary>
public sealed class EmbeddedTopicProvisioner(EmbeddedKafka kafka, int partitions, TopicReplication? replication = null) : ITopicProvisioner
{
    private readonly ConcurrentDictionary<string, bool> _known = new();

    private int Factor => Math.Min((replication ?? TopicReplication.Auto).For(kafka.Options.Brokers).ReplicationFactor, kafka.Options.Brokers);

    public Task EnsureAsync(string topic, CancellationToken cancellation = default)
    {
        if (_known.ContainsKey(topic)) return Task.CompletedTask;
        try
        {
            kafka.CreateTopic(topic, partitions, Factor);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("TOPIC_ALREADY_EXISTS", StringComparison.Ordinal))
        {
        }
        _known[topic] = true;
        return Task.CompletedTask;
    }

    /// <summary>The mock broker has no topic configs and never deletes: one partition is all it takes.</summary>
    public Task EnsureCompactedAsync(string topic, CancellationToken cancellation = default)
    {
        try
        {
            kafka.CreateTopic(topic, 1, Factor);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("TOPIC_ALREADY_EXISTS", StringComparison.Ordinal))
        {
        }
        return Task.CompletedTask;
    }
}

/// <summary>Creates topics on a real Kafka cluster with the admin API; an existing topic is fine.</summary>
public sealed class AdminTopicProvisioner : ITopicProvisioner, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task>> _known = new();
    private readonly IAdminClient _admin;
    private readonly int _partitions;
    private readonly TopicReplication _replication;
    private readonly TimeSpan _timeout;

    /// <param name="replication">Replication factor and min.insync.replicas; auto ones are decided from the brokers the cluster's metadata lists.</param>
    /// <param name="timeout">How long one creation may wait for the cluster (default 10 s).</param>
    public AdminTopicProvisioner(KafkaClients clients, int partitions, TopicReplication replication, TimeSpan? timeout = null)
    {
        _timeout = timeout ?? TimeSpan.FromSeconds(10);
        Librdkafka.EnsureLoaded();
        _admin = new AdminClientBuilder(clients.Admin()).Build();
        _partitions = partitions;
        _replication = replication;
    }

    public Task EnsureAsync(string topic, CancellationToken cancellation = default)
    {
        var entry = _known.GetOrAdd(topic, t => new Lazy<Task>(() => CreateAsync(t)));
        var task = entry.Value;
        // A failed attempt (broker unreachable) is forgotten so the next request tries again.
        if (task.IsFaulted) _known.TryRemove(new KeyValuePair<string, Lazy<Task>>(topic, entry));
        return task.WaitAsync(cancellation);
    }

    public Task EnsureCompactedAsync(string topic, CancellationToken cancellation = default) =>
        CreateAsync(new TopicSpecification
        {
            Name = topic,
            NumPartitions = 1,
            Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
        }).WaitAsync(cancellation);

    private Task CreateAsync(string topic) =>
        CreateAsync(new TopicSpecification { Name = topic, NumPartitions = _partitions, Configs = new Dictionary<string, string>() });

    /// <summary>The replication of a topic created now: auto values from the brokers the cluster lists at this moment.</summary>
    public async Task<(short ReplicationFactor, int MinInsyncReplicas)> ReplicationNowAsync()
    {
        var brokers = _replication.IsFixed ? 0 : await Task.Run(() => _admin.GetMetadata(_timeout).Brokers.Count).ConfigureAwait(false);
        return _replication.For(brokers);
    }

    private async Task CreateAsync(TopicSpecification topic)
    {
        var (factor, minInsync) = await ReplicationNowAsync().ConfigureAwait(false);
        topic.ReplicationFactor = factor;
        topic.Configs["min.insync.replicas"] = minInsync.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            // Bounded: while the cluster is unreachable ingress must hear "failed" soon (and spill), not after
            // librdkafka's minute of waiting for a controller.
            await _admin.CreateTopicsAsync([topic],
                new CreateTopicsOptions { RequestTimeout = _timeout, OperationTimeout = _timeout }).ConfigureAwait(false);
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
            // A broker without the CreateTopics API (an embedded broker in another process, `nwdp broker`):
            // the topic must exist already or be auto-created on first produce.
        }
    }

    public void Dispose() => _admin.Dispose();
}
