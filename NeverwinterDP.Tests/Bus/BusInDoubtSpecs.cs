using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Bus;

/// <summary>
/// A request that waits <c>nwdp.spill.after</c> for Kafka is answered then, while records the producer holds stay with
/// it (until its longer message timeout) and reach the bus once when the broker answers; records still queued are taken back.
/// </summary>
public sealed class BusInDoubtSpecs : IDisposable
{
    private const string Topic = "nwdp.logs.indoubt";
    private readonly EmbeddedKafka _kafka = new();
    private readonly ActorSystem _system = ActorSystem.Create("indoubt", "akka.loglevel = WARNING");

    private BusWriter Writer() =>
        new(_system, ProducerSettings<byte[]?, byte[]>.Create(_system, Serializers.ByteArray, Serializers.ByteArray)
                .WithBootstrapServers(_kafka.BootstrapServers)
                .WithParallelism(1) // one request with the producer at a time: the next one waits in the queue
                .WithProperty("message.timeout.ms", "30000"),
            new BusWriterOptions(16, TimeSpan.FromSeconds(5), MaxBacklog: 0), new EmbeddedTopicProvisioner(_kafka, 1));

    private static ProducerRecord<byte[]?, byte[]>[] Records(string message) =>
        EventIngress.ToRecords([new LogEvent { Type = "indoubt", Host = "h", Message = message }], null);

    private List<string> OnTheBus(int atLeast)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers, GroupId = "check-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        var messages = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) messages.Add(LogEventAvro.DecodeFramed(r.Message.Value).Message);
            else if (messages.Count >= atLeast) break; // the end, and a poll more to see nothing follows
        }
        return messages;
    }

    [Fact]
    public async Task A_request_the_producer_holds_is_answered_in_time_and_its_records_land_once_when_the_broker_answers_while_a_queued_one_is_taken_back()
    {
        await using var writer = Writer();
        Assert.Equal(IngressOutcome.Durable, (await writer.SubmitAsync(Records("before"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))).Outcome);

        _kafka.BrokerDown(1);
        var held = writer.SubmitAsync(Records("held"), CancellationToken.None, TimeSpan.FromSeconds(1));
        var queued = writer.SubmitAsync(Records("queued"), CancellationToken.None, TimeSpan.FromSeconds(1));

        var (heldOutcome, heldError) = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(IngressOutcome.Failed, heldOutcome);
        var late = Assert.IsType<StillWithProducerException>(Assert.IsType<PossiblyWrittenException>(heldError).InnerException);
        var (queuedOutcome, queuedError) = await queued.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(IngressOutcome.Failed, queuedOutcome);
        Assert.IsType<TimeoutException>(queuedError);
        Assert.Equal(1, writer.InDoubt);
        Assert.False(late.Outcome.IsCompleted);

        _kafka.BrokerUp(1);
        Assert.Equal(IngressOutcome.Durable, (await late.Outcome.WaitAsync(TimeSpan.FromSeconds(60))).Outcome);
        await Wait.UntilAsync(() => writer.InDoubt == 0, TimeSpan.FromSeconds(10), () => $"{writer.InDoubt} in doubt");
        Assert.Equal(IngressOutcome.Durable, (await writer.SubmitAsync(Records("after"), CancellationToken.None, TimeSpan.FromSeconds(30))).Outcome);

        // The held records once, the taken-back ones never (their request spilled them).
        Assert.Equal(["before", "held", "after"], OnTheBus(atLeast: 3));
    }

    /// <summary>A spillover store that keeps nothing (its quota used up).</summary>
    private sealed class RefusingStore : ReceiveActor
    {
        public RefusingStore() => Receive<SpillBatch>(b => Sender.Tell(new SpillRefused(b.Topic, "the spill quota (0 bytes) is used up")));
    }

    [Fact]
    public async Task A_request_that_cannot_be_spilled_while_its_records_are_with_the_producer_waits_for_the_producers_verdict_instead_of_answering_503()
    {
        await using var writer = Writer();
        var spill = new SpillWriter(_system.ActorOf(Props.Create(() => new RefusingStore())), TimeSpan.FromSeconds(10), after: TimeSpan.FromSeconds(1));
        var ingress = new EventIngress(writer, new IngressOptions
        {
            MaxRequestBytes = 1 << 20, MaxDecompressedBytes = 1 << 20, MaxEventsPerRequest = 100, QueueCapacity = 16, EnqueueTimeout = TimeSpan.FromSeconds(5),
            MaxBusBacklog = 0, BacklogWait = TimeSpan.Zero, MaxBytesInFlight = 1 << 20, RetryAfter = TimeSpan.FromSeconds(1),
        }, [], spill, new BusCircuit(TimeSpan.FromSeconds(1)));
        Assert.Equal(IngressOutcome.Durable, (await writer.SubmitAsync(Records("before"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))).Outcome);

        _kafka.BrokerDown(1);
        var accept = ingress.AcceptAsync([new LogEvent { Type = "indoubt", Host = "h", Message = "held" }], null, CancellationToken.None);
        // Past spill.after and the refused spill, the request still waits: a 503 now could be followed by its records on the bus.
        await Wait.UntilAsync(() => writer.InDoubt == 1, TimeSpan.FromSeconds(20), () => $"{writer.InDoubt} in doubt");
        await Task.Delay(500);
        Assert.False(accept.IsCompleted);

        _kafka.BrokerUp(1);
        var (outcome, error) = await accept.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(IngressOutcome.Durable, outcome);
        Assert.Null(error);
        Assert.Equal(["before", "held"], OnTheBus(atLeast: 2));
    }

    [Fact]
    public async Task Stopping_does_not_wait_for_records_of_requests_already_answered()
    {
        var writer = Writer();
        Assert.Equal(IngressOutcome.Durable, (await writer.SubmitAsync(Records("before"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))).Outcome);
        _kafka.BrokerDown(1);
        Assert.Equal(IngressOutcome.Failed, (await writer.SubmitAsync(Records("held"), CancellationToken.None, TimeSpan.FromMilliseconds(500)).WaitAsync(TimeSpan.FromSeconds(20))).Outcome);
        Assert.Equal(1, writer.InDoubt);

        // Well within the 60 s it would wait for an unanswered request.
        await writer.StopAsync(TimeSpan.FromSeconds(60)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(writer.IsRunning);
    }

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _kafka.Dispose();
    }
}
