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
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Pump;

[Trait("Category", TestCategories.Integration)]
public sealed class DataPumpSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO", output: output)
{
    [Fact]
    public async Task A_sink_failure_restarts_the_pump_from_the_committed_offsets_and_nothing_is_lost()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("pump-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 4);
        const int n = 5000;
        PumpTestKit.ProduceNumbered(kafka, topic, n);

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

    [Fact]
    public async Task A_batch_is_cut_at_batch_bytes_before_batch_size_or_batch_interval()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("pump-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 1);
        var weight = Produce(kafka, topic, 30) + 1L; // the pump weighs a record as its bytes on the bus + 1
        var sink = new RecordingSink(_ => SinkOutcome.Delivered);
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var pump = new DataPump(Sys, consumer, sink, new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
            BatchSize = 1000, BatchBytes = 3 * weight, BatchInterval = TimeSpan.FromSeconds(30), FlushInterval = TimeSpan.FromMilliseconds(200),
        }, new RecordingDeadLetters());
        await pump.StartAsync(CancellationToken.None);
        // Within the 30 s batch interval: only the byte bound can have cut the batches.
        await AwaitAssertAsync(() => Assert.Equal(30, sink.Batches.Sum()), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        await pump.StopAsync();

        Assert.All(sink.Batches, size => Assert.InRange(size, 1, 3));
        Assert.True(sink.Batches.Count >= 10, $"{sink.Batches.Count} batches");
    }

    [Fact]
    public async Task Retries_stop_after_retry_max_attempts_and_the_records_are_dead_lettered()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("pump-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 1);
        Produce(kafka, topic, 5);
        var sink = new RecordingSink(_ => SinkOutcome.Errored);
        var deadLetters = new RecordingDeadLetters();
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var pump = new DataPump(Sys, consumer, sink, new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
            BatchInterval = TimeSpan.FromMilliseconds(50), FlushInterval = TimeSpan.FromMilliseconds(200),
            RetryMinBackoff = TimeSpan.FromMilliseconds(10), RetryMaxBackoff = TimeSpan.FromMilliseconds(20), RetryMaxAttempts = 3,
        }, deadLetters);
        await pump.StartAsync(CancellationToken.None);
        await AwaitAssertAsync(() => Assert.Equal(5, deadLetters.Letters.Count), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        await AwaitAssertAsync(() => Assert.Equal(5, pump.Stats.Committed), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        await pump.StopAsync();

        Assert.All(deadLetters.Letters, l => Assert.StartsWith("gave up after 3 attempts", l.Reason));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), sink.Attempts.Keys.Order());
        Assert.All(sink.Attempts.Values, attempts => Assert.Equal(3, attempts));
    }

    [Fact]
    public async Task A_pump_whose_sink_never_answers_still_closes_its_consumer_when_it_stops()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("pump-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 1);
        Produce(kafka, topic, 5);
        var sink = new HungSink();
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var pump = new DataPump(Sys, consumer, sink, new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
            BatchInterval = TimeSpan.FromMilliseconds(50), FlushInterval = TimeSpan.FromMilliseconds(200),
        }, new RecordingDeadLetters());
        await pump.StartAsync(CancellationToken.None);
        await sink.Writing.WaitAsync(TimeSpan.FromSeconds(20));
        var control = pump.Control!;

        // The write never completes, not even when cancelled (a driver stuck in a call): the drain cannot end.
        await pump.StopAsync(TimeSpan.FromSeconds(1));

        // The consumer left the group all the same: it would otherwise poll (a gone broker, after the node stopped) for ever.
        Assert.True(control.IsShutdown.IsCompleted, "the consumer is still running after the pump stopped");
    }

    /// <summary>Produces <paramref name="n"/> events of one size to <paramref name="topic"/>; returns a record's size in bytes.</summary>
    private static int Produce(EmbeddedKafka kafka, string topic, int n)
    {
        using var producer = ProducerSettings<byte[], byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer();
        var size = 0;
        for (var i = 0; i < n; i++)
        {
            var value = LogEventAvro.EncodeFramed(new LogEvent { Message = "m-" + i.ToString("D4"), Host = "h", SystemTs = 1_700_000_000_000 });
            size = value.Length;
            producer.Produce(topic, new Message<byte[], byte[]> { Key = BitConverter.GetBytes(i), Value = value });
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        return size;
    }

    /// <summary>Answers every record with <paramref name="outcome"/>; records the size of each write and the attempts per offset.</summary>
    private sealed class RecordingSink(Func<SinkRecord, SinkOutcome> outcome) : ISink
    {
        private readonly ConcurrentQueue<int> _batches = new();

        public IReadOnlyList<int> Batches => _batches.ToList();
        public ConcurrentDictionary<long, int> Attempts { get; } = new();
        public string Name => "recording";
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
        {
            _batches.Enqueue(batch.Count);
            foreach (var r in batch) Attempts.AddOrUpdate(r.Offset, 1, (_, n) => n + 1);
            return Task.FromResult(new SinkWriteResult(batch.Select(outcome).ToArray()));
        }

        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "ok"));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Takes the first write and never answers it, whatever the cancellation says.</summary>
    private sealed class HungSink : ISink
    {
        private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Writing => _writing.Task;
        public string Name => "hung";
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
        {
            _writing.TrySetResult();
            return new TaskCompletionSource<SinkWriteResult>().Task;
        }

        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "ok"));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
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
