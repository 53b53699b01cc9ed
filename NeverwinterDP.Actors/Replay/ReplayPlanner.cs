using System.Globalization;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Replay;

/// <summary>
/// Turns a <see cref="ReplayRequest"/> into offsets per partition: times through Kafka's offsets-for-times (the first
/// record at or after the time), checked against what the partition still holds, so a range that has left Kafka's
/// retention is refused with what is still there instead of replaying a silent part of it.
/// </summary>
public sealed class ReplayPlanner(KafkaClients kafka, TimeSpan timeout)
{
    public IReadOnlyList<PartitionRange> Plan(ReplayRequest request)
    {
        if (request.Problem() is { } problem) throw new ReplayRequestException(problem);
        var topic = request.SourceTopic;
        var partitions = Partitions(kafka, topic, timeout);
        if (partitions.Count == 0)
            throw new ReplayRequestException($"topic {topic} does not exist{(request.Type is not null ? $" (no events of type '{request.Type}' reached the bus)" : "")}", notFound: true);
        if (request.Partition is { } only)
        {
            if (!partitions.Contains(only)) throw new ReplayRequestException($"--partition {only}: topic {topic} has partitions 0..{partitions.Max()}");
            partitions = [only];
        }

        using var consumer = ReplayKafka.Consumer(kafka, "nwdp-replay-plan");
        var ranges = new List<PartitionRange>();
        var gone = new List<string>();
        foreach (var p in partitions)
        {
            var tp = new TopicPartition(topic, p);
            var w = consumer.QueryWatermarkOffsets(tp, timeout);
            long low = w.Low.Value, high = w.High.Value;
            long start, end;
            if (request.FromOffset is { } fo)
            {
                if (fo < low) gone.Add(StillThere(consumer, tp, low, high, $"offset {fo}"));
                start = Math.Max(fo, low);
            }
            else
            {
                var from = request.From!.Value;
                if (low > 0 && high > low && TimestampAt(consumer, tp, low) is { } oldest && oldest > from)
                    gone.Add(StillThere(consumer, tp, low, high, Time(from)));
                start = OffsetForTime(consumer, tp, from, low, high);
            }
            end = request.ToOffset is { } to ? Math.Min(to, high) : request.To is { } t ? OffsetForTime(consumer, tp, t, low, high) : high;
            ranges.Add(new PartitionRange(p, start, Math.Max(start, end)));
        }
        if (gone.Count > 0)
            throw new ReplayRangeException($"the range has left Kafka's retention: {string.Join("; ", gone)}");
        return ranges;
    }

    /// <summary>The partitions of <paramref name="topic"/> (none when it does not exist).</summary>
    public static List<int> Partitions(KafkaClients kafka, string topic, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        Librdkafka.EnsureLoaded();
        using var admin = new AdminClientBuilder(kafka.Admin()).Build();
        // The whole cluster's metadata: asking for one topic would create it on a broker that auto-creates topics.
        var metadata = admin.GetMetadata(timeout).Topics.FirstOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.IsError) return [];
        return metadata.Partitions.Select(p => p.PartitionId).Order().ToList();
    }

    /// <summary>
    /// The first offset whose record's timestamp is at or after <paramref name="ms"/> (<paramref name="high"/> if none).
    /// Kafka answers from its time index; a broker that cannot (the embedded mock broker answers -1 for every time) is
    /// searched by halves on the records' timestamps, which assumes timestamps grow with offsets (as ingress writes them).
    /// </summary>
    public long OffsetForTime(IConsumer<byte[]?, byte[]> consumer, TopicPartition tp, long ms, long low, long high)
    {
        if (high <= low) return high;
        var answer = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(ms, TimestampType.CreateTime))], timeout)[0].Offset;
        if (answer.Value >= 0) return Math.Clamp(answer.Value, low, high);
        // -1: no record at or after ms, says Kafka; believe it only if the last record agrees.
        if (TimestampAt(consumer, tp, high - 1) is not { } last || last < ms) return high;
        long lo = low, hi = high - 1; // hi's record is at or after ms
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            if (TimestampAt(consumer, tp, mid) is { } ts && ts >= ms) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>The timestamp of the record at <paramref name="offset"/> (or the next one present), null if none arrives in time.</summary>
    public long? TimestampAt(IConsumer<byte[]?, byte[]> consumer, TopicPartition tp, long offset)
    {
        consumer.Assign(new TopicPartitionOffset(tp, offset));
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                if (r.IsPartitionEOF) return null;
                return r.Message.Timestamp.UnixTimestampMs;
            }
            return null;
        }
        finally
        {
            consumer.Unassign();
        }
    }

    private string StillThere(IConsumer<byte[]?, byte[]> consumer, TopicPartition tp, long low, long high, string asked)
    {
        var first = TimestampAt(consumer, tp, low);
        var last = high > low ? TimestampAt(consumer, tp, high - 1) : null;
        var times = first is { } f && last is { } l ? $" ({Time(f)} to {Time(l)})" : "";
        return $"{tp.Topic} partition {tp.Partition.Value} starts at {asked}, but holds only offsets {low}..{high - 1}{times}";
    }

    public static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>Plain consumers for replays: manual assignment, no automatic commits, partition ends reported.</summary>
public static class ReplayKafka
{
    /// <param name="reset">Where a position Kafka no longer holds goes: the earliest record, or an error (a resumed job
    /// must not skip records silently).</param>
    public static IConsumer<byte[]?, byte[]> Consumer(KafkaClients kafka, string groupId, AutoOffsetReset reset = AutoOffsetReset.Earliest)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        Librdkafka.EnsureLoaded();
        var config = kafka.Consumer(groupId);
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = reset;
        return new ConsumerBuilder<byte[]?, byte[]>(config).Build();
    }

    /// <summary>A producer for <c>--to-topic</c>: acks=all, idempotent.</summary>
    public static IProducer<byte[]?, byte[]> Producer(KafkaClients kafka)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        Librdkafka.EnsureLoaded();
        var config = kafka.Producer();
        config.Acks = Acks.All;
        config.EnableIdempotence = true;
        return new ProducerBuilder<byte[]?, byte[]>(config).Build();
    }

    public static string Text(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var v) ? System.Text.Encoding.UTF8.GetString(v) : "";
}
