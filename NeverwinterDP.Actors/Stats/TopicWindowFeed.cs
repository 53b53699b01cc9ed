using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// Reads a control topic that every node publishes to (<c>nwdp.stats</c>, <c>nwdp.coverage</c>) for a node's own
/// cluster-wide view: every partition assigned (no consumer group, nothing committed), starting at the records of the
/// last <paramref name="window"/> (Kafka timestamps), so every node holds every node's records. A record
/// <paramref name="take"/> refuses with a <see cref="FormatException"/> or <see cref="System.Text.Json.JsonException"/>
/// is skipped with a warning. <paramref name="caughtUp"/> is called once, when the records the topic held at the start
/// were all taken.
/// </summary>
public sealed class TopicWindowFeed(string topic, KafkaClients clients, TimeSpan window, Action<byte[]> take, Action<string>? warn = null, Action? caughtUp = null)
    : IAsyncDisposable
{
    private bool _caughtUp;

    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);

    private void Run()
    {
        Librdkafka.EnsureLoaded();
        // The group is required by the client; never joined (partitions are assigned) and never committed.
        var config = new ConsumerConfig(clients.Consumer("nwdp-feed-" + Guid.NewGuid().ToString("N")))
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
                var start = StartPositions(consumer);
                consumer.Assign(start);
                var partitions = consumer.Assignment.Count;
                var behind = _caughtUp ? null : Behind(consumer, start);
                var lastCheck = DateTime.UtcNow;
                while (!_stop.IsCancellationRequested)
                {
                    if (behind is { Count: 0 })
                    {
                        behind = null;
                        _caughtUp = true;
                        caughtUp?.Invoke();
                    }
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (behind is not null && result?.Message is not null
                        && behind.TryGetValue(result.Partition.Value, out var end) && result.Offset.Value + 1 >= end)
                        behind.Remove(result.Partition.Value);
                    if (result?.Message?.Value is { } value)
                    {
                        try
                        {
                            take(value);
                        }
                        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
                        {
                            warn?.Invoke($"skipped a record of {topic} that cannot be read ({result.TopicPartitionOffset}): {e.Message}");
                        }
                    }
                    // Partitions added to the topic later are picked up within a minute.
                    if (DateTime.UtcNow - lastCheck > TimeSpan.FromMinutes(1))
                    {
                        lastCheck = DateTime.UtcNow;
                        if (Partitions().Count != partitions) break;
                    }
                }
                consumer.Close();
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                warn?.Invoke($"reading {topic} failed ({e.Message}); retrying");
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            }
        }
    }

    /// <summary>Per partition with records past its start position, the offset after its last record now (its high watermark).</summary>
    private static Dictionary<int, long> Behind(IConsumer<Ignore, byte[]> consumer, List<TopicPartitionOffset> start)
    {
        var behind = new Dictionary<int, long>();
        foreach (var s in start)
        {
            var marks = consumer.QueryWatermarkOffsets(s.TopicPartition, TimeSpan.FromSeconds(10));
            var from = s.Offset == Offset.Beginning || s.Offset.Value < 0 ? marks.Low.Value : s.Offset.Value;
            if (marks.High.Value > from) behind[s.Partition.Value] = marks.High.Value;
        }
        return behind;
    }

    private List<TopicPartition> Partitions()
    {
        using var admin = new AdminClientBuilder(clients.Admin()).Build();
        var found = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.IsError || found.Partitions.Count == 0)
            throw new InvalidOperationException($"topic {topic} not found{(found is { Error.IsError: true } ? ": " + found.Error.Reason : "")}");
        return found.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    }

    private List<TopicPartitionOffset> StartPositions(IConsumer<Ignore, byte[]> consumer)
    {
        var partitions = Partitions();
        // Kafka timestamps are wall-clock time, whatever clock the node counts with.
        var since = new Timestamp(DateTime.UtcNow - window - TimeSpan.FromMinutes(5));
        try
        {
            // No offset for the time (-1) is what Kafka answers for a partition with nothing newer, but also what the
            // embedded broker (librdkafka's mock cluster) answers for every lookup by time, records or not: reading
            // such a partition from the beginning costs at most its old records (the store drops those outside the
            // window), while reading it from the end lost a restarted node every count published before its start.
            return consumer.OffsetsForTimes(partitions.Select(p => new TopicPartitionTimestamp(p, since)), TimeSpan.FromSeconds(10))
                .Select(o => o.Offset == Offset.End || o.Offset.Value < 0 ? new TopicPartitionOffset(o.TopicPartition, Offset.Beginning) : o)
                .ToList();
        }
        catch (KafkaException)
        {
            return partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)).ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
    }
}
