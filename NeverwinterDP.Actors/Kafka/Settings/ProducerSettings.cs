using Akka.Actor;
using Akka.Configuration;
using Config = Akka.Configuration.Config;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Actors.Kafka.Settings;

/// <summary>
/// Immutable settings of a Kafka producer stage, read from <c>akka.kafka.producer</c>; change them with
/// the <c>With*</c> copies. Defaults: acks=all, idempotence on, lz4.
/// </summary>
public sealed record ProducerSettings<TKey, TValue>
{
    public ProducerSettings(ISerializer<TKey>? keySerializer, ISerializer<TValue>? valueSerializer)
    {
        KeySerializer = keySerializer;
        ValueSerializer = valueSerializer;
    }

    public ISerializer<TKey>? KeySerializer { get; init; }
    public ISerializer<TValue>? ValueSerializer { get; init; }

    /// <summary>librdkafka properties (<c>kafka-clients</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>Envelopes in flight per stage (<c>parallelism</c>).</summary>
    public int Parallelism { get; init; } = 1000;

    /// <summary><c>close-timeout</c>.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>queue-full-retry-interval</c>.</summary>
    public TimeSpan QueueFullRetryInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    public static ProducerSettings<TKey, TValue> Create(ActorSystem system, ISerializer<TKey>? keySerializer, ISerializer<TValue>? valueSerializer) =>
        Create(KafkaConfig.Section(system, "producer"), keySerializer, valueSerializer);

    public static ProducerSettings<TKey, TValue> Create(Config section, ISerializer<TKey>? keySerializer, ISerializer<TValue>? valueSerializer) =>
        new(keySerializer, valueSerializer)
        {
            Properties = KafkaConfig.ClientProperties(section),
            Parallelism = section.GetInt("parallelism", 1000),
            CloseTimeout = section.GetTimeSpan("close-timeout", TimeSpan.FromSeconds(60)),
            QueueFullRetryInterval = section.GetTimeSpan("queue-full-retry-interval", TimeSpan.FromMilliseconds(5)),
        };

    /// <summary>Settings from the built-in defaults alone (no actor system needed).</summary>
    public static ProducerSettings<TKey, TValue> Create(ISerializer<TKey>? keySerializer, ISerializer<TValue>? valueSerializer) =>
        Create(KafkaConfig.Section("producer"), keySerializer, valueSerializer);

    public string? BootstrapServers => Properties.TryGetValue("bootstrap.servers", out var b) ? b : null;

    public ProducerSettings<TKey, TValue> WithBootstrapServers(string bootstrapServers) => WithProperty("bootstrap.servers", bootstrapServers);

    public ProducerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [key] = value } };

    public ProducerSettings<TKey, TValue> WithParallelism(int parallelism) =>
        parallelism > 0 ? this with { Parallelism = parallelism } : throw new ArgumentOutOfRangeException(nameof(parallelism));

    public ProducerSettings<TKey, TValue> WithCloseTimeout(TimeSpan timeout) => this with { CloseTimeout = timeout };

    /// <summary>
    /// The largest record (key + value + headers + record framing) a producer built from these settings sends:
    /// librdkafka's <c>message.max.bytes</c> as it takes effect, the value set in <see cref="Properties"/> or, when
    /// unset, librdkafka's own default (1000000), read from librdkafka rather than assumed. A larger record fails
    /// at once with <c>MsgSizeTooLarge</c>, whatever the broker would take.
    /// </summary>
    /// <remarks>A native call: read it once, where the producer is built.</remarks>
    public int MaxMessageBytes() => EffectiveMaxMessageBytes(Properties);

    private static int EffectiveMaxMessageBytes(IReadOnlyDictionary<string, string> properties)
    {
        const string key = "message.max.bytes";
        Librdkafka.EnsureLoaded();
        var conf = MockClusterApi.rd_kafka_conf_new();
        try
        {
            var error = new byte[512];
            if (properties.TryGetValue(key, out var set) &&
                MockClusterApi.rd_kafka_conf_set(conf, key, set, error, (UIntPtr)error.Length) != 0)
                throw new ArgumentException($"akka.kafka.producer.kafka-clients.{key}: {System.Text.Encoding.UTF8.GetString(error).TrimEnd('\0')}");
            var value = new byte[64];
            var size = (UIntPtr)value.Length;
            if (MockClusterApi.rd_kafka_conf_get(conf, key, value, ref size) != 0)
                throw new InvalidOperationException($"librdkafka does not know {key}");
            return int.Parse(System.Text.Encoding.ASCII.GetString(value, 0, (int)size - 1), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            MockClusterApi.rd_kafka_conf_destroy(conf);
        }
    }

    /// <summary>Builds a Confluent producer from these settings (loading the bundled librdkafka first).</summary>
    public IProducer<TKey, TValue> CreateKafkaProducer(Action<IProducer<TKey, TValue>, Error>? onError = null, Action<IProducer<TKey, TValue>, LogMessage>? onLog = null)
    {
        if (string.IsNullOrEmpty(BootstrapServers))
            throw new ArgumentException("producer settings need bootstrap.servers (akka.kafka.producer.kafka-clients.bootstrap.servers or WithBootstrapServers)");
        Librdkafka.EnsureLoaded();
        var builder = new ProducerBuilder<TKey, TValue>(Properties);
        if (KeySerializer is not null) builder.SetKeySerializer(KeySerializer);
        if (ValueSerializer is not null) builder.SetValueSerializer(ValueSerializer);
        if (onError is not null) builder.SetErrorHandler(onError);
        if (onLog is not null) builder.SetLogHandler(onLog);
        return builder.Build();
    }
}
