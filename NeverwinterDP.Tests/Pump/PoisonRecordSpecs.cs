using System.Collections.Concurrent;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Pump;

/// <summary>Issue 13, poison records at the pump: a record a sink rejects goes to the dead-letter topic once and the pump goes on.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PoisonRecordSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO", output: output)
{
    [Fact]
    public async Task A_record_the_sink_rejects_goes_to_the_dead_letter_topic_once_is_not_written_again_and_the_rest_is_delivered()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("poison-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 1);
        using var producer = ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer();
        for (var i = 0; i < 50; i++)
            producer.Produce(topic, new Message<byte[]?, byte[]>
            {
                Key = BitConverter.GetBytes(i),
                Value = LogEventAvro.EncodeFramed(new LogEvent { Message = i == 17 ? "poison" : "m-" + i, Host = "h", SystemTs = 1_700_000_000_000 }),
            });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));

        var sink = new RejectingSink("poison");
        var dlq = KafkaDeadLetterQueue.TopicFor(sink.Name);
        kafka.CreateTopic(dlq, 1);
        using var deadLetters = new KafkaDeadLetterQueue(ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray)
            .WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer());
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var pump = new DataPump(Sys, consumer, sink, new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
            BatchSize = 10, BatchInterval = TimeSpan.FromMilliseconds(50), FlushInterval = TimeSpan.FromMilliseconds(200),
            RetryMinBackoff = TimeSpan.FromMilliseconds(10), RetryMaxBackoff = TimeSpan.FromMilliseconds(20),
        }, deadLetters);
        await pump.StartAsync(CancellationToken.None);
        await AwaitAssertAsync(() => Assert.Equal(50, pump.Stats.Committed), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

        // More records after the poison: delivered, and the poison is not tried again.
        for (var i = 50; i < 60; i++)
            producer.Produce(topic, new Message<byte[]?, byte[]> { Key = BitConverter.GetBytes(i), Value = LogEventAvro.EncodeFramed(new LogEvent { Message = "m-" + i, Host = "h" }) });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        await AwaitAssertAsync(() => Assert.Equal(60, pump.Stats.Committed), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await pump.StopAsync();

        Assert.Equal(1, sink.Attempts[17]); // rejected once, never written again
        Assert.All(sink.Attempts, a => Assert.Equal(1, a.Value));
        Assert.Equal(Enumerable.Range(0, 60).Where(i => i != 17).Select(i => "m-" + i), sink.Delivered.OrderBy(m => int.Parse(m[2..])));
        Assert.Equal(1, pump.Stats.Rejected);

        // On the dead-letter topic: exactly the poison record, and still only it a moment later (no loop).
        Assert.Equal(1, NeverwinterDP.Tests.Integration.Spillover.SpillBus.Count(kafka.BootstrapServers, dlq, 1));
        await Task.Delay(500);
        Assert.Equal(1, NeverwinterDP.Tests.Integration.Spillover.SpillBus.Count(kafka.BootstrapServers, dlq, 1));
        Assert.Equal(1, sink.Attempts[17]);
    }

    /// <summary>Delivers every record but the one whose message is <paramref name="poison"/>, which it rejects; counts the attempts per offset.</summary>
    private sealed class RejectingSink(string poison) : ISink
    {
        private readonly ConcurrentQueue<string> _delivered = new();

        public ConcurrentDictionary<long, int> Attempts { get; } = new();
        public IReadOnlyList<string> Delivered => _delivered.ToList();
        public string Name => "rejecting";
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
        {
            var outcomes = new List<SinkOutcome>();
            var reasons = new List<string?>();
            foreach (var r in batch)
            {
                Attempts.AddOrUpdate(r.Offset, 1, (_, n) => n + 1);
                var rejected = r.Event.Message == poison;
                if (!rejected) _delivered.Enqueue(r.Event.Message);
                outcomes.Add(rejected ? SinkOutcome.Rejected : SinkOutcome.Delivered);
                reasons.Add(rejected ? "the store refuses this record" : null);
            }
            return Task.FromResult(new SinkWriteResult(outcomes, reasons));
        }

        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "ok"));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
