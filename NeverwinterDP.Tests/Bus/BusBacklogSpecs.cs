using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Bus;

/// <summary>Past <c>max-bus-backlog</c> a request waits for the pumps (backpressure) and is refused only when they do not catch up.</summary>
public sealed class BusBacklogSpecs : IDisposable
{
    private readonly EmbeddedKafka _kafka = new();
    private readonly ActorSystem _system = ActorSystem.Create("backlog", "akka.loglevel = WARNING");

    /// <summary>A pump backlog the test sets.</summary>
    private sealed class SetBacklog : IBusBacklog
    {
        public long Value;
        public long Worst(IReadOnlyDictionary<TopicPartition, long> acknowledgedNext) => Interlocked.Read(ref Value);
        public long Undelivered(IReadOnlyDictionary<TopicPartition, long> acknowledgedNext) => Interlocked.Read(ref Value);
    }

    private BusWriter Writer(IBusBacklog backlog, TimeSpan wait) =>
        new(_system, ProducerSettings<byte[]?, byte[]>.Create(_system, Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(_kafka.BootstrapServers),
            new BusWriterOptions(16, TimeSpan.FromSeconds(5), MaxBacklog: 100, BacklogWait: wait), new EmbeddedTopicProvisioner(_kafka, 2), backlog);

    private static ProducerRecord<byte[]?, byte[]>[] Records() =>
        EventIngress.ToRecords([new LogEvent { Type = "backlog", Host = "h", Message = "m" }], null);

    [Fact]
    public async Task A_request_past_the_backlog_waits_for_the_pump_and_is_taken_once_it_caught_up()
    {
        var backlog = new SetBacklog { Value = 500 };
        await using var writer = Writer(backlog, TimeSpan.FromSeconds(30));

        var submit = writer.SubmitAsync(Records(), CancellationToken.None);
        await Task.Delay(200); // the request must still be waiting: nothing lets it through yet
        Assert.False(submit.IsCompleted);
        Assert.Equal(0, writer.Acknowledged);

        Interlocked.Exchange(ref backlog.Value, 50); // the pump caught up
        var (outcome, error) = await submit.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(IngressOutcome.Durable, outcome);
        Assert.Null(error);
        Assert.Equal(1, writer.Acknowledged);
    }

    [Fact]
    public async Task A_request_is_refused_naming_the_limit_when_the_pump_does_not_catch_up_in_time()
    {
        await using var writer = Writer(new SetBacklog { Value = 500 }, TimeSpan.FromMilliseconds(100));

        var (outcome, error) = await writer.SubmitAsync(Records(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(IngressOutcome.Saturated, outcome);
        Assert.Contains("nwdp.ingress.max-bus-backlog = 100", error!.Message);
        Assert.Contains("nwdp.ingress.backlog-wait", error.Message);
        Assert.Equal(0, writer.Acknowledged);
    }

    [Fact]
    public async Task With_no_wait_a_request_past_the_backlog_is_refused_at_once()
    {
        await using var writer = Writer(new SetBacklog { Value = 500 }, TimeSpan.Zero);

        var (outcome, _) = await writer.SubmitAsync(Records(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(IngressOutcome.Saturated, outcome);
    }

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _kafka.Dispose();
    }
}
