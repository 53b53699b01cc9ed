using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Messages;
using Xunit;
using NeverwinterDP.Actors.Bus;

namespace NeverwinterDP.Tests.Bus;

public sealed class BusWriterTests
{
    private static ProducerRecord<byte[]?, byte[]> Record(string topic) => new(topic, new Confluent.Kafka.Message<byte[]?, byte[]> { Value = [] });

    [Fact]
    public void The_topics_of_a_request_come_each_once_in_the_order_first_seen()
    {
        var records = new[] { "a", "a", "b", "a", "c", "b", "c" }.Select(Record).ToList();
        Assert.Equal(["a", "b", "c"], BusWriter.TopicsOf(records));
        Assert.Equal(["a"], BusWriter.TopicsOf([Record("a"), Record("a")]));
        Assert.Empty(BusWriter.TopicsOf([]));
    }
}
