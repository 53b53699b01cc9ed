using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>What the pump tests put on the bus before a pump reads it.</summary>
internal static class PumpTestKit
{
    /// <summary>Events <c>m-0</c> .. <c>m-(n-1)</c> (host <c>h</c>), keyed by their number, framed as the bus carries them; flushed.</summary>
    public static void ProduceNumbered(EmbeddedKafka kafka, string topic, int n)
    {
        using var producer = ProducerSettings<byte[], byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray)
            .WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer();
        for (var i = 0; i < n; i++)
            producer.Produce(topic, new Message<byte[], byte[]>
            {
                Key = BitConverter.GetBytes(i),
                Value = LogEventAvro.EncodeFramed(new LogEvent { Message = "m-" + i, Host = "h", SystemTs = 1_700_000_000_000 }),
            });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }
}
