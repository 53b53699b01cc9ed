using System.Text.Json;
using Akka.Serialization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>
/// Replay is exactly once across a crash: a node that dies after Kafka took a replayed batch but before the
/// journal recorded it finds the batch's records on the bus after its restart and produces only what is missing.
/// The broker lives outside the node (it survives the node's restart); the node keeps its data dir.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillReplayCrashSpecs(ITestOutputHelper output)
{
    private const int Partitions = 4;

    private static Dictionary<string, string> Settings(EmbeddedKafka kafka) => new()
    {
        ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
        ["nwdp.spill.after"] = "1s",
        ["nwdp.spill.probe-interval"] = "200ms",
        ["nwdp.sinks.files.fsync"] = "off",
    };

    private static string PersistenceId(string topic) => SpilloverEntity.TypeName + "|" + topic;

    /// <summary>What the replay headers of the node's own batches of <paramref name="topic"/> name: the persistence id and the node's spill store.</summary>
    private static string Origin(InProcessNode node, string topic) => node.App.Services.GetRequiredService<SpillStoreInfo>().HeaderOrigin(topic);

    private static IEnumerable<string> Lines(IEnumerable<string> messages) => messages.Select(m => JsonSerializer.Serialize(new { host = "h" + m.GetHashCode() % 5, msg = m }));

    private static List<string> Published(InProcessNode node, string topic) =>
        node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).ToList();

    /// <summary>Posts <paramref name="batches"/> requests of <paramref name="perBatch"/> events with the broker down: each is one spilled batch.</summary>
    private static async Task<List<string>> SpillAsync(InProcessNode node, EmbeddedKafka kafka, string type, string run, int batches, int perBatch)
    {
        kafka.BrokerDown(1);
        var sent = new List<string>();
        for (var b = 0; b < batches; b++)
        {
            var messages = Enumerable.Range(b * perBatch, perBatch).Select(i => $"{run}-{i}").ToList();
            var response = await node.PostNdjsonAsync(Lines(messages), type);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            sent.AddRange(messages);
        }
        Assert.Equal(sent.Count, node.App.Services.GetRequiredService<EventIngress>().SpilledEvents);
        return sent;
    }

    private static async Task<SpillStatus> ReplayedAsync(InProcessNode node, string topic)
    {
        var spillover = node.App.Services.GetRequiredService<SpillWriter>();
        SpillStatus? status = null;
        await Wait.UntilAsync(async () => (status = (await spillover.StatusAsync([topic], CancellationToken.None)).Single()).Batches == 0,
            TimeSpan.FromSeconds(90), () => $"{status}");
        return status!;
    }

    private static SerializerWithStringManifest SerializerOf(InProcessNode node) =>
        (SerializerWithStringManifest)node.System.Serialization.FindSerializerForType(typeof(SpilledBatch));

    [Fact]
    public async Task A_replay_interrupted_after_Kafka_acked_a_batch_leaves_every_event_on_the_bus_and_in_the_sink_exactly_once()
    {
        const int batches = 10, perBatch = 100;
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var topic = TopicNames.ForType("crash");
        kafka.CreateTopic(topic, Partitions);
        var run = Guid.NewGuid().ToString("N")[..8];
        var acked = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        // The seam: once Kafka acknowledged a replayed chunk, the entity waits here (never recording SpillReplayed)
        // and the node is stopped: as if it died between the two. Batch 1 is the request whose produce timed out
        // (replayed alone, after a look at the bus); the hook holds the chunk after it: batches 2-6 (replay-rate
        // 2,500/s x 200 ms = 500 events a chunk).
        const int chunk = 5;
        var settings = new Dictionary<string, string>(Settings(kafka)) { ["nwdp.spill.replay-rate"] = "2500" };
        var node = await InProcessNode.StartAsync(dir.Path, overrides: settings,
            configureServices: s => s.AddSingleton(new SpillReplayHook((t, seq) =>
            {
                if (t != topic || seq < 2) return Task.CompletedTask;
                acked.TrySetResult(seq);
                return never.Task;
            })));
        List<string> sent;
        long interrupted;
        var first = $"{run}-first";
        try
        {
            // One event while the bus is up (the topic is known to ingress before the outage, as in production).
            Assert.True((await node.PostNdjsonAsync(Lines([first]), "crash")).IsSuccessStatusCode);
            sent = await SpillAsync(node, kafka, "crash", run, batches, perBatch);
            kafka.BrokerUp(1);
            interrupted = await acked.Task.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"chunk from batch {interrupted} acknowledged by Kafka; stopping the node before it is recorded replayed");
        }
        finally
        {
            await node.DisposeAsync();
        }
        Assert.Equal(2, interrupted);
        Assert.Equal(1 + perBatch + chunk * perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        // The interrupted chunk is still in the journal (batch 1's row may be too: it is recorded replayed, and its
        // deletion is asynchronous).
        Assert.Contains(interrupted, await SpillJournal.BatchSequenceNrsAsync(dir.Path, PersistenceId(topic)));

        await using var restarted = await InProcessNode.StartAsync(dir.Path, overrides: settings);
        var status = await ReplayedAsync(restarted, topic);
        Assert.Equal(batches - 1, status.ReplayedBatches);
        Assert.Equal((batches - 1) * perBatch, status.ReplayedEvents);

        // The bus holds each spilled event once: the interrupted chunk was not produced again.
        Assert.Equal(1 + batches * perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        var all = SpillBus.Headers(kafka.BootstrapServers, topic, Partitions);
        var headers = all.OfType<string>().ToList();
        Assert.All(headers, h => Assert.Matches($@"^{Regex(Origin(restarted, topic))}/\d+/\d+$", h));
        Assert.Equal(headers.Count, headers.Distinct().Count());
        // Without a header: the event sent before the outage, and those of batch 1 its timed-out produce put there.
        Assert.Equal(1 + batches * perBatch, all.Count(h => h is null) + headers.Count);
        for (var b = interrupted; b < interrupted + chunk; b++)
            Assert.Equal(perBatch, headers.Count(h => h.StartsWith(SpillHeader.Prefix(Origin(restarted, topic), b), StringComparison.Ordinal)));

        await Wait.UntilAsync(() => Published(restarted, topic).Count >= 1 + sent.Count, TimeSpan.FromSeconds(60), () => $"{Published(restarted, topic).Count} published");
        var published = Published(restarted, topic);
        Assert.Equal(1 + sent.Count, published.Count);
        Assert.Equal(sent.Append(first).Order(), published.Order());
    }

    [Fact]
    public async Task After_a_crash_with_part_of_a_batch_on_the_bus_only_the_missing_records_are_produced()
    {
        const int perBatch = 100, onBus = 40, earlier = 20;
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var topic = TopicNames.ForType("partial");
        kafka.CreateTopic(topic, Partitions);
        var run = Guid.NewGuid().ToString("N")[..8];
        var pid = PersistenceId(topic);
        List<string> sent;
        var before = Enumerable.Range(0, earlier).Select(i => $"{run}-before-{i}").ToList();
        SerializerWithStringManifest serializer;
        string origin;
        await using (var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings(kafka)))
        {
            origin = Origin(node, topic);
            // Records on the topic before the batch's replay started: the scan starts after them.
            Assert.True((await node.PostNdjsonAsync(Lines(before), "partial")).IsSuccessStatusCode);
            sent = await SpillAsync(node, kafka, "partial", run, 1, perBatch);
            serializer = SerializerOf(node);
        }
        var seq = Assert.Single(await SpillJournal.BatchSequenceNrsAsync(dir.Path, pid));
        var batch = await SpillJournal.ReadBatchAsync(dir.Path, pid, seq, serializer);
        Assert.Equal(perBatch, batch.Records.Count);

        // What a node that died mid-replay leaves: the marker with the end offsets it read, and the first
        // records of the batch (with their headers) on the bus, no SpillReplayed.
        kafka.BrokerUp(1);
        var ends = SpillBus.EndOffsets(kafka.BootstrapServers, topic, Partitions);
        Assert.Equal(earlier, ends.Values.Sum());
        await SpillJournal.AppendAsync(dir.Path, pid, new SpillReplayStarting(seq, ends), serializer);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < onBus; i++)
                await producer.ProduceAsync(topic, new Message<byte[]?, byte[]>
                {
                    Key = batch.Records[i].Key, Value = batch.Records[i].Value,
                    Headers = new Headers { { SpillHeader.Name, SpillHeader.Value(origin, seq, i) } },
                });
        }
        Assert.Equal(earlier + onBus, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));

        await using var restarted = await InProcessNode.StartAsync(dir.Path, overrides: Settings(kafka));
        var status = await ReplayedAsync(restarted, topic);
        Assert.Equal(perBatch, status.ReplayedEvents);
        Assert.Equal(earlier + perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        var headers = SpillBus.Headers(kafka.BootstrapServers, topic, Partitions);
        Assert.Equal(earlier, headers.Count(h => h is null));
        Assert.Equal(Enumerable.Range(0, perBatch).Select(i => SpillHeader.Prefix(origin, seq) + i).Order(), headers.OfType<string>().Order());

        await Wait.UntilAsync(() => Published(restarted, topic).Count >= earlier + perBatch, TimeSpan.FromSeconds(60), () => $"{Published(restarted, topic).Count} published");
        var published = Published(restarted, topic);
        Assert.Equal(before.Concat(sent).Order(), published.Order());
    }

    [Fact]
    public async Task A_journal_written_before_replay_markers_existed_recovers_and_replays_what_is_not_recorded_replayed()
    {
        const int batches = 5, perBatch = 100;
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var topic = TopicNames.ForType("oldjournal");
        kafka.CreateTopic(topic, Partitions);
        var run = Guid.NewGuid().ToString("N")[..8];
        var pid = PersistenceId(topic);
        List<string> sent;
        SerializerWithStringManifest serializer;
        var first = $"{run}-first";
        await using (var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings(kafka)))
        {
            Assert.True((await node.PostNdjsonAsync(Lines([first]), "oldjournal")).IsSuccessStatusCode);
            sent = await SpillAsync(node, kafka, "oldjournal", run, batches, perBatch);
            serializer = SerializerOf(node);
        }
        // The old format: batches, and SpillReplayed for the first with no marker before it (its row not yet deleted).
        var seqs = await SpillJournal.BatchSequenceNrsAsync(dir.Path, pid);
        Assert.Equal(batches, seqs.Count);
        await SpillJournal.AppendAsync(dir.Path, pid, new SpillReplayed(seqs[0]), serializer);

        kafka.BrokerUp(1);
        await using var restarted = await InProcessNode.StartAsync(dir.Path, overrides: Settings(kafka));
        var status = await ReplayedAsync(restarted, topic);
        Assert.Equal(batches - 1, status.ReplayedBatches);
        Assert.Equal(1 + (batches - 1) * perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        await Wait.UntilAsync(() => Published(restarted, topic).Count >= 1 + (batches - 1) * perBatch, TimeSpan.FromSeconds(60));
        var published = Published(restarted, topic);
        Assert.Equal(sent.Skip(perBatch).Append(first).Order(), published.Order());
    }

    private static string Regex(string s) => System.Text.RegularExpressions.Regex.Escape(s);

    /// <summary>
    /// The other source of duplicates: ingress's own produce reaches the bus but its acknowledgement does not
    /// come in time (the broker answers after nwdp.spill.after), so the request is spilled. The replay finds the
    /// records on the bus by their bytes and produces none of them again.
    /// </summary>
    [Fact]
    public async Task A_request_whose_produce_landed_but_timed_out_is_spilled_and_not_written_twice()
    {
        const int perBatch = 100;
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var topic = TopicNames.ForType("lateack");
        kafka.CreateTopic(topic, Partitions);
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings(kafka));
        var first = $"{run}-first";
        Assert.True((await node.PostNdjsonAsync(Lines([first]), "lateack")).IsSuccessStatusCode);

        // The broker takes the records but answers after 3 s; ingress gives up after 1 s and spills them.
        kafka.SetBrokerRtt(1, TimeSpan.FromSeconds(3));
        var sent = Enumerable.Range(0, perBatch).Select(i => $"{run}-{i}").ToList();
        var response = await node.PostNdjsonAsync(Lines(sent), "lateack");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(perBatch, node.App.Services.GetRequiredService<EventIngress>().SpilledEvents);
        kafka.SetBrokerRtt(1, TimeSpan.Zero);
        var seq = Assert.Single(await SpillJournal.BatchSequenceNrsAsync(dir.Path, PersistenceId(topic)));
        var batch = await SpillJournal.ReadBatchAsync(dir.Path, PersistenceId(topic), seq, SerializerOf(node));
        Assert.NotNull(batch.MaybeOnBusFrom);

        var status = await ReplayedAsync(node, topic);
        Assert.Equal(perBatch, status.ReplayedEvents);
        await Wait.UntilAsync(() => Published(node, topic).Count >= 1 + perBatch, TimeSpan.FromSeconds(60), () => $"{Published(node, topic).Count} published");
        // Each event once on the bus and in the sink: the late-acknowledged copy is the only one (no header: not replayed).
        Assert.Equal(1 + perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        Assert.All(SpillBus.Headers(kafka.BootstrapServers, topic, Partitions), Assert.Null);
        var published = Published(node, topic);
        Assert.Equal(sent.Append(first).Order(), published.Order());
    }
}
