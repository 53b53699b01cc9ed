using System.Collections.Concurrent;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Dsl;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Kafka.Stages;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Kafka.KafkaTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Kafka;

[Trait("Category", TestCategories.Integration)]
public sealed class KafkaStagesSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;
    private readonly IMaterializer _materializer;

    public KafkaStagesSpecs(ITestOutputHelper output) : base("akka.loglevel = INFO", output: output)
    {
        _output = output;
        _materializer = Sys.Materializer();
    }

    [Fact]
    public async Task FlexiFlow_acknowledges_in_order_and_multi_messages_only_when_every_record_is_in()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("flexi");
        kafka.CreateTopic(topic, 4);

        var envelopes = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? (IEnvelope<string, string, int>)ProducerMessage.Single(topic, "k" + i, "v" + i, i)
            : ProducerMessage.Multi(Enumerable.Range(0, 10).Select(j =>
                new ProducerRecord<string, string>(topic, new Message<string, string> { Key = $"k{i}-{j}", Value = $"v{i}-{j}" })).ToArray(), i));
        var results = await Source.From(envelopes)
            .Via(KafkaProducer.FlexiFlow<string, string, int>(ProducerSettings(kafka)))
            .RunWith(Sink.Seq<IResults<string, string, int>>(), _materializer);

        Assert.Equal(Enumerable.Range(0, 200), results.Select(r => r.PassThrough));
        Assert.All(results.Where(r => r.PassThrough % 2 == 1), r =>
        {
            var multi = Assert.IsType<ProducerMessage.MultiResult<string, string, int>>(r);
            Assert.Equal(10, multi.Parts.Count);
            Assert.All(multi.Parts, p => Assert.Equal(PersistenceStatus.Persisted, p.Status));
        });
        Assert.All(results.Where(r => r.PassThrough % 2 == 0), r => Assert.IsType<ProducerMessage.Result<string, string, int>>(r));
    }

    [Fact]
    public async Task A_failed_produce_fails_the_element_it_is_never_dropped()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("fail");
        kafka.CreateTopic(topic, 1);
        var settings = ProducerSettings(kafka).WithProperty("message.timeout.ms", "1500");
        kafka.BrokerDown(1);

        // Stopping decider (the default): the stream fails.
        var failing = Source.Single((IEnvelope<string, string, int>)ProducerMessage.Single(topic, "k", "v", 1))
            .Via(KafkaProducer.FlexiFlow<string, string, int>(settings))
            .RunWith(Sink.Seq<IResults<string, string, int>>(), _materializer);
        await Assert.ThrowsAnyAsync<KafkaException>(() => failing);

        // Resuming decider: the element comes out as a FailedResult, in order.
        var results = await Source.From(Enumerable.Range(0, 3).Select(i => (IEnvelope<string, string, int>)ProducerMessage.Single(topic, "k", "v", i)))
            .Via(KafkaProducer.FlexiFlow<string, string, int>(settings))
            .WithAttributes(ActorAttributes.CreateSupervisionStrategy(Akka.Streams.Supervision.Deciders.ResumingDecider))
            .RunWith(Sink.Seq<IResults<string, string, int>>(), _materializer);
        Assert.Equal([0, 1, 2], results.Select(r => r.PassThrough));
        Assert.All(results, r => Assert.IsType<ProducerMessage.FailedResult<string, string, int>>(r));
    }

    [Fact]
    public async Task Committable_source_reads_100k_records_and_a_restarted_consumer_gets_only_new_ones()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("commit");
        kafka.CreateTopic(topic, 8);
        const int n = 100_000;

        var produced = Source.From(Enumerable.Range(0, n))
            .Select(i => new ProducerRecord<string, string>(topic, new Message<string, string> { Key = "k" + (i % 101), Value = $"v-{i}|" + new string('x', 180) }))
            .RunWith(KafkaProducer.PlainSink(ProducerSettings(kafka)), _materializer);
        await produced.WaitAsync(TimeSpan.FromSeconds(120));

        var group = UniqueName("g");
        var first = await ConsumeExactly(kafka, topic, group, n);
        Assert.Equal(n, first.Distinct().Count());

        Produce(kafka, topic, 1000, prefix: "new", start: n);
        var second = await ConsumeExactly(kafka, topic, group, 1000);
        Assert.All(second, v => Assert.StartsWith("new-", v));
        Assert.Equal(1000, second.Distinct().Count());
    }

    /// <summary>Runs a committable source until <paramref name="expected"/> records came, commits, drains, and returns what it saw.</summary>
    private async Task<List<string>> ConsumeExactly(EmbeddedKafka kafka, string topic, string group, int expected)
    {
        var seen = new ConcurrentQueue<string>();
        var control = KafkaConsumer.CommittableSource(ConsumerSettings(kafka, group), Subscriptions.Topics(topic))
            .Select(m =>
            {
                seen.Enqueue(IdOf(m.Record.Message.Value));
                return (ICommittable)m.CommittableOffset;
            })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default.WithMaxInterval(TimeSpan.FromMilliseconds(200))), DrainingControl<Done>.Create)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.True(seen.Count >= expected, $"{seen.Count} of {expected}"), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100));
        await control.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expected, seen.Count);
        return seen.ToList();
    }

    [Fact]
    public async Task A_slow_downstream_keeps_the_source_bounded()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("slow");
        kafka.CreateTopic(topic, 2);
        Produce(kafka, topic, 20_000);
        const int perPartition = 100;

        var taken = 0;
        var control = KafkaConsumer.PlainSource(ConsumerSettings(kafka, UniqueName("g")).WithMaxBufferedPerPartition(perPartition), Subscriptions.Topics(topic))
            .Throttle(200, TimeSpan.FromMilliseconds(100), 200, ThrottleMode.Shaping)
            .Select(r => Interlocked.Increment(ref taken))
            .ToMaterialized(Sink.Ignore<int>(), Keep.Left)
            .Run(_materializer);

        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref taken) >= 3000), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        _output.WriteLine($"taken={taken} max buffered={control.MaxBuffered}");
        await control.Shutdown();
        // The bound: max-buffered-per-partition per partition, plus what one poll returns for a partition
        // between reaching the bound and the pause taking effect (a fetch already under way).
        Assert.InRange(control.MaxBuffered, 1, 2 * perPartition + 2 * 1000);
        Assert.True(control.MaxBuffered < 20_000 / 4, $"the source ran ahead of demand: {control.MaxBuffered} buffered");
    }

    [Fact]
    public async Task Records_lost_to_retention_are_detected_and_reported()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("lost");
        kafka.CreateTopic(topic, 1);
        var group = UniqueName("g");
        Produce(kafka, topic, 10);
        await ConsumeExactly(kafka, topic, group, 10);

        // Write far more than the mock's ~5 MB per partition keeps (uncompressible values), so the log start moves past offset 10.
        using (var producer = ProducerSettings(kafka).WithProperty("compression.type", "none").CreateKafkaProducer())
        {
            var random = new Random(1);
            var bytes = new byte[8000];
            for (var i = 0; i < 4000; i++)
            {
                random.NextBytes(bytes);
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"big-{i}|" + Convert.ToBase64String(bytes) });
                if (i % 500 == 0) producer.Flush(TimeSpan.FromSeconds(30));
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }

        var control = KafkaConsumer.PlainSource(ConsumerSettings(kafka, group), Subscriptions.Topics(topic))
            .ToMaterialized(Sink.Ignore<ConsumeResult<string, string>>(), Keep.Left)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.True(control.LostRecords > 0), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        await control.Shutdown();
        _output.WriteLine($"lost={control.LostRecords}");
        Assert.InRange(control.LostRecords, 1, 4000);
    }
}
