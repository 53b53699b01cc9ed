using Akka.Actor;
using Akka.Configuration;
using Config = Akka.Configuration.Config;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Actors.Kafka.Settings;

/// <summary>
/// Immutable settings of a Kafka consumer stage, read from <c>akka.kafka.consumer</c>; change them with
/// the <c>With*</c> copies. Auto-commit and auto offset store are off: offsets move only through
/// <see cref="Dsl.Committer"/>.
/// </summary>
public sealed record ConsumerSettings<TKey, TValue>
{
    public ConsumerSettings(IDeserializer<TKey>? keyDeserializer, IDeserializer<TValue>? valueDeserializer)
    {
        KeyDeserializer = keyDeserializer;
        ValueDeserializer = valueDeserializer;
    }

    public IDeserializer<TKey>? KeyDeserializer { get; init; }
    public IDeserializer<TValue>? ValueDeserializer { get; init; }
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary><c>poll-timeout</c>.</summary>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary><c>max-buffered-per-partition</c>: a partition whose buffer holds this many records is paused.</summary>
    public int MaxBufferedPerPartition { get; init; } = 10_000;

    /// <summary>
    /// <c>max-buffered-bytes</c>: once the stage's buffers (all partitions together) hold this many bytes of keys and
    /// values, every partition that delivers another record is paused, until they are down to half; 0 = no byte bound
    /// (then only <see cref="MaxBufferedPerPartition"/> bounds them). What the stage holds is at most this plus one record
    /// per partition.
    /// </summary>
    public long MaxBufferedBytes { get; init; }

    /// <summary><c>stop-timeout</c>.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>committed-offsets-timeout</c>.</summary>
    public TimeSpan CommittedOffsetsTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>commit-timeout</c>: how long a commit keeps being retried through a rebalance before it fails.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>expect-log-start-at-zero</c>: a group with no committed offset expects each partition to start at offset
    /// 0 and reports the missing head as lost records. Right for NeverwinterDP's own topics; turn it off for
    /// topics whose retention deletes old records by design.
    /// </summary>
    public bool ExpectLogStartAtZero { get; init; } = true;

    /// <summary>Told on the poll thread when the group gives this consumer partitions and takes them away (not read from configuration).</summary>
    public IPartitionAssignmentListener? AssignmentListener { get; init; }

    public static ConsumerSettings<TKey, TValue> Create(ActorSystem system, IDeserializer<TKey>? keyDeserializer, IDeserializer<TValue>? valueDeserializer) =>
        Create(KafkaConfig.Section(system, "consumer"), keyDeserializer, valueDeserializer);

    public static ConsumerSettings<TKey, TValue> Create(IDeserializer<TKey>? keyDeserializer, IDeserializer<TValue>? valueDeserializer) =>
        Create(KafkaConfig.Section("consumer"), keyDeserializer, valueDeserializer);

    public static ConsumerSettings<TKey, TValue> Create(Config section, IDeserializer<TKey>? keyDeserializer, IDeserializer<TValue>? valueDeserializer) =>
        new(keyDeserializer, valueDeserializer)
        {
            Properties = KafkaConfig.ClientProperties(section),
            PollTimeout = section.GetTimeSpan("poll-timeout", TimeSpan.FromMilliseconds(10)),
            MaxBufferedPerPartition = section.GetInt("max-buffered-per-partition", 10_000),
            MaxBufferedBytes = section.GetByteSize("max-buffered-bytes") ?? 0,
            StopTimeout = section.GetTimeSpan("stop-timeout", TimeSpan.FromSeconds(30)),
            CommittedOffsetsTimeout = section.GetTimeSpan("committed-offsets-timeout", TimeSpan.FromSeconds(10)),
            CommitTimeout = section.GetTimeSpan("commit-timeout", TimeSpan.FromSeconds(30)),
            ExpectLogStartAtZero = section.GetBoolean("expect-log-start-at-zero", true),
        };

    public string? BootstrapServers => Properties.TryGetValue("bootstrap.servers", out var b) ? b : null;
    public string? GroupId => Properties.TryGetValue("group.id", out var g) ? g : null;

    public ConsumerSettings<TKey, TValue> WithBootstrapServers(string bootstrapServers) => WithProperty("bootstrap.servers", bootstrapServers);
    public ConsumerSettings<TKey, TValue> WithGroupId(string groupId) => WithProperty("group.id", groupId);
    public ConsumerSettings<TKey, TValue> WithClientId(string clientId) => WithProperty("client.id", clientId);

    public ConsumerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [key] = value } };

    public ConsumerSettings<TKey, TValue> WithMaxBufferedPerPartition(int max) =>
        max > 0 ? this with { MaxBufferedPerPartition = max } : throw new ArgumentOutOfRangeException(nameof(max));

    public ConsumerSettings<TKey, TValue> WithMaxBufferedBytes(long max) =>
        max >= 0 ? this with { MaxBufferedBytes = max } : throw new ArgumentOutOfRangeException(nameof(max));

    public ConsumerSettings<TKey, TValue> WithPollTimeout(TimeSpan timeout) => this with { PollTimeout = timeout };

    public ConsumerSettings<TKey, TValue> WithStopTimeout(TimeSpan timeout) => this with { StopTimeout = timeout };

    public ConsumerSettings<TKey, TValue> WithAssignmentListener(IPartitionAssignmentListener? listener) => this with { AssignmentListener = listener };

    internal ConsumerBuilder<TKey, TValue> CreateBuilder()
    {
        if (string.IsNullOrEmpty(BootstrapServers))
            throw new ArgumentException("consumer settings need bootstrap.servers (akka.kafka.consumer.kafka-clients.bootstrap.servers or WithBootstrapServers)");
        if (string.IsNullOrEmpty(GroupId))
            throw new ArgumentException("consumer settings need group.id (WithGroupId)");
        Librdkafka.EnsureLoaded();
        var builder = new ConsumerBuilder<TKey, TValue>(Properties);
        if (KeyDeserializer is not null) builder.SetKeyDeserializer(KeyDeserializer);
        if (ValueDeserializer is not null) builder.SetValueDeserializer(ValueDeserializer);
        return builder;
    }
}

/// <summary>
/// Hears a consumer's assignments as they happen, on its poll thread: <see cref="Revoked"/> runs before the
/// consumer lets the partitions go (with the eager protocol, before any other member gets them), so what it
/// finishes there is done before the next owner starts; <see cref="Assigned"/> runs before any record of the
/// partitions is fetched. Both block polling while they run: keep them short.
/// </summary>
public interface IPartitionAssignmentListener
{
    void Assigned(IReadOnlyList<TopicPartition> partitions);

    /// <param name="lost">The partitions were lost (the member fell out of the group): another member may own them already.</param>
    void Revoked(IReadOnlyList<TopicPartition> partitions, bool lost);
}
