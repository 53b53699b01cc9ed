using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// The medium the pump nodes share their watermark observations and completions on (<see cref="WatermarkOptions.Share"/>):
/// each node's <see cref="View"/> holds every node's observations and the completions in the order they were announced.
/// </summary>
public interface IWatermarkExchange
{
    SharedHours View { get; }

    /// <summary>True once this node read both topics up to where they ended when it started: before, it decides nothing.</summary>
    bool CaughtUp { get; }

    /// <summary>Shares this node's observations (each replaces the node's earlier record of its hour).</summary>
    Task ShareAsync(IReadOnlyList<ObservedHour> hours, CancellationToken cancellation);

    /// <summary>Forgets this node's observations of hours it pruned (tombstones, so compaction drops them).</summary>
    Task RetractAsync(IReadOnlyList<string> keys, CancellationToken cancellation);

    /// <summary>Announces a completion version; it counts once read back (the first record of a version wins).</summary>
    Task PublishAsync(HourCompletion completion, CancellationToken cancellation);
}

/// <summary>
/// <see cref="IWatermarkExchange"/> on Kafka: observations on the compacted <see cref="TopicNames.WatermarkObservations"/>
/// (key <c>sink|topic|hour_ms|node</c>), completions on the compacted <see cref="TopicNames.Watermarks"/> (key
/// <c>sink|topic|hour_ms</c>), both one partition, so every node reads the completions in one order. Every node reads
/// both from their first record (no consumer group, nothing committed): what it knows survives a restart of any node or
/// of all of them, and a node that starts late learns what the others read before it.
/// </summary>
public sealed class KafkaWatermarkExchange : IWatermarkExchange, IAsyncDisposable
{
    private readonly KafkaClients _clients;
    private readonly ITopicProvisioner _topics;
    private readonly Action<string>? _warn;
    private readonly CancellationTokenSource _stop = new();
    private IProducer<byte[], byte[]?>? _producer;
    private Task _loop = Task.CompletedTask;
    private volatile bool _caughtUp;
    private int _disposed;

    /// <param name="self">This node's id (the observer of its own records).</param>
    public KafkaWatermarkExchange(KafkaClients clients, ITopicProvisioner topics, Func<string> self, int maxArrived, Action<string>? warn = null)
    {
        _clients = clients;
        _topics = topics;
        _warn = warn;
        View = new SharedHours(self, maxArrived);
    }

    public SharedHours View { get; }

    public bool CaughtUp => _caughtUp;

    /// <summary>Creates the topics when missing and starts reading them from their first records.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        Librdkafka.EnsureLoaded();
        await _topics.EnsureCompactedAsync(TopicNames.WatermarkObservations, cancellation).ConfigureAwait(false);
        await _topics.EnsureCompactedAsync(TopicNames.Watermarks, cancellation).ConfigureAwait(false);
        _producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig(_clients.Producer()) { Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 }).Build();
        _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    public async Task ShareAsync(IReadOnlyList<ObservedHour> hours, CancellationToken cancellation)
    {
        var producer = _producer ?? throw NotStarted();
        await Task.WhenAll(hours.Select(h => producer.ProduceAsync(new TopicPartition(TopicNames.WatermarkObservations, 0),
            new Message<byte[], byte[]?> { Key = ObservedHour.KeyBytes(h.Key), Value = h.ToJson() }, cancellation))).ConfigureAwait(false);
        foreach (var h in hours) View.ApplyOwn(h.Key, h);
    }

    public async Task RetractAsync(IReadOnlyList<string> keys, CancellationToken cancellation)
    {
        var producer = _producer ?? throw NotStarted();
        await Task.WhenAll(keys.Select(k => producer.ProduceAsync(new TopicPartition(TopicNames.WatermarkObservations, 0),
            new Message<byte[], byte[]?> { Key = ObservedHour.KeyBytes(k), Value = null }, cancellation))).ConfigureAwait(false);
        foreach (var k in keys) View.ApplyOwn(k, null);
    }

    public async Task PublishAsync(HourCompletion completion, CancellationToken cancellation)
    {
        var producer = _producer ?? throw NotStarted();
        await producer.ProduceAsync(new TopicPartition(TopicNames.Watermarks, 0), new Message<byte[], byte[]?>
        {
            Key = Encoding.UTF8.GetBytes($"{completion.Sink}|{completion.Topic}|{completion.HourMs}"),
            Value = completion.ToJson(),
        }, cancellation).ConfigureAwait(false);
    }

    private static InvalidOperationException NotStarted() => new("the watermark exchange is not started");

    private void Run()
    {
        // The group is required by the client; never joined (the partitions are assigned) and never committed.
        var config = new ConsumerConfig(_clients.Consumer("nwdp-watermarks-" + Guid.NewGuid().ToString("N")))
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        var observations = new TopicPartition(TopicNames.WatermarkObservations, 0);
        var completions = new TopicPartition(TopicNames.Watermarks, 0);
        var next = new Dictionary<TopicPartition, long> { [observations] = 0, [completions] = 0 };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
                // Where it ended when this node started (or restarted its reader): caught up once read that far.
                var ends = new Dictionary<TopicPartition, long>();
                foreach (var tp in next.Keys) ends[tp] = EndOf(consumer, tp);
                consumer.Assign(next.Select(n => new TopicPartitionOffset(n.Key, n.Value == 0 ? Offset.Beginning : new Offset(n.Value))));
                while (!_stop.IsCancellationRequested)
                {
                    if (!_caughtUp && ends.All(e => next[e.Key] >= e.Value)) _caughtUp = true;
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (result?.Message is not { } message) continue;
                    next[result.TopicPartition] = result.Offset.Value + 1;
                    try
                    {
                        if (result.Topic == TopicNames.WatermarkObservations)
                            View.ApplyObservation(message.Key is null ? "" : Encoding.UTF8.GetString(message.Key), message.Value);
                        else if (message.Value is not null)
                            View.ApplyCompletion(HourCompletion.FromJson(message.Value));
                    }
                    catch (MalformedRecordException e)
                    {
                        _warn?.Invoke($"watermarks: skipped a record that is not ours ({result.TopicPartitionOffset}): {e.Message}");
                    }
                }
                consumer.Close();
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                _warn?.Invoke($"watermarks: reading {TopicNames.WatermarkObservations} and {TopicNames.Watermarks} failed ({e.Message}); retrying");
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static long EndOf(IConsumer<byte[]?, byte[]?> consumer, TopicPartition tp)
    {
        try
        {
            return consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_UnknownPartition or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart)
        {
            // Not created yet (a broker without CreateTopics creates it on the first write): nothing to catch up on.
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _producer?.Flush(TimeSpan.FromSeconds(5));
        _producer?.Dispose();
        _stop.Dispose();
    }
}
