using System.Globalization;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Mirror;

/// <summary>The mirror between two embedded Kafka clusters (librdkafka's mock, transactions included).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class KafkaMirrorSpecs(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.web";
    private static readonly long T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private MirrorOptions Options(string name, string from, string to, string targetTopic = "{topic}") => new()
    {
        Name = name,
        SourceSite = from,
        TargetSite = to,
        TargetTopic = targetTopic,
        BatchInterval = TimeSpan.FromMilliseconds(100),
        TopicRefresh = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    private static void Produce(EmbeddedKafka kafka, string topic, int from, int count, string prefix, int partitions = 4)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = from; i < from + count; i++)
        {
            var headers = new Headers { { "seq", Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture)) } };
            producer.Produce(new TopicPartition(topic, i % partitions), new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes($"{prefix}-{i}"),
                Value = Encoding.UTF8.GetBytes($"value of {prefix}-{i}"),
                Headers = headers,
                Timestamp = new Timestamp(T0 + i, TimestampType.CreateTime),
            });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Every committed record of <paramref name="topic"/> (read_committed, to the end of each partition).</summary>
    internal static List<ConsumeResult<byte[], byte[]>> ReadAll(EmbeddedKafka kafka, string topic, int partitions = 4)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnablePartitionEof = true,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var ended = new HashSet<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ended.Count < partitions && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF) ended.Add(r.Partition.Value);
            else results.Add(r);
        }
        Assert.True(ended.Count == partitions, $"only {ended.Count} of {partitions} partitions of {topic} read to their end");
        return results;
    }

    private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

    private static string Header(Headers headers, string key) => headers.TryGetLastBytes(key, out var b) ? Text(b) : "";

    [Fact]
    public async Task Copies_every_record_once_with_its_key_headers_timestamp_and_partition_and_a_restart_copies_nothing_twice()
    {
        using var dc1 = new EmbeddedKafka();
        using var dc2 = new EmbeddedKafka();
        dc1.CreateTopic(Topic, 4);
        dc2.CreateTopic("dc1." + Topic, 4);
        Produce(dc1, Topic, 0, 500, "a");
        var options = Options("m1", "dc1", "dc2", "{site}.{topic}");

        using (var stop = new CancellationTokenSource())
        {
            var mirror = new KafkaMirror(options, new KafkaClients(dc1.BootstrapServers), new KafkaClients(dc2.BootstrapServers), output.WriteLine);
            var run = mirror.RunAsync(stop.Token);
            await Wait.UntilAsync(() => mirror.Status.Mirrored >= 500 || run.IsCompleted, TimeSpan.FromSeconds(60), () => mirror.Status.ToString());
            stop.Cancel();
            await run;
            Assert.Equal(500, mirror.Status.Mirrored);
            Assert.Equal(0, mirror.Status.Lag);
        }

        var copies = ReadAll(dc2, "dc1." + Topic);
        Assert.Equal(500, copies.Count);
        var originals = ReadAll(dc1, Topic).ToDictionary(r => Text(r.Message.Key));
        foreach (var copy in copies)
        {
            var original = originals[Text(copy.Message.Key)];
            Assert.Equal(Text(original.Message.Value), Text(copy.Message.Value));
            Assert.Equal(original.Partition, copy.Partition);
            Assert.Equal(original.Message.Timestamp.UnixTimestampMs, copy.Message.Timestamp.UnixTimestampMs);
            Assert.Equal(Header(original.Message.Headers, "seq"), Header(copy.Message.Headers, "seq"));
            Assert.Equal("dc1", Header(copy.Message.Headers, MirrorHeaders.Path));
            Assert.Equal($"dc1/{Topic}/{original.Partition.Value}/{original.Offset.Value}", Header(copy.Message.Headers, MirrorHeaders.Source));
        }

        // A mirror of the same name starts from the positions committed with the copies: only the new records go.
        Produce(dc1, Topic, 500, 100, "a");
        using (var stop = new CancellationTokenSource())
        {
            var again = new KafkaMirror(options, new KafkaClients(dc1.BootstrapServers), new KafkaClients(dc2.BootstrapServers), output.WriteLine);
            var run = again.RunAsync(stop.Token);
            await Wait.UntilAsync(() => again.Status.Mirrored >= 100 || run.IsCompleted, TimeSpan.FromSeconds(60), () => again.Status.ToString());
            stop.Cancel();
            await run;
            Assert.Equal(100, again.Status.Mirrored);
        }
        var all = ReadAll(dc2, "dc1." + Topic).Select(r => Text(r.Message.Key)).ToList();
        Assert.Equal(600, all.Count);
        Assert.Equal(600, all.Distinct().Count());
    }

    [Fact]
    public async Task Two_sites_mirroring_each_other_copy_each_record_once_and_never_back()
    {
        using var a = new EmbeddedKafka();
        using var b = new EmbeddedKafka();
        a.CreateTopic(Topic, 4);
        b.CreateTopic(Topic, 4);
        Produce(a, Topic, 0, 200, "born-in-a");
        Produce(b, Topic, 0, 300, "born-in-b");

        using var stop = new CancellationTokenSource();
        var ab = new KafkaMirror(Options("a-to-b", "a", "b"), new KafkaClients(a.BootstrapServers), new KafkaClients(b.BootstrapServers), output.WriteLine);
        var ba = new KafkaMirror(Options("b-to-a", "b", "a"), new KafkaClients(b.BootstrapServers), new KafkaClients(a.BootstrapServers), output.WriteLine);
        var runs = new[] { ab.RunAsync(stop.Token), ba.RunAsync(stop.Token) };
        // Each copies the other's 200 or 300 and, reading its own copies back on the other side, skips them.
        await Wait.UntilAsync(() => (ab.Status.Mirrored, ab.Status.Skipped, ba.Status.Mirrored, ba.Status.Skipped) == (200, 300, 300, 200) || runs.Any(r => r.IsCompleted),
            TimeSpan.FromSeconds(90), () => $"{ab.Status} / {ba.Status}");
        stop.Cancel();
        await Task.WhenAll(runs);

        foreach (var (site, kafka) in new[] { ("a", a), ("b", b) })
        {
            var keys = ReadAll(kafka, Topic).Select(r => Text(r.Message.Key)).ToList();
            Assert.Equal(500, keys.Count);
            Assert.Equal(500, keys.Distinct().Count());
            output.WriteLine($"site {site}: {keys.Count} records, each once");
        }
        Assert.Equal((200, 300, 300, 200), (ab.Status.Mirrored, ab.Status.Skipped, ba.Status.Mirrored, ba.Status.Skipped));
    }

    [Fact]
    public void Options_name_what_is_wrong()
    {
        var good = Options("m", "dc1", "dc2");
        Assert.Contains("both 'dc1'", Assert.Throws<ArgumentException>(() => (good with { TargetSite = "dc1" }).Validate()).Message);
        Assert.Contains("{topic}", Assert.Throws<ArgumentException>(() => (good with { TargetTopic = "fixed" }).Validate()).Message);
        Assert.Contains("regular expression", Assert.Throws<ArgumentException>(() => (good with { TopicPattern = "(" }).Validate()).Message);
        Assert.Contains("mirror name", Assert.Throws<ArgumentException>(() => (good with { Name = "a b" }).Validate()).Message);
        Assert.Equal("dc1.nwdp.logs.web", (good with { TargetTopic = "{site}.{topic}" }).TargetTopicOf("nwdp.logs.web"));
    }
}
