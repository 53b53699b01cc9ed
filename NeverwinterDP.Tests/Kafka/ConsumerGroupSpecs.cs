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
public sealed class ConsumerGroupSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;
    private readonly IMaterializer _materializer;

    public ConsumerGroupSpecs(ITestOutputHelper output) : base("akka.loglevel = INFO", output: output)
    {
        _output = output;
        _materializer = Sys.Materializer();
    }

    private sealed record Delivery(string Consumer, int Partition, long Offset, string Id);

    [Fact]
    public async Task Consumers_of_one_group_split_partitions_and_a_rebalance_while_records_flow_loses_nothing()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("group");
        const int partitions = 6;
        const int n = 30_000;
        const int maxBuffered = 200;
        const int commitBatch = 100;
        kafka.CreateTopic(topic, partitions);
        var group = UniqueName("g");
        var deliveries = new ConcurrentQueue<Delivery>();
        var assignments = new ConcurrentDictionary<string, ConcurrentDictionary<int, bool>>();

        DrainingControl<Done> Start(string name) =>
            KafkaConsumer.CommittablePartitionedSource(
                    ConsumerSettings(kafka, group).WithMaxBufferedPerPartition(maxBuffered).WithClientId(name),
                    Subscriptions.Topics(topic))
                .SelectAsyncUnordered(partitions, async pair =>
                {
                    assignments.GetOrAdd(name, _ => new())[pair.Item1.Partition.Value] = true;
                    await pair.Item2
                        .Select(m =>
                        {
                            deliveries.Enqueue(new Delivery(name, m.Record.Partition.Value, m.Record.Offset.Value, IdOf(m.Record.Message.Value)));
                            return (ICommittable)m.CommittableOffset;
                        })
                        .RunWith(Committer.Sink(CommitterSettings.Default.WithMaxBatch(commitBatch).WithMaxInterval(TimeSpan.FromMilliseconds(100))), _materializer);
                    return Done.Instance;
                })
                .ToMaterialized(Sink.Ignore<Done>(), DrainingControl<Done>.Create)
                .Run(_materializer);

        var a = Start("a");
        var b = Start("b");
        await AwaitAssertAsync(() => Assert.Equal(partitions, assignments.Values.Sum(p => p.Count)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, assignments.Count);

        // Produce steadily; the third member joins a third of the way in.
        DrainingControl<Done>? c = null;
        var producer = Task.Run(() =>
        {
            for (var chunk = 0; chunk < 30; chunk++)
            {
                Produce(kafka, topic, n / 30, start: chunk * (n / 30));
                if (chunk == 10) c = Start("c");
                Thread.Sleep(50);
            }
        });
        await producer.WaitAsync(TimeSpan.FromSeconds(120));
        await AwaitAssertAsync(() => Assert.Equal(n, deliveries.Select(d => d.Id).Distinct().Count()), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
        Assert.Contains("c", assignments.Keys);

        // Members leave one at a time, youngest first, each after the group settled: a member whose partitions
        // are revoked while it drains cannot commit them (the new owner reads them again), which is
        // at-least-once but would leave the final check below nothing exact to assert.
        foreach (var member in new[] { c!, b, a })
        {
            await Quiescent(deliveries);
            await member.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(60));
        }
        await Quiescent(deliveries);

        var all = deliveries.ToList();
        var duplicates = all.GroupBy(d => (d.Partition, d.Offset)).Where(g => g.Count() > 1).ToList();
        _output.WriteLine($"deliveries={all.Count} distinct={all.Select(d => d.Id).Distinct().Count()} redelivered={duplicates.Count}");
        Assert.Equal(n, all.Select(d => d.Id).Distinct().Count());
        // Offsets per partition are complete: 0..end with no hole.
        foreach (var p in all.GroupBy(d => d.Partition))
        {
            var offsets = p.Select(d => d.Offset).Distinct().Order().ToList();
            Assert.Equal(Enumerable.Range(0, offsets.Count).Select(i => (long)i), offsets);
        }
        // At-least-once redelivery only of what was not yet committed when a partition moved: at most what a
        // member can hold uncommitted per partition (its buffer plus an open commit batch), per rebalance. Three
        // rebalances move partitions that hold records (c joins, c leaves, b leaves), so a record is delivered at most
        // once plus once per rebalance: 4 (seen once on a loaded machine: a record read by a, then by c, then by b,
        // then by a, each time revoked before its commit went out).
        const int rebalancesWithRecords = 3;
        Assert.All(duplicates, g => Assert.True(g.Count() <= 1 + rebalancesWithRecords, $"{g.Key} delivered {g.Count()} times"));
        Assert.True(duplicates.Count <= 2 * partitions * (maxBuffered + commitBatch) , $"{duplicates.Count} redelivered");
        Assert.Equal(all.Count, n + duplicates.Sum(g => g.Count() - 1));

        // Everything delivered was committed: a new member of the group gets nothing more.
        var leftover = new ConcurrentQueue<string>();
        var d = KafkaConsumer.CommittableSource(ConsumerSettings(kafka, group), Subscriptions.Topics(topic))
            .Select(m => { leftover.Enqueue(m.Record.Message.Value); return (ICommittable)m.CommittableOffset; })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create)
            .Run(_materializer);
        Produce(kafka, topic, 1, prefix: "marker", start: n);
        await AwaitAssertAsync(() => Assert.NotEmpty(leftover), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await d.DrainAndShutdown();
        Assert.Equal(["marker-" + n], leftover.Select(IdOf));
    }

    /// <summary>Waits until no delivery happened for a second (a rebalance and its re-reads are over).</summary>
    private static async Task Quiescent(ConcurrentQueue<Delivery> deliveries)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = -1;
        while (deliveries.Count != last && DateTime.UtcNow < deadline)
        {
            last = deliveries.Count;
            await Task.Delay(1000);
        }
    }

    [Fact]
    public async Task A_leader_broker_down_during_production_with_idempotence_delivers_every_record_exactly_once()
    {
        using var kafka = new EmbeddedKafka(new EmbeddedKafkaOptions { Brokers = 3 });
        var topic = UniqueName("down");
        kafka.CreateTopic(topic, 6, 3);
        const int n = 50_000;

        var settings = ProducerSettings(kafka).WithParallelism(2000);
        var sent = 0;
        var results = Source.From(Enumerable.Range(0, n))
            .Select(i =>
            {
                Interlocked.Increment(ref sent);
                return (IEnvelope<string, string, int>)ProducerMessage.Single(topic, "k" + i, $"v-{i}|" + new string('x', 180), i);
            })
            .Throttle(5000, TimeSpan.FromMilliseconds(100), 5000, ThrottleMode.Shaping)
            .Via(KafkaProducer.FlexiFlow<string, string, int>(settings))
            .RunWith(Sink.Seq<IResults<string, string, int>>(), _materializer);

        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref sent) > n / 4), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        // Broker 1 leads some partitions; it goes away mid-stream, in-flight requests die with it.
        kafka.BrokerDown(1);
        await Task.Delay(TimeSpan.FromSeconds(4));
        kafka.BrokerUp(1);

        var acked = await results.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(Enumerable.Range(0, n), acked.Select(r => r.PassThrough));
        Assert.All(acked, r => Assert.IsType<ProducerMessage.Result<string, string, int>>(r));

        var ids = new ConcurrentQueue<string>();
        var control = KafkaConsumer.PlainSource(ConsumerSettings(kafka, UniqueName("g")), Subscriptions.Topics(topic))
            .Select(r => { ids.Enqueue(IdOf(r.Message.Value)); return NotUsed.Instance; })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Left)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.True(ids.Count >= n), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        // Let anything extra (a duplicate) arrive before counting.
        await Task.Delay(500);
        await control.Shutdown();
        Assert.Equal(n, ids.Count);
        Assert.Equal(n, ids.Distinct().Count());
    }
}
