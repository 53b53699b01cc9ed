using System.Collections.Concurrent;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
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
public sealed class CommittableBatchSourceSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;
    private readonly IMaterializer _materializer;

    public CommittableBatchSourceSpecs(ITestOutputHelper output) : base("akka.loglevel = INFO", output: output)
    {
        _output = output;
        _materializer = Sys.Materializer();
    }

    [Fact]
    public async Task Batch_source_emits_every_record_once_with_one_offset_per_partition_and_a_restarted_consumer_gets_only_new_ones()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("batch");
        kafka.CreateTopic(topic, 4);
        const int n = 20_000;
        Produce(kafka, topic, n);
        var group = UniqueName("g");

        var first = await ConsumeExactly(kafka, topic, group, n, maxRecords: 700);
        Assert.Equal(n, first.Select(r => r.Id).Distinct().Count());

        Produce(kafka, topic, 500, prefix: "new", start: n);
        var second = await ConsumeExactly(kafka, topic, group, 500, maxRecords: 700);
        Assert.All(second, r => Assert.StartsWith("new-", r.Id));
        Assert.Equal(500, second.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_batch_is_cut_at_max_weight_and_a_part_batch_goes_out_after_the_interval()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("weigh");
        kafka.CreateTopic(topic, 1);
        Produce(kafka, topic, 10);
        var sizes = new ConcurrentQueue<int>();
        // Each record weighs 1: at most 3 per batch; 10 records never fill 1000, so only the weight or the interval cut.
        var control = KafkaConsumer.CommittableBatchSource(ConsumerSettings(kafka, UniqueName("g")), Subscriptions.Topics(topic),
                maxRecords: 1000, interval: TimeSpan.FromMilliseconds(100), maxWeight: 3, weigh: _ => 1)
            .Select(b =>
            {
                sizes.Enqueue(b.Records.Count);
                return (ICommittable)b.Offsets;
            })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.Equal(10, sizes.Sum()), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        await control.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(sizes, s => Assert.InRange(s, 1, 3));
    }

    [Fact]
    public async Task Partitions_revoked_mid_batch_lose_nothing_and_every_delivered_record_ends_committed()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("revoke");
        const int partitions = 6;
        const int n = 30_000;
        kafka.CreateTopic(topic, partitions);
        var group = UniqueName("g");
        var deliveries = new ConcurrentQueue<(string Member, int Partition, long Offset, string Id)>();

        // Large batches with a long interval: a rebalance finds records held in a part batch, which are dropped
        // (the new owner reads them) rather than written by a member that no longer owns them.
        DrainingControl<Done> Start(string name) =>
            KafkaConsumer.CommittableBatchSource(ConsumerSettings(kafka, group).WithMaxBufferedPerPartition(300).WithClientId(name),
                    Subscriptions.Topics(topic), maxRecords: 2000, interval: TimeSpan.FromMilliseconds(300))
                .Select(b =>
                {
                    foreach (var r in b.Records) deliveries.Enqueue((name, r.Partition.Value, r.Offset.Value, IdOf(r.Message.Value)));
                    return (ICommittable)b.Offsets;
                })
                .ToMaterialized(Committer.Sink(CommitterSettings.Default.WithMaxInterval(TimeSpan.FromMilliseconds(100))), DrainingControl<Done>.Create)
                .Run(_materializer);

        var a = Start("a");
        DrainingControl<Done>? b = null;
        var producer = Task.Run(() =>
        {
            for (var chunk = 0; chunk < 30; chunk++)
            {
                Produce(kafka, topic, n / 30, start: chunk * (n / 30));
                if (chunk == 10) b = Start("b");
                Thread.Sleep(50);
            }
        });
        await producer.WaitAsync(TimeSpan.FromSeconds(120));
        await AwaitAssertAsync(() => Assert.Equal(n, deliveries.Select(d => d.Id).Distinct().Count()), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
        Assert.Contains(deliveries, d => d.Member == "b");

        foreach (var member in new[] { b!, a })
        {
            await Quiescent(deliveries);
            await member.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(60));
        }
        var all = deliveries.ToList();
        _output.WriteLine($"deliveries={all.Count} redelivered={all.Count - n}");
        Assert.Equal(n, all.Select(d => d.Id).Distinct().Count());
        foreach (var p in all.GroupBy(d => d.Partition))
        {
            var offsets = p.Select(d => d.Offset).Distinct().Order().ToList();
            Assert.Equal(Enumerable.Range(0, offsets.Count).Select(i => (long)i), offsets);
        }

        // Everything delivered was committed: a new member of the group gets only what comes next.
        Produce(kafka, topic, 1, prefix: "marker", start: n);
        var leftover = await ConsumeExactly(kafka, topic, group, 1, maxRecords: 100);
        Assert.Equal(["marker-" + n], leftover.Select(r => r.Id));
    }

    [Fact]
    public async Task The_stage_holds_at_most_max_buffered_bytes_and_batches_cut_at_their_weight_still_get_every_record_once_in_order()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("bytes");
        const int partitions = 4;
        const int n = 3000;
        kafka.CreateTopic(topic, partitions);
        Produce(kafka, topic, n);
        const long bound = 32 << 10;
        const long record = 2 * 200 + 16; // a ~200-character value and its key, two bytes a character
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<Seen>();
        var problems = new ConcurrentQueue<string>();
        // Batches of at most 4 KiB of values: most end with a record that did not fit, which opens the next batch.
        var control = KafkaConsumer.CommittableBatchSource(ConsumerSettings(kafka, UniqueName("g")).WithMaxBufferedBytes(bound),
                Subscriptions.Topics(topic), maxRecords: 1000, interval: TimeSpan.FromMilliseconds(50), maxWeight: 4096, weigh: r => r.Message.Value.Length)
            .SelectAsync(1, async b =>
            {
                await gate.Task;
                if (b.Records.Count > 1 && b.Records.Sum(r => r.Message.Value.Length) > 4096) problems.Enqueue($"a batch of {b.Records.Count} over its weight");
                foreach (var r in b.Records) seen.Enqueue(new Seen(IdOf(r.Message.Value), r.Partition.Value, r.Offset.Value));
                return (ICommittable)b.Offsets;
            })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create)
            .Run(_materializer);

        // The sink waits: the consumer fills its buffers up to the bound (plus one record per partition) and pauses.
        await AwaitAssertAsync(() => Assert.True(control.Control.BufferedBytes >= bound / 2, $"{control.Control.BufferedBytes} bytes buffered"),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20));
        for (var i = 0; i < 20; i++)
        {
            Assert.InRange(control.Control.BufferedBytes, 0, bound + partitions * record);
            await Task.Delay(25);
        }
        _output.WriteLine($"buffered {control.Control.BufferedBytes} bytes ({control.Control.Buffered} records) with the sink waiting; bound {bound}");

        gate.SetResult();
        await AwaitAssertAsync(() => Assert.True(seen.Count >= n, $"{seen.Count} of {n}"), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
        await control.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(problems);
        var all = seen.ToList();
        Assert.Equal(n, all.Count);
        Assert.Equal(n, all.Select(r => r.Id).Distinct().Count());
        foreach (var p in all.GroupBy(r => r.Partition))
            Assert.Equal(Enumerable.Range(0, p.Count()).Select(i => (long)i), p.Select(r => r.Offset));
        Assert.Equal(0, control.Control.BufferedBytes);
    }

    private sealed record Seen(string Id, int Partition, long Offset);

    /// <summary>
    /// Runs a batch source until <paramref name="expected"/> records came, committing each batch's offsets, and checks
    /// every batch: within the bound, each partition's records in order, one offset per partition (the highest).
    /// </summary>
    private async Task<List<Seen>> ConsumeExactly(EmbeddedKafka kafka, string topic, string group, int expected, int maxRecords)
    {
        var seen = new ConcurrentQueue<Seen>();
        var problems = new ConcurrentQueue<string>();
        var control = KafkaConsumer.CommittableBatchSource(ConsumerSettings(kafka, group), Subscriptions.Topics(topic), maxRecords, TimeSpan.FromMilliseconds(50))
            .Select(b =>
            {
                if (b.Records.Count is 0 || b.Records.Count > maxRecords) problems.Enqueue($"a batch of {b.Records.Count}");
                if (b.Offsets.BatchSize != b.Records.Count) problems.Enqueue($"batch size {b.Offsets.BatchSize} for {b.Records.Count} records");
                var highest = b.Records.GroupBy(r => r.TopicPartition).ToDictionary(g => g.Key, g => g.Max(r => r.Offset.Value));
                if (!highest.OrderBy(kv => kv.Key.Partition.Value).SequenceEqual(b.Offsets.Offsets.OrderBy(kv => kv.Key.Partition.Value)))
                    problems.Enqueue("offsets are not the highest per partition");
                foreach (var g in b.Records.GroupBy(r => r.Partition.Value))
                    if (!g.Select(r => r.Offset.Value).SequenceEqual(g.Select(r => r.Offset.Value).Order())) problems.Enqueue($"partition {g.Key} out of order");
                foreach (var r in b.Records) seen.Enqueue(new Seen(IdOf(r.Message.Value), r.Partition.Value, r.Offset.Value));
                return (ICommittable)b.Offsets;
            })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default.WithMaxInterval(TimeSpan.FromMilliseconds(200))), DrainingControl<Done>.Create)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.True(seen.Count >= expected, $"{seen.Count} of {expected}"), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100));
        await control.DrainAndShutdown().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(problems);
        Assert.Equal(expected, seen.Count);
        return seen.ToList();
    }

    /// <summary>Waits until no delivery happened for a second (a rebalance and its re-reads are over).</summary>
    private static async Task Quiescent<T>(ConcurrentQueue<T> deliveries)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = -1;
        while (deliveries.Count != last && DateTime.UtcNow < deadline)
        {
            last = deliveries.Count;
            await Task.Delay(1000);
        }
    }
}
