using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Mirror;

/// <summary>
/// Offset translation between two embedded Kafka clusters: a consumer group that read part of a topic on the source
/// moves to the target (<c>nwdp mirror translate --apply</c>) and reads the rest there, nothing lost, nothing twice.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class OffsetTranslationSpecs(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.web";
    private const string Group = "nwdp-pump.files"; // the pump's group of a sink named 'files'
    private const int Partitions = 4;

    private static void Produce(EmbeddedKafka kafka, int from, int count, string prefix)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = from; i < from + count; i++)
        {
            producer.Produce(new TopicPartition(Topic, i % Partitions), new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes($"{prefix}-{i.ToString(CultureInfo.InvariantCulture)}"),
                Value = Encoding.UTF8.GetBytes("{}"),
            });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A consumer of <see cref="Group"/> with the pump's semantics: subscribes, reads read_committed, and commits, per
    /// partition, the offset after the last record it processed. Processes at most <paramref name="perPartition"/> records
    /// of each partition (null: all, to the end of each); returns the keys it processed.
    /// </summary>
    private static List<string> ConsumeAsThePump(EmbeddedKafka kafka, int? perPartition, Action<IConsumer<byte[], byte[]>>? whileOpen = null)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = Group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
        }).Build();
        consumer.Subscribe(Topic);
        var processed = new List<string>();
        var counts = new int[Partitions];
        var ended = new HashSet<int>();
        var last = new Dictionary<int, long>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !(perPartition is { } n ? counts.All(c => c >= n) : ended.Count == Partitions))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF)
            {
                ended.Add(r.Partition.Value);
                continue;
            }
            if (perPartition is { } max && counts[r.Partition.Value] >= max) continue; // not processed: not committed
            processed.Add(Encoding.UTF8.GetString(r.Message.Key));
            counts[r.Partition.Value]++;
            last[r.Partition.Value] = r.Offset.Value;
        }
        Assert.True(perPartition is { } m ? counts.All(c => c >= m) : ended.Count == Partitions,
            $"the consumer did not get through: {string.Join(",", counts)} processed, {ended.Count} partitions at their end");
        if (last.Count > 0) consumer.Commit(last.Select(p => new TopicPartitionOffset(Topic, p.Key, p.Value + 1)));
        whileOpen?.Invoke(consumer);
        consumer.Close();
        return processed;
    }

    private static Dictionary<int, long> Committed(EmbeddedKafka kafka)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = Group }).Build();
        return consumer.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)), TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0).ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }

    [Fact]
    public async Task A_consumer_group_moved_from_the_source_cluster_to_the_target_reads_every_record_once()
    {
        using var dc1 = new EmbeddedKafka();
        using var dc2 = new EmbeddedKafka();
        dc1.CreateTopic(Topic, Partitions);
        dc2.CreateTopic(Topic, Partitions);
        // The target partitions hold records of their own too, before and between the copies (active/active).
        Produce(dc2, 0, 20, "local");
        Produce(dc1, 0, 300, "dc1");

        var options = new MirrorOptions
        {
            Name = "dc1-to-dc2", SourceSite = "dc1", TargetSite = "dc2",
            BatchInterval = TimeSpan.FromMilliseconds(100), TopicRefresh = TimeSpan.FromMilliseconds(500), RequestTimeout = TimeSpan.FromSeconds(10),
        };
        var checkpointOptions = new MirrorCheckpointOptions { Interval = TimeSpan.FromMilliseconds(200), Groups = [Group] };
        var source = new KafkaClients(dc1.BootstrapServers);
        var target = new KafkaClients(dc2.BootstrapServers);
        using (var stop = new CancellationTokenSource())
        {
            var mirror = new KafkaMirror(options, source, target, output.WriteLine);
            var checkpoints = new MirrorCheckpoints(options, checkpointOptions, source, target, output.WriteLine);
            var runs = new[] { mirror.RunAsync(stop.Token), checkpoints.RunAsync(stop.Token) };
            await Wait.UntilAsync(() => mirror.Status.Mirrored >= 300 || runs.Any(r => r.IsCompleted), TimeSpan.FromSeconds(60), () => mirror.Status.ToString());
            Produce(dc2, 20, 20, "local");
            Produce(dc1, 300, 300, "dc1");

            // The group reads 90 of each partition's 150 on dc1 and commits.
            var onSource = ConsumeAsThePump(dc1, perPartition: 90);
            var committed = Committed(dc1);
            Assert.Equal(Enumerable.Repeat(90L, Partitions), Enumerable.Range(0, Partitions).Select(p => committed.GetValueOrDefault(p, -1)));

            // The mirror copies the rest and checkpoints the group's offsets. A checkpoint taken while the mirror was still
            // behind the commit says so (ahead > 0) and is written again once the mirror's syncs pass it: wait for that one.
            List<MirrorCheckpoint> translated = [];
            await Wait.UntilAsync(() =>
                {
                    translated = MirrorTranslation.Read(target, options.Name, Group);
                    return (mirror.Status.Mirrored >= 600 && translated.Count == Partitions
                               && translated.All(c => c.SourceOffset == committed[c.Partition] && c.Ahead == 0))
                           || runs.Any(r => r.IsCompleted);
                }, TimeSpan.FromSeconds(60),
                () => $"{mirror.Status} {checkpoints.Status} {string.Join("; ", translated)}");
            stop.Cancel();
            await Task.WhenAll(runs);
            foreach (var c in translated) output.WriteLine($"checkpoint {c.Topic}/{c.Partition} {c.SourceOffset} -> {c.TargetOffset}");
            Assert.All(translated, c => Assert.Equal((Topic, c.Partition, 0L), (c.TargetTopic, c.TargetPartition, c.Ahead)));
            Assert.True(checkpoints.Status.Written >= Partitions, checkpoints.Status.ToString());

            // Fail-over: the group's offsets on dc2, through the command line.
            var translate = await Nwdp.RunAsync("mirror", "translate", "--to", dc2.BootstrapServers, "--name", options.Name, "--group", Group, "--apply", "--json");
            Assert.True(translate.ExitCode == 0, translate.ToString());
            using (var json = JsonDocument.Parse(translate.Stdout))
            {
                Assert.True(json.RootElement.GetProperty("applied").GetBoolean());
                Assert.Equal(Partitions, json.RootElement.GetProperty("partitions").GetArrayLength());
            }
            Assert.Equal(translated.ToDictionary(c => c.Partition, c => c.TargetOffset), Committed(dc2));

            // The group reads the rest on dc2. While it is there, committing translated offsets again is refused.
            CliOutcome? refused = null;
            var onTarget = ConsumeAsThePump(dc2, perPartition: null, whileOpen: _ =>
                refused = Nwdp.RunAsync("mirror", "translate", "--to", dc2.BootstrapServers, "--name", options.Name, "--group", Group, "--apply").GetAwaiter().GetResult());
            output.WriteLine($"read {onSource.Count} on dc1 and {onTarget.Count} on dc2");
            Assert.Equal(1, refused!.ExitCode);
            Assert.Contains($"group {Group} has active members on the target", refused.Stderr);

            var fromDc1 = onSource.Concat(onTarget).Where(k => k.StartsWith("dc1-", StringComparison.Ordinal)).ToList();
            var twice = fromDc1.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
            Assert.True(twice.Count == 0, $"read twice: {string.Join(", ", twice)}");
            Assert.Equal(Enumerable.Range(0, 600).Select(i => "dc1-" + i.ToString(CultureInfo.InvariantCulture)).Order(), fromDc1.Order());
            // The target's own records all came before the translated offsets: the moved group does not read them.
            Assert.DoesNotContain(onTarget, k => k.StartsWith("local-", StringComparison.Ordinal));
        }
    }
}
