using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// Reads <c>nwdp.stats</c> into a <see cref="StatsStore"/>: every partition assigned (no consumer group, nothing
/// committed), starting at the records of the last <see cref="StatsOptions.Window"/> (Kafka timestamps), so every
/// node holds every node's counts. Undecodable records are skipped with a warning.
/// </summary>
public sealed class StatsFeed(string bootstrapServers, StatsStore store, StatsOptions options, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);

    private void Run()
    {
        Librdkafka.EnsureLoaded();
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            // Required by the client; never joined (partitions are assigned) and never committed.
            GroupId = "nwdp-stats-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
                consumer.Assign(StartPositions(consumer));
                var partitions = consumer.Assignment.Count;
                var lastCheck = DateTime.UtcNow;
                while (!_stop.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (result?.Message?.Value is { } value)
                    {
                        try
                        {
                            store.Add(StatsRecord.FromJson(value));
                        }
                        catch (System.Text.Json.JsonException e)
                        {
                            warn?.Invoke($"skipped a record of {TopicNames.Stats} that is not a stats record ({result.TopicPartitionOffset}): {e.Message}");
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
                warn?.Invoke($"reading {TopicNames.Stats} failed ({e.Message}); retrying");
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            }
        }
    }

    private List<TopicPartition> Partitions()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var topic = admin.GetMetadata(TopicNames.Stats, TimeSpan.FromSeconds(10)).Topics.FirstOrDefault(t => t.Topic == TopicNames.Stats);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
            throw new InvalidOperationException($"topic {TopicNames.Stats} not found{(topic is { Error.IsError: true } ? ": " + topic.Error.Reason : "")}");
        return topic.Partitions.Select(p => new TopicPartition(TopicNames.Stats, p.PartitionId)).ToList();
    }

    private List<TopicPartitionOffset> StartPositions(IConsumer<Ignore, byte[]> consumer)
    {
        var partitions = Partitions();
        // Kafka timestamps are wall-clock time, whatever clock the node counts with.
        var since = new Timestamp(DateTime.UtcNow - options.Window - TimeSpan.FromMinutes(5));
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
