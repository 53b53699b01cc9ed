using System.Collections.Concurrent;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>How many partitions a topic has: markers go into every one, and an hour is complete only when every one has them.</summary>
public interface IPartitionCounts
{
    /// <summary>The partitions of <paramref name="topic"/>; 0 when the topic does not exist (yet).</summary>
    int Of(string topic);
}

/// <summary>Partition counts from the cluster's metadata, each topic's kept for a minute (partitions are only ever added).</summary>
public sealed class KafkaPartitionCounts : IPartitionCounts, IDisposable
{
    private static readonly TimeSpan Freshness = TimeSpan.FromMinutes(1);
    private readonly IAdminClient _admin;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<string, (int Count, long At)> _known = new(StringComparer.Ordinal);

    public KafkaPartitionCounts(KafkaClients clients, TimeSpan? timeout = null)
    {
        Librdkafka.EnsureLoaded();
        _admin = new AdminClientBuilder(clients.Admin()).Build();
        _timeout = timeout ?? TimeSpan.FromSeconds(10);
    }

    public int Of(string topic)
    {
        var now = Environment.TickCount64;
        if (_known.TryGetValue(topic, out var known) && known.Count > 0 && now - known.At < Freshness.TotalMilliseconds) return known.Count;
        var metadata = _admin.GetMetadata(topic, _timeout).Topics.FirstOrDefault(t => t.Topic == topic);
        var count = metadata is null || metadata.Error.IsError ? 0 : metadata.Partitions.Count;
        _known[topic] = (count, now);
        return count;
    }

    private int _disposed;

    /// <summary>Idempotent: the container may see this instance under two services.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _admin.Dispose();
    }
}
