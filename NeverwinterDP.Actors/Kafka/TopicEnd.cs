using Confluent.Kafka;

namespace NeverwinterDP.Actors.Kafka;

/// <summary>
/// Reading partitions up to their end, as the mirror reads its positions, pause flag, offset syncs and checkpoints: a
/// consumer that never commits, reads committed records only and is told of each partition's end (partition EOF, which
/// <c>read_committed</c> places at the last stable offset, so an open transaction's records are not waited for).
/// </summary>
public static class TopicEnd
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>A reader for <see cref="ReadToEnd"/> built from <paramref name="config"/> (its group id is never committed to).</summary>
    public static IConsumer<byte[]?, byte[]?> Reader(ConsumerConfig config)
    {
        config.EnableAutoCommit = false;
        config.EnablePartitionEof = true;
        config.IsolationLevel = IsolationLevel.ReadCommitted;
        return new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
    }

    /// <summary>
    /// Hands <paramref name="onRecord"/> every record of the <paramref name="partitions"/> partitions assigned to
    /// <paramref name="reader"/> up to their ends, and returns each one's end offset. A Kafka error (timed out) names
    /// <paramref name="what"/> when the ends are not all reached within <paramref name="limit"/> of a quiet read.
    /// </summary>
    public static Dictionary<TopicPartition, long> ReadToEnd(IConsumer<byte[]?, byte[]?> reader, int partitions, TimeSpan limit, string what,
        Action<ConsumeResult<byte[]?, byte[]?>> onRecord, CancellationToken stop = default)
    {
        var ends = new Dictionary<TopicPartition, long>();
        var deadline = DateTime.UtcNow + limit;
        while (ends.Count < partitions)
        {
            stop.ThrowIfCancellationRequested();
            var result = reader.Consume(Poll);
            if (result is null)
            {
                if (DateTime.UtcNow > deadline)
                    throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"reading {what} did not reach its end within {limit.TotalSeconds:0.#} s"));
                continue;
            }
            if (result.IsPartitionEOF)
            {
                ends[result.TopicPartition] = result.Offset.Value;
                continue;
            }
            onRecord(result);
        }
        return ends;
    }

    /// <summary>
    /// Assigns <paramref name="reader"/> again at the <paramref name="ends"/> a <see cref="ReadToEnd"/> returned, so that
    /// the next <see cref="ReadToEnd"/> reads what came since. Needed by a reader kept across reads: librdkafka tells a
    /// partition's end once per arrival there, so without new records a second read would never be told and time out;
    /// assigning again starts the partition's fetch afresh, and it is told again.
    /// </summary>
    public static void ResumeAt(IConsumer<byte[]?, byte[]?> reader, IReadOnlyDictionary<TopicPartition, long> ends) =>
        reader.Assign(ends.Select(e => new TopicPartitionOffset(e.Key, e.Value)));
}