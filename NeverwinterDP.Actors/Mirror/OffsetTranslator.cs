using Confluent.Kafka;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// A source consumer group's position translated to the target: <see cref="SourceOffset"/> (the group's next record on the
/// source) becomes <see cref="TargetOffset"/> in <see cref="TargetPartition"/> of <see cref="TargetTopic"/>: the target
/// offset of the first copy whose source offset is at least <see cref="SourceOffset"/>, or where the next copy goes when
/// there is none yet. <see cref="Ahead"/> counts the records the group read on the source that the mirror had not copied
/// yet: 0 means exact; more means that if the mirror still copies them, a consumer resuming on the target reads them again.
/// </summary>
public sealed record OffsetTranslation(string Topic, int Partition, long SourceOffset, string TargetTopic, int TargetPartition, long TargetOffset, long Ahead)
{
    public bool Exact => Ahead == 0;
}

/// <summary>
/// Source offset to target offset, per source partition, from a mirror's <see cref="OffsetSync"/>s (fed in the order they
/// were committed). Keeps, per partition, the source range <c>[Start, Next)</c> the syncs cover without a gap and the runs
/// of copies in it (consecutive runs merge, so a partition whose target gets only this mirror's copies holds one run);
/// at most <c>maxRuns</c> runs per partition, the oldest dropped first (raising <c>Start</c>). Not thread-safe.
/// </summary>
public sealed class OffsetTranslator(int maxRuns = 10_000)
{
    private sealed class Index(string targetTopic, long start)
    {
        public string TargetTopic = targetTopic;
        public long Start = start;
        public long Next = start;
        public long TargetEnd = -1; // the offset after the last copy; -1 before any
        public readonly List<SyncRun> Runs = new();
    }

    private readonly Dictionary<TopicPartition, Index> _partitions = new();

    /// <summary>The source partitions some sync was seen for.</summary>
    public IReadOnlyCollection<TopicPartition> Partitions => _partitions.Keys;

    /// <summary>Where the syncs of <paramref name="tp"/> cover the source (<c>[Start, Next)</c>); null when none were seen.</summary>
    public (long Start, long Next, int Runs)? Coverage(TopicPartition tp) => _partitions.TryGetValue(tp, out var i) ? (i.Start, i.Next, i.Runs.Count) : null;

    public void Add(OffsetSync sync)
    {
        var tp = new TopicPartition(sync.Topic, sync.Partition);
        if (!_partitions.TryGetValue(tp, out var index) || index.TargetTopic != sync.TargetTopic || sync.From > index.Next)
        {
            // First sync, another target, or a gap (syncs missing: older mirrors, retention): what came before is not known.
            _partitions[tp] = index = new Index(sync.TargetTopic, sync.From);
        }
        else if (sync.From < index.Next)
        {
            // The records were taken again. Only where aborted transactions stay readable (a broker without transaction
            // markers) can the first taking show: the later copies are the ones a restarted mirror resumed after.
            index.Runs.RemoveAll(r => r.Source >= sync.From);
            if (index.Runs.Count > 0 && index.Runs[^1].SourceEnd > sync.From)
                index.Runs[^1] = index.Runs[^1] with { Count = (int)(sync.From - index.Runs[^1].Source) };
            index.Start = Math.Min(index.Start, sync.From);
        }
        foreach (var run in sync.Runs)
        {
            if (index.Runs.Count > 0 && index.Runs[^1].SourceEnd == run.Source && index.Runs[^1].TargetEnd == run.Target
                && (long)index.Runs[^1].Count + run.Count <= int.MaxValue)
                index.Runs[^1] = index.Runs[^1] with { Count = index.Runs[^1].Count + run.Count };
            else
                index.Runs.Add(run);
            index.TargetEnd = Math.Max(index.TargetEnd, run.TargetEnd);
        }
        index.Next = Math.Max(index.Next, sync.Next);
        if (index.Runs.Count > maxRuns)
        {
            var drop = index.Runs.Count - maxRuns;
            // Offsets up to the last dropped copy can no longer be told; those after it still can (their first copy is kept).
            index.Start = index.Runs[drop - 1].SourceEnd;
            index.Runs.RemoveRange(0, drop);
        }
    }

    /// <summary>
    /// Where a consumer whose next source record is <paramref name="sourceOffset"/> resumes on the target; null (and why)
    /// when the syncs kept cannot tell: the partition has no syncs, the offset is older than those kept, or no copy was made yet.
    /// </summary>
    public OffsetTranslation? Translate(string topic, int partition, long sourceOffset, out string? why)
    {
        why = null;
        if (!_partitions.TryGetValue(new TopicPartition(topic, partition), out var index))
        {
            why = "no offset syncs for this partition (not mirrored, or mirrored by key hash into a topic with another partition count)";
            return null;
        }
        if (sourceOffset < index.Start)
        {
            why = $"older than the offset syncs kept (they start at source offset {index.Start})";
            return null;
        }
        long target;
        if (sourceOffset < index.Next && FirstRunEndingAfter(index.Runs, sourceOffset) is var i && i < index.Runs.Count)
        {
            var run = index.Runs[i];
            target = run.Source <= sourceOffset ? run.Target + (sourceOffset - run.Source) : run.Target;
        }
        else if (index.TargetEnd >= 0)
        {
            // No copy at or after the offset yet: the next one goes after the last.
            target = index.TargetEnd;
        }
        else
        {
            why = "the mirror copied nothing of this partition yet";
            return null;
        }
        return new OffsetTranslation(topic, partition, sourceOffset, index.TargetTopic, partition, target, Math.Max(0, sourceOffset - index.Next));
    }

    private static int FirstRunEndingAfter(List<SyncRun> runs, long offset)
    {
        int lo = 0, hi = runs.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (runs[mid].SourceEnd > offset) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}
