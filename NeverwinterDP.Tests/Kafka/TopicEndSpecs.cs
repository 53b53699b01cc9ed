using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Kafka;

/// <summary><see cref="TopicEnd"/>: a reader kept across reads (the mirror's checkpointer reads the offset syncs every round).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TopicEndSpecs
{
    [Fact]
    public void A_reader_resumed_at_its_last_end_reads_to_the_end_again_with_or_without_new_records()
    {
        using var kafka = new EmbeddedKafka();
        kafka.CreateTopic("ends", 1);
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All }).Build();
        void Produce(int n)
        {
            for (var i = 0; i < n; i++) producer.Produce("ends", new Message<byte[]?, byte[]?> { Value = [(byte)i] });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(20)));
        }
        Produce(3);
        using var reader = TopicEnd.Reader(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "ends-reader" });
        var tp = new TopicPartition("ends", 0);
        reader.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var read = 0;
        var ends = TopicEnd.ReadToEnd(reader, 1, TimeSpan.FromSeconds(10), "ends", _ => read++);
        Assert.Equal((3, 3L), (read, ends[tp]));

        // Nothing new: told the end again at once (before the fix: no end told, a time-out after the limit).
        TopicEnd.ResumeAt(reader, ends);
        ends = TopicEnd.ReadToEnd(reader, 1, TimeSpan.FromSeconds(5), "ends", _ => read++);
        Assert.Equal((3, 3L), (read, ends[tp]));

        // Two more: read, and the end moves on.
        Produce(2);
        TopicEnd.ResumeAt(reader, ends);
        ends = TopicEnd.ReadToEnd(reader, 1, TimeSpan.FromSeconds(10), "ends", _ => read++);
        Assert.Equal((5, 5L), (read, ends[tp]));
        reader.Close();
    }

    [Fact]
    public void Without_resuming_a_second_read_with_nothing_new_is_not_told_the_end()
    {
        // Why ResumeAt exists: librdkafka tells a partition's end once per arrival there.
        using var kafka = new EmbeddedKafka();
        kafka.CreateTopic("ends", 1);
        using var reader = TopicEnd.Reader(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "ends-reader" });
        reader.Assign(new TopicPartitionOffset(new TopicPartition("ends", 0), Offset.Beginning));
        TopicEnd.ReadToEnd(reader, 1, TimeSpan.FromSeconds(10), "ends", _ => { });
        var e = Assert.Throws<KafkaException>(() => TopicEnd.ReadToEnd(reader, 1, TimeSpan.FromSeconds(2), "ends", _ => { }));
        Assert.Equal(ErrorCode.Local_TimedOut, e.Error.Code);
        reader.Close();
    }
}
