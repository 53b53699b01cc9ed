using Confluent.Kafka;

namespace NeverwinterDP.Actors.Kafka.Messages;

/// <summary>Something whose offsets can be committed: one offset or a batch of them.</summary>
public interface ICommittable
{
    /// <summary>Commits (offset + 1 of the highest record per partition) through the consumer that read it.</summary>
    Task Commit();

    /// <summary>How many offsets this stands for (for batching).</summary>
    long BatchSize { get; }
}

/// <summary>The position of one consumed record.</summary>
public interface ICommittableOffset : ICommittable
{
    string GroupId { get; }
    TopicPartitionOffset Offset { get; }
}

/// <summary>The consumer that can commit on behalf of an offset (the stage's own consumer).</summary>
internal interface ICommitterEndpoint
{
    /// <summary>Commits the given next-offsets (already +1).</summary>
    Task Commit(IReadOnlyList<TopicPartitionOffset> offsets);
}

/// <summary>A record with the means to commit its offset after processing.</summary>
public sealed record CommittableMessage<TKey, TValue>(ConsumeResult<TKey, TValue> Record, ICommittableOffset CommittableOffset);

/// <summary>
/// Records in the order each partition had them, with the highest offset per partition ready to commit after
/// all of them are processed (one commit for the whole batch instead of one offset per record).
/// </summary>
public sealed record CommittableBatch<TKey, TValue>(IReadOnlyList<ConsumeResult<TKey, TValue>> Records, CommittableOffsetBatch Offsets);

internal sealed class CommittableOffset : ICommittableOffset
{
    internal CommittableOffset(ICommitterEndpoint endpoint, string groupId, TopicPartitionOffset offset)
    {
        Endpoint = endpoint;
        GroupId = groupId;
        Offset = offset;
    }

    internal ICommitterEndpoint Endpoint { get; }
    public string GroupId { get; }
    public TopicPartitionOffset Offset { get; }
    public long BatchSize => 1;

    public Task Commit() => Endpoint.Commit([new TopicPartitionOffset(Offset.TopicPartition, Offset.Offset + 1)]);

    public override string ToString() => $"CommittableOffset({Offset})";
}

/// <summary>The highest offset per partition of many committable offsets; committing commits each once.</summary>
public sealed class CommittableOffsetBatch : ICommittable
{
    private readonly Dictionary<ICommitterEndpoint, Dictionary<TopicPartition, long>> _offsets = new();

    public static CommittableOffsetBatch Empty => new();

    public long BatchSize { get; private set; }

    /// <summary>The highest record offset per partition in this batch.</summary>
    public IReadOnlyDictionary<TopicPartition, long> Offsets =>
        _offsets.Values.SelectMany(d => d).ToDictionary(kv => kv.Key, kv => kv.Value);

    public CommittableOffsetBatch Updated(ICommittable committable)
    {
        switch (committable)
        {
            case CommittableOffset offset:
                Add(offset.Endpoint, offset.Offset.TopicPartition, offset.Offset.Offset.Value);
                BatchSize++;
                break;
            case CommittableOffsetBatch batch:
                foreach (var (endpoint, offsets) in batch._offsets)
                    foreach (var (tp, o) in offsets) Add(endpoint, tp, o);
                BatchSize += batch.BatchSize;
                break;
            default:
                throw new ArgumentException($"unknown committable {committable.GetType().Name}", nameof(committable));
        }
        return this;
    }

    public Task Commit()
    {
        if (_offsets.Count == 0) return Task.CompletedTask;
        var commits = _offsets.Select(e => e.Key.Commit(
            e.Value.Select(kv => new TopicPartitionOffset(kv.Key, kv.Value + 1)).ToArray()));
        return Task.WhenAll(commits);
    }

    /// <summary>
    /// A copy without the offsets of the partitions <paramref name="drop"/> picks (records whose partition went to
    /// another consumer while they were processed: the new owner reads them again). <see cref="BatchSize"/> is kept.
    /// </summary>
    public CommittableOffsetBatch Without(Func<TopicPartition, bool> drop)
    {
        var copy = new CommittableOffsetBatch { BatchSize = BatchSize };
        foreach (var (endpoint, offsets) in _offsets)
            foreach (var (tp, o) in offsets)
                if (!drop(tp)) copy.Add(endpoint, tp, o);
        return copy;
    }

    /// <summary>Adds <paramref name="count"/> records of one partition read through <paramref name="endpoint"/>, the highest at <paramref name="offset"/>.</summary>
    internal CommittableOffsetBatch Updated(ICommitterEndpoint endpoint, TopicPartition tp, long offset, int count)
    {
        Add(endpoint, tp, offset);
        BatchSize += count;
        return this;
    }

    private void Add(ICommitterEndpoint endpoint, TopicPartition tp, long offset)
    {
        if (!_offsets.TryGetValue(endpoint, out var map)) _offsets[endpoint] = map = new Dictionary<TopicPartition, long>();
        if (!map.TryGetValue(tp, out var existing) || offset > existing) map[tp] = offset;
    }

    public override string ToString() => $"CommittableOffsetBatch({string.Join(", ", Offsets.Select(kv => $"{kv.Key}@{kv.Value}"))})";
}
