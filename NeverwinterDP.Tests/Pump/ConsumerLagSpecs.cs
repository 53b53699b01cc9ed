using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>The consumer lag against the embedded broker: produce, commit part, and the rest is the lag.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ConsumerLagSpecs
{
    private static KafkaClients Kafka(EmbeddedKafka kafka) => new(kafka.BootstrapServers);

    private static void Produce(EmbeddedKafka kafka, string topic, int partition, int n)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        for (var i = 0; i < n; i++) producer.Produce(new TopicPartition(topic, partition), new Message<Null, byte[]> { Value = [(byte)i] });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Reads <paramref name="n"/> records of the partition as a member of <paramref name="group"/> would, and commits after them.</summary>
    private static void ConsumeAndCommit(EmbeddedKafka kafka, string group, TopicPartition tp, int n)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers, GroupId = group, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        ConsumeResult<Ignore, byte[]>? last = null;
        for (var read = 0; read < n;)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"only {read} of {n} records read");
            last = r;
            read++;
        }
        consumer.Commit([new TopicPartitionOffset(tp, last!.Offset + 1)]);
        consumer.Close();
    }

    [Fact]
    public async Task Lag_is_what_the_group_has_not_committed_and_its_age_is_that_of_the_first_record_not_committed()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("lag-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 2);
        Produce(kafka, topic, 0, 100);
        Produce(kafka, topic, 1, 40);
        var group = "nwdp-pump.lagtest";
        ConsumeAndCommit(kafka, group, new TopicPartition(topic, 0), 30);
        await Task.Delay(20); // the records' age must be measurable in ms

        var subjects = new List<LagSubject> { new("lagtest", group, "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$") };
        await using var lag = new ConsumerLag(Kafka(kafka), () => subjects, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        var report = await lag.GetAsync();
        Assert.Null(report.Error);
        var p0 = Assert.Single(report.Partitions, p => p.Partition == 0);
        Assert.Equal(("lagtest", topic, 30L, 100L, 70L), (p0.Sink, p0.Topic, p0.CommittedOffset, p0.EndOffset, p0.LagRecords));
        Assert.True(p0.LagSeconds > 0, $"age {p0.LagSeconds}");
        // Never committed: the pump would start at the log start, so all of it is lag.
        var p1 = Assert.Single(report.Partitions, p => p.Partition == 1);
        Assert.Equal((-1L, 40L, 40L), (p1.CommittedOffset, p1.EndOffset, p1.LagRecords));
        Assert.True(p1.LagSeconds > 0, $"age {p1.LagSeconds}");

        // Asked again (the interval is 0): computed again, the same figures, an age that grew.
        var again = await lag.GetAsync();
        Assert.Null(again.Error);
        var q0 = Assert.Single(again.Partitions, p => p.Partition == 0);
        Assert.Equal((30L, 100L, 70L), (q0.CommittedOffset, q0.EndOffset, q0.LagRecords));
        Assert.True(q0.LagSeconds >= p0.LagSeconds, $"age {q0.LagSeconds} after {p0.LagSeconds}");

        // Caught up: no lag, age 0.
        ConsumeAndCommit(kafka, group, new TopicPartition(topic, 0), 100);
        ConsumeAndCommit(kafka, group, new TopicPartition(topic, 1), 40);
        report = await lag.GetAsync();
        Assert.Null(report.Error);
        Assert.All(report.Partitions, p => Assert.Equal((0L, 0.0, p.EndOffset), (p.LagRecords, p.LagSeconds, p.CommittedOffset)));
        Assert.Equal(2, report.Partitions.Count);
    }

    [Fact]
    public async Task The_lag_is_computed_at_most_once_per_interval()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("lag-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 1);
        var asked = 0;
        var subjects = new List<LagSubject> { new("s", "nwdp-pump.s", "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$") };
        await using var lag = new ConsumerLag(Kafka(kafka), () =>
        {
            Interlocked.Increment(ref asked);
            return subjects;
        }, TimeSpan.FromHours(1), TimeSpan.FromSeconds(10));
        var reports = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => lag.GetAsync()));
        Produce(kafka, topic, 0, 5);
        var later = await lag.GetAsync();
        Assert.Equal(1, asked);
        Assert.All(reports, r => Assert.Same(reports[0], r));
        Assert.Same(reports[0], later);
        Assert.Equal(0, Assert.Single(later.Partitions).EndOffset);
    }
}
