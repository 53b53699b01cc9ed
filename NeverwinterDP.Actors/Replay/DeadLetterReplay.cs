using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Replay;

/// <summary>Dead letters of one sink counted by reason and log type (<c>nwdp dlq list</c>).</summary>
public sealed record DeadLetterCount(string Sink, string Reason, string Type, long Count, int MaxAttempts);

/// <summary>One dead letter (<c>nwdp dlq show</c>): where it is on the DLQ topic, where it came from, why, and the event.</summary>
public sealed record DeadLetterEntry(int DlqPartition, long DlqOffset, string SourceTopic, int SourcePartition, long SourceOffset, string Reason, int Attempts,
    long TimestampMs, string Type, string Host, string Level, string Message, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// What one dead-letter replay did: <c>Read</c> letters past the group's position, <c>Matched</c> the reason filter,
/// <c>Delivered</c> to the sink, <c>Rejected</c> again (back on the DLQ with one more attempt), <c>Skipped</c> because they
/// hold no event (undecodable bytes).
/// </summary>
public sealed record DeadLetterReplayReport(string Sink, string? Reason, string Group, long Read, long Matched, long Delivered, long Rejected, long Skipped);

/// <summary>
/// Reads the dead-letter topics (<c>nwdp.dlq.&lt;sink&gt;</c>, written by <see cref="KafkaDeadLetterQueue"/>): counts,
/// shows, and replays them into their sink once the cause is fixed. A replay is a consumer group
/// (<c>nwdp-dlq-replay.&lt;sink&gt;</c>, one per reason filter) whose position is committed after each batch was
/// delivered and flushed, so each letter is replayed once; a letter refused again goes back to the DLQ with its attempt
/// count raised. The records keep their source topic, partition and offset, so the sink's idempotent keys are the ones
/// the pump would have used: a letter whose row is somehow already there adds nothing.
/// </summary>
public sealed class DeadLetterReplay(ReplayContext context)
{
    public const string GroupPrefix = "nwdp-dlq-replay.";

    // One replay of a sink's letters at a time on this node: two at once would both read past the same position.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _running = new(StringComparer.Ordinal);

    /// <summary>Counts per reason and type of every letter of <paramref name="sinks"/> (the topics that exist).</summary>
    public IReadOnlyList<DeadLetterCount> Count(IEnumerable<string> sinks)
    {
        var counts = new Dictionary<(string Sink, string Reason, string Type), (long Count, int Attempts)>();
        foreach (var sink in sinks)
            Scan(sink, (r, letter) =>
            {
                var key = (sink, letter.Reason, letter.Type);
                counts.TryGetValue(key, out var c);
                counts[key] = (c.Count + 1, Math.Max(c.Attempts, letter.Attempts));
                return true;
            });
        return counts.Select(kv => new DeadLetterCount(kv.Key.Sink, kv.Key.Reason, kv.Key.Type, kv.Value.Count, kv.Value.Attempts))
            .OrderBy(c => c.Sink, StringComparer.Ordinal).ThenByDescending(c => c.Count).ToList();
    }

    /// <summary>The first <paramref name="limit"/> letters of <paramref name="sink"/> whose reason contains <paramref name="reason"/>.</summary>
    public IReadOnlyList<DeadLetterEntry> Show(string sink, string? reason, int limit)
    {
        var entries = new List<DeadLetterEntry>();
        Scan(sink, (r, letter) =>
        {
            if (Matches(letter.Reason, reason)) entries.Add(letter);
            return entries.Count < limit;
        });
        return entries;
    }

    /// <summary>Replays the letters past the group's committed position (up to the topic's end when called) through the sink.</summary>
    public async Task<DeadLetterReplayReport> ReplayAsync(string sink, string? reason, CancellationToken cancellation)
    {
        var gate = _running.GetOrAdd(sink, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            return await ReplayOnceAsync(sink, reason, cancellation).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<DeadLetterReplayReport> ReplayOnceAsync(string sink, string? reason, CancellationToken cancellation)
    {
        var topic = KafkaDeadLetterQueue.TopicFor(sink);
        var group = GroupPrefix + sink + (reason is null ? "" : ".r-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reason)))[..8]);
        var partitions = ReplayPlanner.Partitions(context.Kafka, topic, context.Timeout);
        await using var target = context.CreateSink(sink);
        if (partitions.Count == 0) return new DeadLetterReplayReport(sink, reason, group, 0, 0, 0, 0, 0);
        await target.OpenAsync(cancellation).ConfigureAwait(false);
        var again = new AttemptCounting(context.DeadLetters);
        var delivery = new SinkDelivery(target, context.Retry, again);
        long read = 0, matched = 0, delivered = 0, rejected = 0, skipped = 0;
        await Task.Run(async () =>
        {
            using var consumer = ReplayKafka.Consumer(context.Kafka, group);
            var tps = partitions.Select(p => new TopicPartition(topic, p)).ToList();
            var committed = consumer.Committed(tps, context.Timeout).ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
            var open = new Dictionary<int, long>();
            var starts = new List<TopicPartitionOffset>();
            foreach (var tp in tps)
            {
                var w = consumer.QueryWatermarkOffsets(tp, context.Timeout);
                var start = Math.Max(committed.TryGetValue(tp.Partition.Value, out var c) && c >= 0 ? c : w.Low.Value, w.Low.Value);
                // Up to the end as it is now: letters refused again during this replay wait for the next one.
                if (start < w.High.Value)
                {
                    open[tp.Partition.Value] = w.High.Value;
                    starts.Add(new TopicPartitionOffset(tp, start));
                }
            }
            consumer.Assign(starts);
            while (open.Count > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                var batch = new List<SinkRecord>();
                var next = new Dictionary<int, long>();
                while (batch.Count < context.BatchSize && open.Count > 0)
                {
                    var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (r is null) { if (batch.Count > 0) break; continue; }
                    var p = r.Partition.Value;
                    if (!open.TryGetValue(p, out var end)) continue;
                    if (r.IsPartitionEOF || r.Offset.Value >= end) { open.Remove(p); consumer.Pause([r.TopicPartition]); continue; }
                    next[p] = r.Offset.Value + 1;
                    if (r.Offset.Value + 1 >= end) { open.Remove(p); consumer.Pause([r.TopicPartition]); }
                    read++;
                    var letter = Letter(r);
                    if (!Matches(letter.Reason, reason)) continue;
                    matched++;
                    if (letter.Reason.StartsWith("undecodable", StringComparison.Ordinal)) { skipped++; continue; }
                    var record = new SinkRecord(letter.SourceTopic, letter.SourcePartition, letter.SourceOffset, LogEventAvro.DecodeFramed(r.Message.Value));
                    again.Attempts[record] = letter.Attempts;
                    batch.Add(record);
                }
                if (batch.Count > 0)
                {
                    var report = await delivery.DeliverAsync(batch, cancellation).ConfigureAwait(false);
                    await delivery.FlushAsync(cancellation).ConfigureAwait(false);
                    delivered += report.Delivered;
                    rejected += report.DeadLettered;
                    again.Attempts.Clear();
                }
                // Committed only once the batch is in the sink (or back on the DLQ): each letter is replayed once.
                if (next.Count > 0) consumer.Commit(next.Select(kv => new TopicPartitionOffset(topic, kv.Key, kv.Value)));
            }
            consumer.Close();
        }, cancellation).ConfigureAwait(false);
        return new DeadLetterReplayReport(sink, reason, group, read, matched, delivered, rejected, skipped);
    }

    /// <summary>A reason filter matches a reason that contains it (case-insensitive): <c>--reason 22001</c>, <c>--reason "too long"</c>.</summary>
    public static bool Matches(string reason, string? filter) => filter is null || reason.Contains(filter, StringComparison.OrdinalIgnoreCase);

    private void Scan(string sink, Func<ConsumeResult<byte[]?, byte[]>, DeadLetterEntry, bool> visit)
    {
        var topic = KafkaDeadLetterQueue.TopicFor(sink);
        var partitions = ReplayPlanner.Partitions(context.Kafka, topic, context.Timeout);
        if (partitions.Count == 0) return;
        using var consumer = ReplayKafka.Consumer(context.Kafka, "nwdp-dlq-scan");
        var open = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var p in partitions)
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), context.Timeout);
            if (w.High.Value <= w.Low.Value) continue;
            open[p] = w.High.Value;
            starts.Add(new TopicPartitionOffset(topic, p, w.Low));
        }
        consumer.Assign(starts);
        while (open.Count > 0)
        {
            var r = consumer.Consume(context.Timeout);
            if (r is null) throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"no record from {topic} within {context.Timeout.TotalSeconds:0} s"));
            var p = r.Partition.Value;
            if (!open.TryGetValue(p, out var end)) continue;
            if (r.IsPartitionEOF || r.Offset.Value >= end) { open.Remove(p); continue; }
            if (r.Offset.Value + 1 >= end) open.Remove(p);
            if (!visit(r, Letter(r))) break;
        }
        consumer.Close();
    }

    private static DeadLetterEntry Letter(ConsumeResult<byte[]?, byte[]> r)
    {
        var h = r.Message.Headers;
        var c = CultureInfo.InvariantCulture;
        LogEvent e;
        try
        {
            e = LogEventAvro.DecodeFramed(r.Message.Value);
        }
        catch (MalformedRecordException)
        {
            e = new LogEvent { Type = "undecodable", Message = "(not an event)" };
        }
        return new DeadLetterEntry(r.Partition.Value, r.Offset.Value, ReplayKafka.Text(h, "nwdp-source-topic"),
            int.TryParse(ReplayKafka.Text(h, "nwdp-source-partition"), NumberStyles.Integer, c, out var sp) ? sp : -1,
            long.TryParse(ReplayKafka.Text(h, "nwdp-source-offset"), NumberStyles.Integer, c, out var so) ? so : -1,
            ReplayKafka.Text(h, "nwdp-dlq-reason"),
            int.TryParse(ReplayKafka.Text(h, "nwdp-dlq-attempts"), NumberStyles.Integer, c, out var a) ? a : 1, // letters from before the header: 1
            e.Ts, e.Type ?? "", e.Host ?? "", e.Level ?? "", e.Message ?? "", e.Attributes ?? new Dictionary<string, string>());
    }

    /// <summary>Sends letters refused again with one attempt more than they had.</summary>
    private sealed class AttemptCounting(IDeadLetterQueue inner) : IDeadLetterQueue
    {
        public Dictionary<SinkRecord, int> Attempts { get; } = new(ReferenceEqualityComparer.Instance);

        public Task SendAsync(string sink, IReadOnlyList<DeadLetterRecord> letters, CancellationToken cancellation) =>
            inner.SendAsync(sink, letters.Select(l => l with { Attempts = (Attempts.TryGetValue(l.Record, out var a) ? a : 1) + 1 }).ToList(), cancellation);
    }
}
