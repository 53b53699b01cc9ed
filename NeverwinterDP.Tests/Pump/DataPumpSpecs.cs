using NeverwinterDP.Tests.Sinks.Compliance;
using System.Collections.Concurrent;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Pump;

public sealed class DataPumpSpecs(ITestOutputHelper output) : TestKit("akka.loglevel = INFO", output: output)
{
    [Fact]
    public async Task A_sink_failure_restarts_the_pump_from_the_committed_offsets_and_nothing_is_lost()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("pump-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 4);
        const int n = 5000;
        using (var producer = ProducerSettings<byte[], byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer())
        {
            for (var i = 0; i < n; i++)
                producer.Produce(topic, new Message<byte[], byte[]>
                {
                    Key = BitConverter.GetBytes(i),
                    Value = LogEventAvro.EncodeFramed(new LogEvent { Message = "m-" + i, Host = "h", SystemTs = 1_700_000_000_000 }),
                });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var sink = new FlakySink(failFlushes: 2);
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var pump = new DataPump(Sys, consumer, sink, new PumpOptions
        {
            BatchSize = 500, BatchInterval = TimeSpan.FromMilliseconds(50), FlushInterval = TimeSpan.FromMilliseconds(200),
            RetryMinBackoff = TimeSpan.FromMilliseconds(50), RetryMaxBackoff = TimeSpan.FromMilliseconds(200),
        }, new RecordingDeadLetters());
        await pump.StartAsync(CancellationToken.None);
        await AwaitAssertAsync(() => Assert.Equal(n, sink.Flushed.Count), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        await pump.StopAsync();

        Assert.Equal(2, pump.Stats.Restarts);
        Assert.Equal(Enumerable.Range(0, n).Select(i => "m-" + i).Order(), sink.Flushed.Values.Order());
        Assert.True(sink.Written > n, "records written before a failed flush are delivered again");
    }

    /// <summary>Keeps records only once flushed (like a store that loses unflushed data); the first flushes fail for good.</summary>
    private sealed class FlakySink(int failFlushes) : ISink
    {
        private readonly ConcurrentDictionary<(int, long), string> _pending = new();
        private int _failuresLeft = failFlushes;
        private int _written;

        public ConcurrentDictionary<(int, long), string> Flushed { get; } = new();
        public int Written => _written;
        public string Name => "flaky";
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
        {
            foreach (var r in batch) _pending[(r.Partition, r.Offset)] = r.Event.Message;
            Interlocked.Add(ref _written, batch.Count);
            return Task.FromResult(SinkWriteResult.AllDelivered(batch.Count));
        }

        public Task FlushAsync(CancellationToken cancellation)
        {
            if (Interlocked.Decrement(ref _failuresLeft) >= 0)
            {
                _pending.Clear();
                throw new RedeliveryRequiredException("the store lost what it had accepted", null);
            }
            foreach (var (k, v) in _pending) Flushed[k] = v;
            _pending.Clear();
            return Task.CompletedTask;
        }

        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "ok"));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
