using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Stats;

/// <summary>
/// The audit across a SIGKILL of a pump node (issue 13's false LOST): the delivered counts of what a pump committed
/// reach <c>nwdp.stats</c> before its commit, so a node killed right after a commit leaves no hole, and what it wrote
/// without committing is counted once, by the node that writes it again. The whole chain is real (pump-side
/// counting, counter, publisher, the embedded broker, feed, store, audit) except the pump's stream: the test plays
/// its writes, commits and the kill step by step.
/// </summary>
public sealed class DurableDeliveredCountsSpecs : IDisposable
{
    private readonly EmbeddedKafka _kafka = new();
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private readonly StatsOptions _options = new() { Grace = TimeSpan.FromSeconds(1), SettleTime = TimeSpan.FromSeconds(20) };
    private static readonly TopicPartition P0 = new("nwdp.logs.app", 0);

    public DurableDeliveredCountsSpecs() => _kafka.CreateTopic(TopicNames.Stats, 2);

    public void Dispose() => _kafka.Dispose();

    /// <summary>One node's stats: its counter, publisher (over its own producer) and the pump's per-sink counting.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly IProducer<byte[]?, byte[]> _producer;

        public Node(string id, EmbeddedKafka kafka, StatsOptions options, TimeProvider clock, IDeliveredPositions? published = null)
        {
            Librdkafka.EnsureLoaded();
            Counter = new StatsCounter(options, clock);
            _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All, EnableIdempotence = true }).Build();
            Publisher = new StatsPublisher(Counter, _producer, () => id);
            // What Start does, without the timer: the test decides when the periodic publish runs (here: never after a kill).
            Counter.DurableBy(Publisher.DurableAsync);
            Pg = new DeliveredOnceBySink(Counter, published).For("pg");
        }

        public StatsCounter Counter { get; }
        public StatsPublisher Publisher { get; }
        public DeliveredOnce Pg { get; }

        /// <summary>What the pump does at a commit: count what it covers, publish the counts, then commit (the commit itself is the test's business).</summary>
        public async Task CommitAsync(long highestOffset)
        {
            await Pg.ReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            Pg.Committing(new Dictionary<TopicPartition, long> { [P0] = highestOffset });
            await Pg.DurableAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }

        /// <summary>SIGKILL: nothing more is published (the counter's unpublished counts die with it).</summary>
        public void Kill() => _producer.Dispose();

        public async ValueTask DisposeAsync() => await Publisher.DisposeAsync();
    }

    private static List<SinkRecord> Records(string type, long minuteMs, long from, long to) =>
        Enumerable.Range((int)from, (int)(to - from + 1))
            .Select(o => new SinkRecord(P0.Topic, 0, o, new LogEvent { Message = "event " + o, Type = type, Host = "h1", Process = "web", SystemTs = minuteMs + o * 100 }))
            .ToList();

    private async Task<IReadOnlyList<AuditRow>> AuditAsync(long published)
    {
        var store = new StatsStore(_options, _clock);
        await using (var feed = new StatsFeed(new NeverwinterDP.Actors.Kafka.Settings.KafkaClients(_kafka.BootstrapServers), store, _options))
        {
            feed.Start();
            await Wait.UntilAsync(() => store.Received >= published, TimeSpan.FromSeconds(60), () => $"{store.Received} of {published} stats records read");
        }
        _clock.Advance(_options.SettleTime + TimeSpan.FromSeconds(1));
        return store.Audit(0);
    }

    [Fact]
    public async Task A_pump_node_killed_after_a_commit_leaves_no_false_LOST_and_what_it_did_not_commit_is_counted_once()
    {
        // An old minute: a sink catching up on a backlog (the sql sink's server was down), as in the soak.
        var minute = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 60_000 * 60_000 - 5 * 60_000;
        var app = Records("app", minute, 0, 14);
        var lossy = Records("lossy", minute, 100, 104);

        // Ingress (on node A) accepted 15 events of type app and 5 of type lossy in that minute.
        var a = new Node("node-a", _kafka, _options, _clock);
        a.Counter.Accepted(app.Select(r => r.Event).Concat(lossy.Select(r => r.Event)).ToList());
        a.Publisher.PublishDue(all: true);
        await a.Publisher.DurableAsync(CancellationToken.None);
        var published = a.Publisher.Published;

        // Node A's pump writes 0..9 to the (idempotent) sink and commits them, then writes 10..14 and is killed
        // before its next commit.
        a.Pg.Delivered("pg", app.Take(10).ToList());
        await a.CommitAsync(9);
        a.Pg.Delivered("pg", app.Skip(10).ToList());
        published = a.Publisher.Published;
        a.Kill();

        // Node B reads the partition from the committed offset (10): writes 10..14 again (the sink skips the rows it
        // has; they are delivered all the same) and commits. Of lossy, the sink took 3 of 5 (2 dead-lettered).
        await using var b = new Node("node-b", _kafka, _options, _clock);
        b.Pg.ReadFrom(P0, 10);
        b.Pg.Delivered("pg", app.Skip(10).ToList());
        b.Pg.Delivered("pg", lossy.Take(3).ToList());
        await b.CommitAsync(104);
        published += b.Publisher.Published;

        var rows = await AuditAsync(published);
        var appRow = Assert.Single(rows, r => r.Type == "app");
        Assert.Equal(15, appRow.Accepted);
        var pg = Assert.Single(appRow.Sinks);
        Assert.Equal(("pg", 15L, AuditVerdicts.Ok), (pg.Sink, pg.Delivered, pg.Verdict));
        // A true loss is still one.
        var lossyRow = Assert.Single(rows, r => r.Type == "lossy");
        Assert.Equal(("pg", 3L, AuditVerdicts.Lost), (lossyRow.Sinks[0].Sink, lossyRow.Sinks[0].Delivered, lossyRow.Sinks[0].Verdict));
    }

    [Fact]
    public async Task A_commit_that_failed_after_its_counts_were_published_does_not_count_the_records_again_on_the_same_node()
    {
        var minute = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 60_000 * 60_000 - 60_000;
        var app = Records("app", minute, 0, 9);
        await using var a = new Node("node-a", _kafka, _options, _clock);
        a.Counter.Accepted(app.Select(r => r.Event).ToList());
        a.Pg.Delivered("pg", app);
        await a.CommitAsync(9);
        // The commit failed (broker gone): the stream restarts from the last commit and writes 0..9 again.
        a.Pg.ReadFrom(P0, 0);
        a.Pg.Delivered("pg", app);
        await a.CommitAsync(9);
        Assert.Equal(10, a.Pg.Repeated);
        a.Publisher.PublishDue(all: true);
        await a.Publisher.DurableAsync(CancellationToken.None);

        var row = Assert.Single(await AuditAsync(a.Publisher.Published), r => r.Type == "app");
        Assert.Equal((10L, 10L, AuditVerdicts.Ok), (row.Accepted, row.Sinks[0].Delivered, row.Sinks[0].Verdict));
    }

    [Fact]
    public async Task A_pump_node_killed_after_its_counts_were_durable_and_before_its_commit_is_not_counted_twice()
    {
        var minute = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 60_000 * 60_000 - 5 * 60_000;
        var app = Records("app", minute, 0, 14);
        var a = new Node("node-a", _kafka, _options, _clock);
        a.Counter.Accepted(app.Select(r => r.Event).ToList());
        a.Publisher.PublishDue(all: true);
        await a.Publisher.DurableAsync(CancellationToken.None);

        // Node A writes 0..9 and commits; writes 10..14, publishes their counts (and the position 15 after them),
        // and is killed before the commit: the group's committed offset stays at 10.
        a.Pg.Delivered("pg", app.Take(10).ToList());
        await a.CommitAsync(9);
        a.Pg.Delivered("pg", app.Skip(10).ToList());
        await a.CommitAsync(14);
        var published = a.Publisher.Published;
        a.Kill();

        // Node B reads every node's counted positions from nwdp.stats, then reads the partition from 10 and writes
        // 10..14 again: delivered again (the sink skips what it has), but A counted them; B counts only what follows.
        var store = new StatsStore(_options, _clock);
        await using var feed = new StatsFeed(new NeverwinterDP.Actors.Kafka.Settings.KafkaClients(_kafka.BootstrapServers), store, _options);
        feed.Start();
        await using var b = new Node("node-b", _kafka, _options, _clock, published: store);
        b.Pg.ReadFrom(P0, 10);
        b.Pg.Delivered("pg", app.Skip(10).ToList());
        await b.CommitAsync(14);
        Assert.True(store.IsCaughtUp, "the feed had not read what nwdp.stats held when the first count came");
        Assert.Equal(15, store.CountedNext("pg", P0.Topic, 0));
        Assert.Equal(5, b.Pg.CountedElsewhere);
        published += b.Publisher.Published;

        var row = Assert.Single(await AuditAsync(published), r => r.Type == "app");
        Assert.Equal((15L, 15L, AuditVerdicts.Ok), (row.Accepted, row.Sinks[0].Delivered, row.Sinks[0].Verdict));
    }
}
