using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Tests.Kafka;

/// <summary>Helpers for tests against an embedded broker: unique topics, settings, a quick producer.</summary>
internal static class KafkaTestKit
{
    private static int _counter;

    public static string UniqueName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}"[..(prefix.Length + 14)];

    public static ProducerSettings<string, string> ProducerSettings(EmbeddedKafka kafka) =>
        ProducerSettings<string, string>.Create(Serializers.Utf8, Serializers.Utf8).WithBootstrapServers(kafka.BootstrapServers);

    public static ConsumerSettings<string, string> ConsumerSettings(EmbeddedKafka kafka, string group) =>
        ConsumerSettings<string, string>.Create(Deserializers.Utf8, Deserializers.Utf8)
            .WithBootstrapServers(kafka.BootstrapServers)
            .WithGroupId(group);

    /// <summary>Writes <paramref name="count"/> records with values <c>prefix-i</c> padded to about 200 bytes.</summary>
    public static void Produce(EmbeddedKafka kafka, string topic, int count, string prefix = "v", int start = 0)
    {
        using var producer = ProducerSettings(kafka).CreateKafkaProducer();
        var pad = new string('x', 180);
        var failed = 0;
        for (var i = start; i < start + count; i++)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<string, string> { Key = "k" + (i % 97), Value = $"{prefix}-{i}|{pad}" },
                        r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                    break;
                }
                catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0 || failed != 0)
            throw new InvalidOperationException($"test producer could not deliver everything ({failed} failed)");
    }

    public static string IdOf(string value) => value[..value.IndexOf('|')];
}
