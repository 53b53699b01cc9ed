using System.Globalization;
using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Mirror;

/// <summary>
/// The issue's fail-over, with the real pump: a node's files sink on dc1 stores part of a topic and stops; the mirror
/// copies the topic to dc2 and translates the pump's group; <c>nwdp mirror translate --apply</c>; a node on dc2 stores
/// the rest. Every event is in the two nodes' files once.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PumpFailoverSpecs(ITestOutputHelper output)
{
    private const int Partitions = 4;
    private const string Group = "nwdp-pump.files"; // nwdp.pump.group-id + "." + the sink's name

    private static IEnumerable<string> Lines(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => $"{{\"host\":\"web-{i % 5}\",\"msg\":\"{prefix}-{i.ToString(CultureInfo.InvariantCulture)}\"}}");

    private static List<string> Messages(IEnumerable<string> lines) =>
        lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).ToList();

    [Fact]
    public async Task A_pump_moved_from_one_cluster_to_the_other_by_translated_offsets_stores_every_event_once()
    {
        using var dc1 = new EmbeddedKafka(new EmbeddedKafkaOptions { DefaultPartitions = Partitions });
        using var dc2 = new EmbeddedKafka(new EmbeddedKafkaOptions { DefaultPartitions = Partitions });
        var topic = TopicNames.ForType("web");
        dc1.CreateTopic(topic, Partitions);
        dc2.CreateTopic(topic, Partitions);
        using var dir = new TempDir();
        Dictionary<string, string> On(EmbeddedKafka kafka, bool pump = true) => new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.pump.enabled"] = pump ? "on" : "off",
        };

        // dc1: a node stores 200 events and stops (its pump commits); 100 more arrive while no pump runs there.
        var a = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a"), overrides: On(dc1));
        await using (a) // its stop drains, flushes and commits
        {
            Assert.Equal(HttpStatusCode.OK, (await a.PostNdjsonAsync(Lines("first", 200), type: "web")).StatusCode);
            await Wait.UntilAsync(() => a.PublishedLines(topic).Count >= 200, TimeSpan.FromSeconds(60), () => $"{a.PublishedLines(topic).Count} stored");
        }
        var storedOnDc1 = Messages(a.PublishedLines(topic));
        await using (var ingressOnly = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a2"), overrides: On(dc1, pump: false)))
            Assert.Equal(HttpStatusCode.OK, (await ingressOnly.PostNdjsonAsync(Lines("second", 100), type: "web")).StatusCode);
        var committed = Committed(dc1, topic);
        output.WriteLine($"stored on dc1: {storedOnDc1.Count}; the pump's group committed {string.Join(",", committed.OrderBy(c => c.Key).Select(c => c.Value))}");
        Assert.Equal(200, committed.Values.Sum()); // 200 events from offset 0 in each partition they went to (by host)

        // The mirror copies the topic and translates the pump's group.
        var options = new MirrorOptions
        {
            Name = "dc1-to-dc2", SourceSite = "dc1", TargetSite = "dc2",
            BatchInterval = TimeSpan.FromMilliseconds(100), TopicRefresh = TimeSpan.FromMilliseconds(500), RequestTimeout = TimeSpan.FromSeconds(10),
        };
        var source = new KafkaClients(dc1.BootstrapServers);
        var target = new KafkaClients(dc2.BootstrapServers);
        using (var stop = new CancellationTokenSource())
        {
            var mirror = new KafkaMirror(options, source, target, output.WriteLine);
            var checkpoints = new MirrorCheckpoints(options, new MirrorCheckpointOptions { Interval = TimeSpan.FromMilliseconds(200), Groups = [Group] }, source, target, output.WriteLine);
            var runs = new[] { mirror.RunAsync(stop.Token), checkpoints.RunAsync(stop.Token) };
            await Wait.UntilAsync(() => (mirror.Status.Mirrored >= 300 && MirrorTranslation.Read(target, options.Name, Group).Count(c => c.Topic == topic) == committed.Count)
                                        || runs.Any(r => r.IsCompleted),
                TimeSpan.FromSeconds(60), () => $"{mirror.Status} {checkpoints.Status}");
            await stop.CancelAsync();
            await Task.WhenAll(runs);
        }
        var translate = await Nwdp.RunAsync("mirror", "translate", "--to", dc2.BootstrapServers, "--name", options.Name, "--group", Group, "--apply");
        Assert.True(translate.ExitCode == 0, translate.ToString());
        output.WriteLine(translate.Stdout);

        // dc2: a node with the same sink resumes there and stores only what dc1's pump had not.
        var b = await InProcessNode.StartAsync(Path.Combine(dir.Path, "b"), overrides: On(dc2));
        await using (b) // its stop flushes whatever it read: anything stored twice is in the files by then
            await Wait.UntilAsync(() => b.PublishedLines(topic).Count >= 100, TimeSpan.FromSeconds(60), () => $"{b.PublishedLines(topic).Count} stored on dc2");
        var storedOnDc2 = Messages(b.PublishedLines(topic));
        output.WriteLine($"stored on dc2: {storedOnDc2.Count}");

        var all = storedOnDc1.Concat(storedOnDc2).ToList();
        var twice = all.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(twice.Count == 0, $"stored twice: {string.Join(", ", twice)}");
        Assert.Equal(Lines("first", 200).Concat(Lines("second", 100)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).Order(), all.Order());
        Assert.All(storedOnDc2, m => Assert.StartsWith("second-", m));
    }

    private static Dictionary<int, long> Committed(EmbeddedKafka kafka, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = Group }).Build();
        return consumer.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0).ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }
}
