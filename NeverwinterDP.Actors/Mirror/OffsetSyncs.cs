using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>Copies of consecutive source offsets <c>Source..Source+Count-1</c> at consecutive target offsets from <c>Target</c>.</summary>
public readonly record struct SyncRun(long Source, long Target, int Count)
{
    public long SourceEnd => Source + Count;

    public long TargetEnd => Target + Count;
}

/// <summary>
/// What one mirror transaction did with one source partition: it took the source offsets <c>[From, Next)</c> and copied
/// these <see cref="Runs"/> into partition <see cref="Partition"/> of <see cref="TargetTopic"/> (the offsets it took and
/// did not copy were skipped: they came through the target site). Written to <see cref="MirrorOptions.SyncsTopic"/> in the
/// same transaction as the copies, so a sync exists exactly when its copies are committed. Only written when source and
/// target topics have as many partitions (with key-hash partitioning one source partition's copies spread over all
/// target partitions, and no single target offset stands for a source offset).
/// </summary>
public sealed record OffsetSync(string Topic, int Partition, string TargetTopic, long From, long Next, IReadOnlyList<SyncRun> Runs)
{
    /// <summary>The record's key: <c>NAME/topic/partition</c>.</summary>
    public static string KeyOf(string mirror, string topic, int partition) => string.Create(CultureInfo.InvariantCulture, $"{mirror}/{topic}/{partition}");

    /// <summary>The record's value: <c>v1 FROM NEXT TARGET-TOPIC SOURCE:TARGET:COUNT,...</c> (topic names hold no spaces).</summary>
    public string Encode()
    {
        var sb = new StringBuilder(64 + 24 * Runs.Count);
        sb.Append(CultureInfo.InvariantCulture, $"v1 {From} {Next} {TargetTopic} ");
        for (var i = 0; i < Runs.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $"{Runs[i].Source}:{Runs[i].Target}:{Runs[i].Count}");
        }
        return sb.ToString();
    }

    /// <summary>The sync a record of the syncs topic holds when it is one of <paramref name="mirror"/>'s; null otherwise.</summary>
    public static OffsetSync? Decode(string mirror, byte[]? key, byte[]? value)
    {
        if (key is null || value is null) return null;
        var k = Encoding.UTF8.GetString(key);
        var prefix = mirror + "/";
        var slash = k.LastIndexOf('/');
        if (!k.StartsWith(prefix, StringComparison.Ordinal) || slash <= prefix.Length
            || !int.TryParse(k.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)) return null;
        var parts = Encoding.UTF8.GetString(value).Split(' ');
        if (parts.Length != 5 || parts[0] != "v1"
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var next)) return null;
        var runs = new List<SyncRun>();
        foreach (var run in parts[4].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = run.Split(':');
            if (f.Length != 3
                || !long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                || !long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t)
                || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1) return null;
            runs.Add(new SyncRun(s, t, n));
        }
        return new OffsetSync(k[prefix.Length..slash], partition, parts[3], from, next, runs);
    }

    /// <summary>Runs from (source offset, target offset) pairs of one partition's copies: consecutive pairs on both sides make one run.</summary>
    public static List<SyncRun> RunsOf(IEnumerable<(long Source, long Target)> copies)
    {
        var runs = new List<SyncRun>();
        foreach (var (s, t) in copies.OrderBy(c => c.Source))
        {
            if (runs.Count > 0 && runs[^1].SourceEnd == s && runs[^1].TargetEnd == t)
                runs[^1] = runs[^1] with { Count = runs[^1].Count + 1 };
            else
                runs.Add(new SyncRun(s, t, 1));
        }
        return runs;
    }
}

/// <summary>
/// The syncs of one mirror transaction being built: which source partitions it took records of (from where) and, from the
/// delivery reports, the target offset of each copy. <see cref="KafkaMirror"/> makes one per transaction.
/// </summary>
internal sealed class OffsetSyncBatch
{
    /// <summary>Runs per sync record at most (about 25 bytes each).</summary>
    internal const int MaxRunsPerRecord = 10_000;

    private readonly Dictionary<TopicPartition, (long From, string TargetTopic)> _taken = new();
    private readonly Dictionary<TopicPartition, List<(long Source, long Target)>> _copies = new();
    private readonly object _gate = new();

    /// <summary>The first record of <paramref name="source"/> in this transaction; only partitions copied to the same partition are synced.</summary>
    public void Began(TopicPartition source, long offset, string targetTopic, bool samePartitions)
    {
        if (samePartitions) _taken[source] = (offset, targetTopic);
    }

    /// <summary>A delivery-report callback for the copy of <paramref name="source"/>'s record at <paramref name="sourceOffset"/> (called on the producer's poll thread).</summary>
    public void Delivered(TopicPartition source, long sourceOffset, DeliveryReport<byte[]?, byte[]?> report)
    {
        if (report.Error.IsError) return; // the commit fails for it
        lock (_gate)
        {
            if (!_copies.TryGetValue(source, out var list)) _copies[source] = list = new();
            list.Add((sourceOffset, report.Offset.Value));
        }
    }

    /// <summary>The syncs of this transaction, <paramref name="next"/> being each partition's position after it (all deliveries reported).</summary>
    public List<OffsetSync> Syncs(IReadOnlyDictionary<TopicPartition, long> next)
    {
        var syncs = new List<OffsetSync>();
        lock (_gate)
        {
            foreach (var (tp, (from, targetTopic)) in _taken)
            {
                if (!next.TryGetValue(tp, out var n)) continue;
                var runs = _copies.TryGetValue(tp, out var copies) ? OffsetSync.RunsOf(copies) : [];
                // A record per MaxRunsPerRecord runs (copies interleaved with other records make many), each covering the
                // source offsets up to the next one's first run, so a sync stays well below a broker's message size limit.
                for (var i = 0; i == 0 || i < runs.Count; i += MaxRunsPerRecord)
                {
                    var chunk = runs.GetRange(i, Math.Min(MaxRunsPerRecord, runs.Count - i));
                    var chunkFrom = i == 0 ? from : chunk[0].Source;
                    var chunkNext = i + MaxRunsPerRecord < runs.Count ? runs[i + MaxRunsPerRecord].Source : n;
                    syncs.Add(new OffsetSync(tp.Topic, tp.Partition.Value, targetTopic, chunkFrom, chunkNext, chunk));
                }
            }
        }
        return syncs;
    }

    /// <summary>
    /// Waits for every copy's delivery report (the target offsets; the records are written but not committed), then adds
    /// the syncs to the open transaction. Not done waiting within <paramref name="timeout"/>: asks again, as the commit does.
    /// </summary>
    public void Write(IProducer<byte[]?, byte[]?> producer, string syncsTopic, string mirror, IReadOnlyDictionary<TopicPartition, long> next,
        TimeSpan timeout, Action<string> log, CancellationToken stop)
    {
        lock (_gate)
            if (_taken.Count == 0) return;
        while (producer.Flush(timeout) > 0)
        {
            log($"mirror {mirror}: copies not all delivered within {timeout.TotalSeconds:0.#} s; waiting again before writing the offset syncs");
            if (stop.IsCancellationRequested && stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1))) throw new OperationCanceledException(stop);
        }
        foreach (var sync in Syncs(next))
        {
            producer.Produce(new TopicPartition(syncsTopic, 0), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(OffsetSync.KeyOf(mirror, sync.Topic, sync.Partition)),
                Value = Encoding.UTF8.GetBytes(sync.Encode()),
            });
        }
    }
}
