using System.Diagnostics;
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

/// <summary>
/// Raw throughput of the Kafka stages against the embedded broker, 200-byte records. Prints rates, asserts
/// only that everything arrived. Run: dotnet test -c Release --filter "FullyQualifiedName~KafkaStagesBenchmarks".
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class KafkaStagesBenchmarks : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;

    public KafkaStagesBenchmarks(ITestOutputHelper output) : base("akka.loglevel = WARNING", output: output) => _output = output;

    [Fact]
    public async Task Produce_and_consume_rates_of_200_byte_records()
    {
        using var kafka = new EmbeddedKafka();
        var topic = UniqueName("bench");
        // Enough partitions that the mock's ~5 MB per partition holds the whole run.
        kafka.CreateTopic(topic, 32);
        const int n = 1_000_000;
        var value = new byte[200];
        Random.Shared.NextBytes(value);
        var materializer = Sys.Materializer();
        var settings = ProducerSettings<byte[], byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);

        async Task<double> PlainSinkRate(ProducerSettings<byte[], byte[]> sinkSettings)
        {
            var watch = Stopwatch.StartNew();
            await Source.From(Enumerable.Range(0, n))
                .Select(i => new ProducerRecord<byte[], byte[]>(topic, new Message<byte[], byte[]> { Key = BitConverter.GetBytes(i), Value = value }))
                .RunWith(KafkaProducer.PlainSink(sinkSettings), materializer);
            return n / watch.Elapsed.TotalSeconds;
        }

        _output.WriteLine($"PlainSink (acks=all, idempotent, lz4): {await PlainSinkRate(settings):N0} records/s");
        // One record per envelope: at most `parallelism` records wait for their acknowledgement, so the rate is bounded
        // by parallelism / (linger.ms + the round trip) whatever the CPU.
        _output.WriteLine($"PlainSink, parallelism 20,000: {await PlainSinkRate(settings.WithParallelism(20_000)):N0} records/s");

        var sw = Stopwatch.StartNew();
        var batches = Enumerable.Range(0, n / 100).Select(b => (IEnvelope<byte[], byte[], int>)ProducerMessage.Multi(
            Enumerable.Range(0, 100).Select(i => new ProducerRecord<byte[], byte[]>(topic, new Message<byte[], byte[]> { Key = BitConverter.GetBytes(i), Value = value })).ToArray(), b));
        await Source.From(batches).Via(KafkaProducer.FlexiFlow<byte[], byte[], int>(settings)).RunWith(Sink.Ignore<IResults<byte[], byte[], int>>(), materializer);
        _output.WriteLine($"FlexiFlow, 100-record MultiMessages: {n / sw.Elapsed.TotalSeconds:N0} records/s");

        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        // CPU of the whole process (the embedded broker included) per record: steadier than rates on a shared machine.
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        string Cpu()
        {
            var now = Process.GetCurrentProcess().TotalProcessorTime;
            var perRecord = (now - cpu).TotalMicroseconds / (2 * n);
            cpu = now;
            return $", {perRecord:N2} µs CPU/record";
        }
        sw.Restart();
        var count = 0;
        var plain = KafkaConsumer.PlainSource(consumer.WithGroupId(UniqueName("plain")), Subscriptions.Topics(topic))
            .Select(_ => Interlocked.Increment(ref count))
            .ToMaterialized(Sink.Ignore<int>(), Keep.Left).Run(materializer);
        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref count) >= 2 * n), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(20));
        var elapsed = sw.Elapsed;
        await plain.Shutdown();
        _output.WriteLine($"PlainSource: {2 * n / elapsed.TotalSeconds:N0} records/s (incl. ~group join)" + Cpu());

        sw.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        count = 0;
        var committable = KafkaConsumer.CommittableSource(consumer.WithGroupId(UniqueName("commit")), Subscriptions.Topics(topic))
            .Select(m => { Interlocked.Increment(ref count); return (ICommittable)m.CommittableOffset; })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create).Run(materializer);
        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref count) >= 2 * n), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(20));
        elapsed = sw.Elapsed;
        await committable.DrainAndShutdown();
        _output.WriteLine($"CommittableSource + Committer.Sink: {2 * n / elapsed.TotalSeconds:N0} records/s (incl. ~group join)" + Cpu());

        sw.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        count = 0;
        var batched = KafkaConsumer.CommittableBatchSource(consumer.WithGroupId(UniqueName("batch")), Subscriptions.Topics(topic), 5000, TimeSpan.FromMilliseconds(200))
            .Select(b => { Interlocked.Add(ref count, b.Records.Count); return (ICommittable)b.Offsets; })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create).Run(materializer);
        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref count) >= 2 * n), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(20));
        elapsed = sw.Elapsed;
        await batched.DrainAndShutdown();
        _output.WriteLine($"CommittableBatchSource (5,000) + Committer.Sink: {2 * n / elapsed.TotalSeconds:N0} records/s (incl. ~group join)" + Cpu());

        sw.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        count = 0;
        var lean = KafkaConsumer.CommittableBatchSource(consumer.WithGroupId(UniqueName("lean")).WithProperty("dotnet.consumer.consume.result.fields", "topic"),
                Subscriptions.Topics(topic), 5000, TimeSpan.FromMilliseconds(200))
            .Select(b => { Interlocked.Add(ref count, b.Records.Count); return (ICommittable)b.Offsets; })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default), DrainingControl<Done>.Create).Run(materializer);
        await AwaitAssertAsync(() => Assert.True(Volatile.Read(ref count) >= 2 * n), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(20));
        elapsed = sw.Elapsed;
        await lean.DrainAndShutdown();
        _output.WriteLine($"CommittableBatchSource + Committer.Sink, consume.result.fields=topic: {2 * n / elapsed.TotalSeconds:N0} records/s (incl. ~group join)" + Cpu());
    }
}
