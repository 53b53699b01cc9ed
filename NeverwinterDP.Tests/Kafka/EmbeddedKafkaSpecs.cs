using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Kafka;

[Trait("Category", TestCategories.Integration)]
public sealed class EmbeddedKafkaSpecs
{
    [Fact]
    public void Embedded_broker_serves_plain_Confluent_clients_over_tcp()
    {
        using var kafka = new EmbeddedKafka(new EmbeddedKafkaOptions { Brokers = 3 });
        kafka.CreateTopic("smoke", 4);
        Assert.Equal(3, kafka.BootstrapServers.Split(',').Length);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
               { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < 100; i++) producer.Produce("smoke", new Message<string, string> { Key = "k" + i, Value = "v" + i });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(20)));
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers, GroupId = "g", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("smoke");
        var seen = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (seen.Count < 100 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r != null) seen.Add(r.Message.Value);
        }
        consumer.Close();
        Assert.Equal(100, seen.Count);
    }
}
