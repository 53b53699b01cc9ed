using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Client;

/// <summary>
/// The EmitterClient's spill store against a node that goes away and comes back (the same data dir and the same
/// remoting port, so the contact point the client knows answers again).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EmitterClientSpillSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 13, 10, 0, TimeSpan.Zero);

    /// <summary>Starts a node; with <paramref name="port"/>, on that remoting port (a node coming back where the client knows it).</summary>
    private static Task<InProcessNode> StartNode(string dataDir, int? port = null) =>
        InProcessNode.StartAsync(dataDir, new ManualClock(Start), port is null ? null : new() { ["nwdp.cluster.port"] = port.Value.ToString() });

    private static int RemotingPort(InProcessNode node) => node.Cluster.SelfAddress.Port ?? throw new InvalidOperationException("no port");

    private static async Task<bool> PostPatiently(EmitterClient client, LogEvent e, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!client.Post(e))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(2);
        }
        return true;
    }

    [Fact]
    public async Task With_the_cluster_down_for_a_while_every_posted_event_is_spilled_and_arrives_exactly_once_when_it_is_back()
    {
        using var data = new TempDir();
        using var spill = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var node = await StartNode(data.Path);
        var port = RemotingPort(node);
        var options = ClientTestKit.Options(node) with
        {
            SpillDirectory = spill.Path,
            PostBufferCapacity = 2_000,
            MaxBatchEvents = 500,
            SpillAfter = TimeSpan.FromSeconds(2),
        };
        await using var client = EmitterClient.Start(options);
        try
        {
            await client.EmitAsync([ClientTestKit.Event(run, "probe", 0, "spillprobe")]).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await node.DisposeAsync(); // the cluster is down
        }

        const int posted = 20_000;
        const int emitted = 100;
        const int total = posted + emitted;
        for (var i = 0; i < posted; i++)
            Assert.True(await PostPatiently(client, ClientTestKit.Event(run, "spiller", i, "spilled"), TimeSpan.FromSeconds(60)), $"event {i} was never taken");
        await ClientTestKit.Eventually(() => client.Metrics.EventsSpilled == posted, TimeSpan.FromSeconds(60), () => client.Metrics.ToString());
        // A call of the spilling source queues behind what it spilled and completes only when the cluster acknowledged it.
        var call = client.EmitAsync(Enumerable.Range(posted, emitted).Select(i => ClientTestKit.Event(run, "spiller", i, "spilled")).ToList());
        await ClientTestKit.Eventually(() => client.Metrics.EventsSpilled == total, TimeSpan.FromSeconds(30), () => client.Metrics.ToString());
        Assert.False(call.IsCompleted);
        output.WriteLine("cluster down: " + client.Metrics);
        Assert.True(client.Metrics.PostRejected > 0, "the Post buffer never filled");
        Assert.Equal(total, client.Metrics.SpillBacklogEvents);
        Assert.True(client.Metrics.SpillBytes > 0);
        Assert.Equal(1, client.Metrics.EventsAcked); // the probe only
        Assert.NotEmpty(Directory.GetFiles(spill.Path, "*.seg"));
        Assert.False(call.IsCompleted);

        await using var back = await StartNode(data.Path, port);
        Assert.Equal(port, RemotingPort(back));
        var topic = TopicNames.ForType("spilled");
        await ClientTestKit.Eventually(() => client.Metrics.EventsResent == total && back.Published(topic).Count >= total, TimeSpan.FromSeconds(180),
            () => $"{client.Metrics}; {back.Published(topic).Count} published");
        output.WriteLine("cluster back: " + client.Metrics);
        await call.WaitAsync(TimeSpan.FromSeconds(30));

        var published = back.Published(topic);
        Assert.Equal(total, published.Count);
        var expected = Enumerable.Range(0, total).Select(i => $"{run}-spiller-{i}").ToList();
        Assert.Equal(expected, published.Select(p => p.Message)); // every id once, in the order given to the client
        Assert.Equal(0, client.Metrics.SpillBacklogEvents);
        Assert.Equal(0, client.Metrics.EventsFailed);
        Assert.Equal(total + 1, client.Metrics.EventsAcked);
        Assert.Empty(Directory.GetFiles(spill.Path, "*.seg")); // drained: every segment deleted
        Assert.Equal(0, client.PostBuffered);
    }

    [Fact]
    public async Task A_spilled_batch_the_cluster_refuses_permanently_is_set_aside_on_disk_and_counted_not_resent_and_the_rest_arrives()
    {
        using var data = new TempDir();
        using var spill = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        // A bus that takes records of at most 300,000 bytes: an event of 400,000 can never be produced.
        var busLimit = new Dictionary<string, string> { ["akka.kafka.producer.kafka-clients.message.max.bytes"] = "300000" };
        var node = await InProcessNode.StartAsync(data.Path, new ManualClock(Start), busLimit);
        var port = RemotingPort(node);
        var options = ClientTestKit.Options(node) with { SpillDirectory = spill.Path, SpillAfter = TimeSpan.FromSeconds(1) };
        await using var client = EmitterClient.Start(options);
        try
        {
            // The probe has a type of its own: the next node's embedded broker starts its offsets at 0 again, and a files
            // sink skips offsets its directory already holds (a known bug of a restarted embedded broker on the same data
            // directory, see docs/reliability.md), so a probe the first node published would hide a good event here.
            await client.EmitAsync([ClientTestKit.Event(run, "probe", 0, "probe")]).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await node.DisposeAsync(); // the cluster is down: what follows is spilled
        }

        var spilledBefore = client.Metrics.EventsSpilled; // the probe may have been spilled (and resent) while the node started
        var resentBefore = client.Metrics.EventsResent;
        for (var i = 0; i < 100; i++) Assert.True(await PostPatiently(client, ClientTestKit.Event(run, "before", i, "poison"), TimeSpan.FromSeconds(30)));
        var poison = ClientTestKit.Event(run, "poisoner", 0, "poison") with { Message = run + "-poison-" + new string('x', 400_000) };
        Assert.True(await PostPatiently(client, poison, TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 100; i++) Assert.True(await PostPatiently(client, ClientTestKit.Event(run, "after", i, "poison"), TimeSpan.FromSeconds(30)));
        await ClientTestKit.Eventually(() => client.Metrics.EventsSpilled == spilledBefore + 201, TimeSpan.FromSeconds(60), () => client.Metrics.ToString());

        busLimit["nwdp.cluster.port"] = port.ToString();
        await using var back = await InProcessNode.StartAsync(data.Path, new ManualClock(Start), busLimit);
        Assert.Equal(port, RemotingPort(back));
        var topic = TopicNames.ForType("poison");
        await ClientTestKit.Eventually(() => client.Metrics.EventsResent == resentBefore + 200 && client.Metrics.RefusedBatches == 1 && back.Published(topic).Count >= 200,
            TimeSpan.FromSeconds(120), () => $"{client.Metrics}; {back.Published(topic).Count} published");
        output.WriteLine(client.Metrics.ToString());

        // The refused batch is kept in the store's directory with its reason, counted, and not part of the backlog.
        var kept = Directory.GetFiles(spill.Path, "*.quarantine");
        Assert.Single(kept);
        Assert.Contains(run + "-poison-", System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(kept[0])));
        Assert.StartsWith("refused permanently by the cluster: ", File.ReadAllText(kept[0] + ".reason"));
        Assert.Equal(1, client.Metrics.QuarantinedRecords);
        Assert.Equal(1, client.Metrics.EventsFailed);
        Assert.Equal(0, client.Metrics.SpillBacklogEvents);
        var published = back.Published(topic).Select(p => p.Message).ToList();
        // The 200 good ones, each once, nothing else.
        Assert.Equal(200, published.Count);
        Assert.Equal(200, published.Distinct().Count());
        Assert.DoesNotContain(published, m => m.Contains("-poison-", StringComparison.Ordinal));

        // Not resent: neither by this client (a later emit goes through, the refusal count stays) nor by the next one on the directory.
        var refusals = client.Metrics.Refusals;
        await client.EmitAsync([ClientTestKit.Event(run, "later", 0, "poison")]).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(refusals, client.Metrics.Refusals);
        await client.DisposeAsync();
        await using var next = EmitterClient.Start(options with { ContactPoints = ClientTestKit.Options(back).ContactPoints });
        Assert.Equal(0, next.Metrics.SpillBacklogEvents);
        await next.EmitAsync([ClientTestKit.Event(run, "next", 0, "poison")]).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, next.Metrics.Refusals);
    }

    [Fact]
    public async Task A_client_disposed_while_the_cluster_is_down_leaves_its_events_to_the_next_client_with_the_directory()
    {
        using var data = new TempDir();
        using var spill = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var node = await StartNode(data.Path);
        var port = RemotingPort(node);
        var options = ClientTestKit.Options(node) with
        {
            SpillDirectory = spill.Path,
            SpillAfter = TimeSpan.FromMinutes(10), // nothing spills before the dispose
            FlushTimeout = TimeSpan.FromSeconds(1),
            MaxBatchEvents = 400,
        };
        await node.DisposeAsync();

        const int posted = 5_000;
        const int emitted = 300;
        var first = EmitterClient.Start(options);
        for (var i = 0; i < posted; i++) Assert.True(first.Post(ClientTestKit.Event(run, "poster", i, "handover")));
        var call = first.EmitAsync(Enumerable.Range(0, emitted).Select(i => ClientTestKit.Event(run, "emitter", i, "handover")).ToList());
        await ClientTestKit.Eventually(() => first.Metrics.PendingEvents == posted + emitted, TimeSpan.FromSeconds(30), () => first.Metrics.ToString());
        Assert.Equal(0, first.Metrics.EventsSpilled);
        await first.DisposeAsync();
        output.WriteLine("first client: " + first.Metrics);
        Assert.Equal(posted + emitted, first.Metrics.EventsSpilled);
        Assert.Equal(0, first.Metrics.EventsFailed);
        Assert.Equal(0, first.Metrics.EventsAcked);
        // The caller never heard the cluster acknowledge: the call fails, and says where its events are.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("spill store", error.Message);

        await using var back = await StartNode(data.Path, port);
        await using var second = EmitterClient.Start(options);
        Assert.Equal(posted + emitted, second.Metrics.SpillBacklogEvents);
        var topic = TopicNames.ForType("handover");
        await ClientTestKit.Eventually(() => second.Metrics.EventsResent == posted + emitted && back.Published(topic).Count >= posted + emitted,
            TimeSpan.FromSeconds(180), () => $"{second.Metrics}; {back.Published(topic).Count} published");
        output.WriteLine("second client: " + second.Metrics);

        var published = back.Published(topic);
        Assert.Equal(posted + emitted, published.Count);
        Assert.Equal(Enumerable.Range(0, posted).Select(i => $"{run}-poster-{i}"), published.Where(p => p.Host == "poster").Select(p => p.Message));
        Assert.Equal(Enumerable.Range(0, emitted).Select(i => $"{run}-emitter-{i}"), published.Where(p => p.Host == "emitter").Select(p => p.Message));
        // The lineage numbers the first client gave travel with the spilled events.
        Assert.Equal(Enumerable.Range(1, posted).Select(i => (long)i), published.Where(p => p.Host == "poster").Select(p => p.SourceSeq));
        Assert.Equal(0, second.Metrics.SpillBacklogEvents);
    }

    [Fact]
    public async Task A_damaged_store_does_not_stop_the_client_the_damage_is_quarantined_and_the_rest_resent()
    {
        using var data = new TempDir();
        using var spill = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var batches = Enumerable.Range(0, 4)
            .Select(b => Enumerable.Range(b * 100, 100).Select(i => ClientTestKit.Event(run, "crashed", i, "damaged") with { Lineage = new Lineage("", i + 1) }).ToList())
            .ToList();
        SpillRecordRef second;
        using (var store = EmitterSpillStore.Open(spill.Path, 1L << 30, 64L << 20, new EmitterClientMetrics()))
        {
            store.TryAppend("crashed", "worker", batches[0], null, out _);
            store.TryAppend("crashed", "worker", batches[1], null, out second);
            store.TryAppend("crashed", "worker", batches[2], null, out _);
            store.TryAppend("crashed", "worker", batches[3], null, out _);
            store.Sync();
        }
        // A bit flipped in the second batch, and the last one torn by a crash mid-write.
        var segment = Directory.GetFiles(spill.Path, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[second.Offset + 8 + 40] ^= 0x01;
        File.WriteAllBytes(segment, bytes[..^30]);

        await using var node = await StartNode(data.Path);
        await using var client = EmitterClient.Start(ClientTestKit.Options(node) with { SpillDirectory = spill.Path });
        Assert.Equal(2, client.Metrics.QuarantinedRecords);
        Assert.Equal(200, client.Metrics.SpillBacklogEvents);
        Assert.Equal(2, Directory.GetFiles(spill.Path, "*.quarantine").Length);

        var topic = TopicNames.ForType("damaged");
        await ClientTestKit.Eventually(() => client.Metrics.EventsResent == 200 && node.Published(topic).Count >= 200, TimeSpan.FromSeconds(120),
            () => client.Metrics.ToString());
        var published = node.Published(topic);
        Assert.Equal(batches[0].Concat(batches[2]).Select(e => e.Message), published.Select(p => p.Message));
        Assert.Equal(0, client.Metrics.SpillBacklogEvents);
        Assert.Empty(Directory.GetFiles(spill.Path, "*.seg")); // resent and acknowledged: deleted
    }

    [Fact]
    public void Spill_options_are_validated_with_messages_naming_the_option()
    {
        var valid = new EmitterClientOptions { ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"], SpillDirectory = "/tmp/x" };
        valid.Validate();
        (valid with { SpillDirectory = null, SpillMaxBytes = -1 }).Validate(); // spilling off: its options are not used
        Assert.Contains("SpillDirectory", Assert.Throws<ArgumentException>(() => (valid with { SpillDirectory = " " }).Validate()).Message);
        Assert.Contains("SpillAfter", Assert.Throws<ArgumentException>(() => (valid with { SpillAfter = TimeSpan.Zero }).Validate()).Message);
        Assert.Contains("SpillMaxBytes", Assert.Throws<ArgumentException>(() => (valid with { SpillMaxBytes = 1000 }).Validate()).Message);
        Assert.Contains("SpillSegmentBytes", Assert.Throws<ArgumentException>(() => (valid with { SpillSegmentBytes = 0 }).Validate()).Message);
        Assert.Contains("SpillSegmentBytes", Assert.Throws<ArgumentException>(() => (valid with { SpillMaxBytes = 2L << 20, SpillSegmentBytes = 4L << 20 }).Validate()).Message);
    }

    [Fact]
    public async Task A_zero_flush_timeout_spills_what_is_pending_at_once_instead_of_waiting_for_ever()
    {
        using var spill = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = EmitterClient.Start(new EmitterClientOptions
        {
            ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"], // nobody there
            Hostname = "127.0.0.1",
            SpillDirectory = spill.Path,
            SpillAfter = TimeSpan.FromMinutes(10), // nothing spills before the dispose
            FlushTimeout = TimeSpan.Zero,
        });
        for (var i = 0; i < 50; i++) Assert.True(client.Post(ClientTestKit.Event(run, "poster", i, "zero")));
        await ClientTestKit.Eventually(() => client.Metrics.PendingEvents == 50, TimeSpan.FromSeconds(30), () => client.Metrics.ToString());

        // Akka's Ask with a zero timeout never times out: the dispose hung here.
        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(50, client.Metrics.EventsSpilled);
        Assert.Equal(0, client.Metrics.EventsFailed);
    }

    [Fact]
    public async Task Two_clients_cannot_share_a_spill_directory()
    {
        using var spill = new TempDir();
        var options = new EmitterClientOptions
        {
            ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"],
            Hostname = "127.0.0.1",
            SpillDirectory = spill.Path,
            FlushTimeout = TimeSpan.Zero,
        };
        var first = EmitterClient.Start(options);
        var error = Assert.Throws<IOException>(() => EmitterClient.Start(options));
        Assert.Contains("locked", error.Message);
        Assert.Contains("SpillDirectory", error.Message);
        await first.DisposeAsync();
        await using var second = EmitterClient.Start(options); // released on dispose
    }
}
