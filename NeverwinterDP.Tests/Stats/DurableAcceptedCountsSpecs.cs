using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Stats;

/// <summary>
/// The audit across a SIGKILL of an ingress node in the middle of a minute (issue 13's soak: that minute showed as
/// DUPLICATED, since the node took the minute's <c>accepted</c> and <c>bus</c> counts with it while the sinks' counts
/// were complete). Ingress answers a batch only once its counts are acknowledged on <c>nwdp.stats</c>, so nothing it
/// answered 2xx is missing from the audit. Real ingress (<see cref="EventIngress"/> over a <see cref="BusWriter"/>),
/// counter, publisher, embedded broker, feed, store and audit; the kill and the pump's commit are played step by step.
/// </summary>
public sealed class DurableAcceptedCountsSpecs : IDisposable
{
    private readonly EmbeddedKafka _kafka = new();
    private readonly ActorSystem _system = ActorSystem.Create("accepted-counts", "akka.loglevel = WARNING");
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private readonly StatsOptions _options = new() { Grace = TimeSpan.FromSeconds(1), SettleTime = TimeSpan.FromSeconds(20), DurableAcceptedTimeout = TimeSpan.FromSeconds(30) };

    public DurableAcceptedCountsSpecs() => _kafka.CreateTopic(TopicNames.Stats, 2);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _kafka.Dispose();
    }

    /// <summary>One node: ingress over its own bus writer, its stats counter and publisher (over its own producer).</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly IProducer<byte[]?, byte[]> _producer;
        private readonly BusWriter _writer;

        public Node(string id, DurableAcceptedCountsSpecs spec, StatsOptions options)
        {
            Librdkafka.EnsureLoaded();
            Counter = new StatsCounter(options, spec._clock);
            _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = spec._kafka.BootstrapServers, Acks = Acks.All, EnableIdempotence = true }).Build();
            Publisher = new StatsPublisher(Counter, _producer, () => id);
            // What Start does, without the timer: nothing is published by the minute in this test (the kill comes first).
            Counter.DurableBy(Publisher.DurableAsync);
            _writer = new BusWriter(spec._system, ProducerSettings<byte[]?, byte[]>.Create(spec._system, Serializers.ByteArray, Serializers.ByteArray)
                    .WithBootstrapServers(spec._kafka.BootstrapServers),
                new BusWriterOptions(16, TimeSpan.FromSeconds(5), MaxBacklog: 0), new EmbeddedTopicProvisioner(spec._kafka, 1));
            Ingress = new EventIngress(_writer, new IngressOptions
            {
                MaxRequestBytes = 1 << 20, MaxDecompressedBytes = 1 << 20, MaxEventsPerRequest = 1000, QueueCapacity = 64, EnqueueTimeout = TimeSpan.FromSeconds(5),
                MaxBusBacklog = 0, BacklogWait = TimeSpan.Zero, MaxBytesInFlight = 1 << 24, RetryAfter = TimeSpan.FromSeconds(1),
            }, [Counter]);
        }

        public StatsCounter Counter { get; }
        public StatsPublisher Publisher { get; }
        public EventIngress Ingress { get; }

        /// <summary>SIGKILL: nothing more is published (the counter's unpublished counts die with it).</summary>
        public void Kill()
        {
            _killed = true;
            _producer.Dispose();
        }

        private bool _killed;

        public async ValueTask DisposeAsync()
        {
            await _writer.DisposeAsync();
            if (!_killed) await Publisher.DisposeAsync();
        }
    }

    private List<LogEvent> Events(string type, int count, int from = 0)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        return Enumerable.Range(from, count).Select(i => new LogEvent { Message = "event " + i, Type = type, Host = "h1", Process = "web", SystemTs = now }).ToList();
    }

    /// <summary>Node B's pump commits what A's ingress put on the bus: counted as delivered to <c>files</c>, published, acknowledged.</summary>
    private static async Task<long> DeliverAsync(Node b, IEnumerable<LogEvent> events)
    {
        b.Counter.Committing("files", events.Select(e => new DeliveryCount(e.SystemTs, e.Type, System.Text.Encoding.UTF8.GetByteCount(e.Message))).ToList(), []);
        await b.Counter.DurableAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return b.Publisher.Published;
    }

    private async Task<AuditRow> AuditAsync(long published, string type)
    {
        var store = new StatsStore(_options, _clock);
        await using (var feed = new StatsFeed(new KafkaClients(_kafka.BootstrapServers), store, _options))
        {
            feed.Start();
            await Wait.UntilAsync(() => store.Received >= published, TimeSpan.FromSeconds(60), () => $"{store.Received} of {published} stats records read");
        }
        // The minute ends and settles (no node publishes it again: A is dead, B delivered everything).
        _clock.Advance(TimeSpan.FromMinutes(1) + _options.SettleTime + TimeSpan.FromSeconds(1));
        return Assert.Single(store.Audit(0), r => r.Type == type);
    }

    [Fact]
    public async Task An_ingress_node_killed_in_the_middle_of_a_minute_leaves_the_accepted_and_bus_counts_of_what_it_answered_and_the_minute_is_ok()
    {
        await using var a = new Node("node-a", this, _options);
        await using var b = new Node("node-b", this, _options);

        // Three requests, answered durable (2xx), two of them at once; then the node is killed within the same minute.
        var first = Events("app", 10);
        Assert.Equal(IngressOutcome.Durable, (await a.Ingress.AcceptAsync(first, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60))).Outcome);
        var second = Events("app", 7, from: 10);
        var third = Events("app", 5, from: 17);
        var answers = await Task.WhenAll(a.Ingress.AcceptAsync(second, null, CancellationToken.None), a.Ingress.AcceptAsync(third, null, CancellationToken.None))
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(answers, r => Assert.Equal(IngressOutcome.Durable, r.Outcome));
        var published = a.Publisher.Published;
        a.Kill();

        // Another node's pump delivers all 22 of them (they are on the bus).
        published += await DeliverAsync(b, first.Concat(second).Concat(third));

        var row = await AuditAsync(published, "app");
        Assert.Equal((22L, 22L), (row.Accepted, row.OnBus));
        var files = Assert.Single(row.Sinks);
        Assert.Equal(("files", 22L, AuditVerdicts.Ok), (files.Sink, files.Delivered, files.Verdict));
    }

    [Fact]
    public async Task With_durable_accepted_timeout_0_ingress_does_not_wait_and_a_node_killed_in_its_minute_takes_the_counts_with_it()
    {
        // The trade-off the key turns off: counts by the minute only, so the kill leaves that minute DUPLICATED.
        await using var a = new Node("node-a", this, _options with { DurableAcceptedTimeout = TimeSpan.Zero });
        await using var b = new Node("node-b", this, _options);
        var events = Events("app", 10);
        Assert.Equal(IngressOutcome.Durable, (await a.Ingress.AcceptAsync(events, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60))).Outcome);
        Assert.Equal(0, a.Publisher.Flushes);
        a.Kill();

        var row = await AuditAsync(await DeliverAsync(b, events), "app");
        Assert.Equal((0L, 0L), (row.Accepted, row.OnBus));
        Assert.Equal(("files", 10L, AuditVerdicts.Duplicated), (row.Sinks[0].Sink, row.Sinks[0].Delivered, row.Sinks[0].Verdict));
    }
}
