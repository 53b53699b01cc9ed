using System.Runtime.ExceptionServices;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// The engine of the sinks that write hour-partitioned part files (the files, Hive and HDFS sinks):
/// one file open per (topic, partition, slot) under a temporary name, published (flushed, fsynced, closed,
/// renamed, directory fsynced) when it reaches the roll size or row count and on every <see cref="FlushAsync"/>.
/// The tree, names and format are the layout's (<see cref="PartLayout"/>).
/// </summary>
/// <remarks>
/// Idempotent across crashes: a record at or below the highest offset published for its (topic, partition,
/// slot) is skipped and reported delivered, so replays after a restart or rebalance duplicate nothing. That
/// mark is recovered from the file names when a topic is first used (one scan of its tree, kept), and leftover
/// temporary files of a partition are deleted when the partition is first seen: their records were never
/// committed, so the pump hands them over again. This assumes one live writer per partition and directory,
/// which the pump's consumer group gives, and the pump's assignment calls keep it when a partition moves
/// between writers (<see cref="IPartitionAwareSink"/>): a writer that loses a partition publishes what it wrote
/// of it before the next owner starts, and stores no more of it; a writer given a partition reads its marks from
/// the file names again, as another writer may have published files since (their offsets not committed).
/// </remarks>
public abstract class PartFileSink : ISink, IPartitionAwareSink
{
    private readonly PartLayout _layout;
    private readonly string _root;
    private readonly bool _fsync;
    private readonly long _rollSize;
    private readonly long _rollRows;
    private readonly SinkGate _gate;
    private readonly Dictionary<string, TopicState> _topics = new(StringComparer.Ordinal);
    private readonly HashSet<HourSlot<PartFile>> _open = [];
    private readonly HashSet<HourSlot<PartFile>> _lostDelivered = [];
    private readonly HashSet<string> _directoriesToSync = new(StringComparer.Ordinal);
    private readonly HashSet<(string Topic, int Partition)> _revoked = [];
    private PartitionState<PartFile>? _lastPartition;
    private long _writeCalls;

    private protected PartFileSink(PartLayout layout, string name, bool fsync, long rollSize, long rollRows)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _layout = layout;
        _root = layout.Root;
        _fsync = fsync;
        _rollSize = rollSize;
        _rollRows = rollRows;
        Name = name;
        _gate = new SinkGate(this);
    }

    public string Name { get; }

    /// <summary>The root of the tree.</summary>
    public string Root => _root;

    public async Task OpenAsync(CancellationToken cancellation)
    {
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            EnsureDirectory(_root);
        }
    }

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            return Write(batch);
        }
    }

    public async Task FlushAsync(CancellationToken cancellation)
    {
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            Flush(cancellation);
        }
    }

    public void Assigned(IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        using var turn = TryEnterNow();
        if (turn is null) return;
        foreach (var (topic, partition) in partitions)
        {
            _revoked.Remove((topic, partition));
            if (!_topics.TryGetValue(topic, out var topicState)) continue; // not used yet: its first use scans it
            topicState.Stale = true;
            // A partition with an open file or a broken slot keeps its state: what it holds is not published yet.
            if (topicState.Partitions.TryGetValue(partition, out var state) && state.IsIdle) topicState.Partitions.Remove(partition);
        }
        _lastPartition = null;
    }

    public void Revoked(IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        using var turn = TryEnterNow();
        if (turn is null) return;
        foreach (var tp in partitions) _revoked.Add(tp);
        _lastPartition = null;
        Flush(CancellationToken.None);
    }

    // The assignment calls come from the consumer's poll thread, which must not run on without the sink's turn.
    private SinkGate.Turn? TryEnterNow()
    {
        try
        {
            return _gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private void Flush(CancellationToken cancellation)
    {
        foreach (var slot in _open.ToArray())
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                Publish(slot);
            }
            catch (Exception e) when (IsFileFailure(e))
            {
                Fail(slot, slot.File!.FirstOffset, lostDelivered: true, e);
            }
        }
        // A failed directory sync is worth retrying (the files are published, their names not yet durable);
        // lost records are not, so they are reported first.
        IOException? syncFailure = null;
        try
        {
            _layout.Flush();
            SyncDirectories();
        }
        catch (IOException e)
        {
            syncFailure = e;
        }
        ThrowIfDeliveredRecordsLost();
        if (syncFailure is not null) ExceptionDispatchInfo.Throw(syncFailure);
        foreach (var topic in _topics.Values)
        {
            foreach (var partition in topic.Partitions.Values) partition.Settle();
        }
    }

    public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        if (!Directory.Exists(_root)) return Task.FromResult(new SinkHealth(false, $"{_root} does not exist or is not a directory"));
        var probe = Path.Combine(_root, $".health-{Guid.NewGuid():N}{FileNames.TempSuffix}");
        try
        {
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return Task.FromResult(new SinkHealth(true, $"{_root} is writable"));
        }
        catch (Exception e) when (IsFileFailure(e))
        {
            return Task.FromResult(new SinkHealth(false, $"{_root} is not writable: {e.Message}"));
        }
    }

    /// <summary>Closes the open files without publishing them: their records were not committed and come again.</summary>
    public async ValueTask DisposeAsync()
    {
        using var turn = await _gate.CloseAsync().ConfigureAwait(false);
        if (turn is null) return;
        foreach (var slot in _open)
        {
            try
            {
                slot.File?.Dispose();
            }
            catch (Exception e) when (IsFileFailure(e))
            {
                // Nothing depends on a temporary file; the next process deletes it.
            }
        }
        _open.Clear();
    }

    private SinkWriteResult Write(IReadOnlyList<SinkRecord> batch)
    {
        var call = ++_writeCalls;
        var outcomes = new SinkOutcome[batch.Count]; // Delivered is the default
        string?[]? reasons = null;
        List<(HourSlot<PartFile> Slot, long LostFrom, int Index)>? failures = null;
        string? unreadableTopic = null, unreadableReason = null; // a failing scan is tried once per call, not per record

        for (var i = 0; i < batch.Count; i++)
        {
            var record = batch[i];
            if (!IsWritable(record, out var key, out var why))
            {
                Set(i, SinkOutcome.Rejected, why);
                continue;
            }

            if (_revoked.Count > 0 && _revoked.Contains((record.Topic, record.Partition))) continue; // another writer's now: not stored, not committed

            if (record.Topic == unreadableTopic)
            {
                Set(i, SinkOutcome.Errored, unreadableReason);
                continue;
            }
            PartitionState<PartFile>? partition;
            try
            {
                partition = PartitionOf(record.Topic, record.Partition);
            }
            catch (Exception e) when (IsFileFailure(e))
            {
                unreadableTopic = record.Topic;
                unreadableReason = $"reading what is published under {Path.Combine(_root, record.Topic)} failed: {e.Message}";
                Set(i, SinkOutcome.Errored, unreadableReason);
                continue;
            }
            if (partition is null)
            {
                Set(i, SinkOutcome.Rejected, $"'{record.Topic}' is not a Kafka topic name ([a-zA-Z0-9._-], at most 249), so not a safe directory name");
                continue;
            }

            var offset = record.Offset;
            if (offset <= partition.Floor) continue; // a replay of what a flush made durable
            partition.Saw(offset);
            var slot = partition.SlotFor(key);
            if (slot.IsBroken)
            {
                if (offset > slot.LostFrom)
                {
                    Set(i, SinkOutcome.Errored, $"{slot}: records from offset {slot.LostFrom} were lost ({slot.LostBecause?.Message}) and must come again first");
                    continue;
                }
                Repaired(slot);
            }
            if (offset <= slot.WrittenUpTo) continue; // a replay: already in a published or open file

            try
            {
                var file = slot.File ?? Open(slot, offset, call);
                if (!file.Fits(record))
                {
                    Roll(slot);
                    file = Open(slot, offset, call);
                }
                if (!file.TryAppend(record, offset, out why))
                {
                    Set(i, SinkOutcome.Rejected, why);
                    continue;
                }
                slot.Appended(offset);
                if (file.Length >= _rollSize || file.Count >= _rollRows) Roll(slot);
            }
            catch (Exception e) when (IsFileFailure(e))
            {
                var file = slot.File;
                var lostFrom = file?.FirstOffset ?? offset;
                Fail(slot, lostFrom, lostDelivered: file is not null && file.OpenedInBatch < call, e);
                (failures ??= []).Add((slot, lostFrom, i));
                Set(i, SinkOutcome.Errored, $"{slot}: {e.Message}");
            }
        }

        if (failures is not null) ErrorRecordsLostEarlierInBatch(_layout, batch, outcomes, failures, Set);
        ThrowIfDeliveredRecordsLost();
        return new SinkWriteResult(outcomes, reasons);

        void Set(int index, SinkOutcome outcome, string? reason)
        {
            outcomes[index] = outcome;
            (reasons ??= new string?[batch.Count])[index] = reason;
        }
    }

    // Records of this batch that went into a file that failed later in the batch were lost with it.
    private static void ErrorRecordsLostEarlierInBatch(
        PartLayout layout,
        IReadOnlyList<SinkRecord> batch,
        SinkOutcome[] outcomes,
        List<(HourSlot<PartFile> Slot, long LostFrom, int Index)> failures,
        Action<int, SinkOutcome, string?> set)
    {
        foreach (var (slot, lostFrom, failedAt) in failures)
        {
            for (var j = 0; j < failedAt; j++)
            {
                var record = batch[j];
                if (outcomes[j] != SinkOutcome.Delivered || record.Offset < lostFrom || record.Partition != slot.Partition.Partition
                    || record.Topic != slot.Partition.Topic || !layout.TryPlace(record, out var key, out _) || key != slot.Key)
                {
                    continue;
                }
                set(j, SinkOutcome.Errored, $"{slot}: the file failed after this record was written ({slot.LostBecause?.Message})");
            }
        }
    }

    private bool IsWritable(SinkRecord? record, out SlotKey key, out string? reason)
    {
        key = default;
        reason = PartLayout.Malformed(record);
        return reason is null && _layout.TryPlace(record!, out key, out reason);
    }

    /// <summary>The partition's state; recovers it from disk at first sight. Null for a topic that is no safe directory name.</summary>
    private PartitionState<PartFile>? PartitionOf(string topic, int partition)
    {
        var last = _lastPartition;
        if (last is not null && last.Partition == partition && (ReferenceEquals(last.Topic, topic) || last.Topic == topic)) return last;

        if (!_topics.TryGetValue(topic, out var topicState))
        {
            if (!FileNames.IsLegalTopic(topic)) return null;
            topicState = new TopicState(TopicScan.Run(_layout, topic));
            _topics.Add(topic, topicState);
        }
        if (!topicState.Partitions.TryGetValue(partition, out var state))
        {
            if (topicState.Stale)
            {
                topicState.Scan = TopicScan.Run(_layout, topic);
                topicState.Stale = false;
            }
            foreach (var leftover in topicState.Scan.TakeLeftovers(partition)) DeleteLeftover(leftover);
            state = new PartitionState<PartFile>(topic, partition, topicState.Scan.Published(partition));
            topicState.Partitions.Add(partition, state);
        }
        return _lastPartition = state;
    }

    private static void DeleteLeftover(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (IsFileFailure(e))
        {
            // Harmless: readers skip it, and a file we open under the same name replaces it.
        }
    }

    private PartFile Open(HourSlot<PartFile> slot, long firstOffset, long call)
    {
        var partition = slot.Partition;
        var directory = _layout.DirectoryOf(partition.Topic, slot.Key);
        EnsureDirectory(directory);
        var file = _layout.Create(directory, partition.Topic, partition.Partition, firstOffset, call);
        slot.Opened(file);
        _open.Add(slot);
        return file;
    }

    private void Publish(HourSlot<PartFile> slot)
    {
        var file = slot.File!;
        if (file.IsEmpty)
        {
            file.Discard(); // its only record was rejected
        }
        else
        {
            file.Publish(_fsync);
            if (_fsync) _directoriesToSync.Add(file.Directory);
            _layout.Published(slot.Partition.Topic, slot.Key, file.Directory);
        }
        slot.Published();
        _open.Remove(slot);
    }

    // A full file is published at once, its directory synced too, so the next file of the hour can never be
    // durable without it (recovery reads the hour's highest offset).
    private void Roll(HourSlot<PartFile> slot)
    {
        Publish(slot);
        try
        {
            SyncDirectories();
        }
        catch (IOException)
        {
            // Still listed: the next flush tries again and fails if it must.
        }
    }

    private void Fail(HourSlot<PartFile> slot, long lostFrom, bool lostDelivered, Exception because)
    {
        slot.File?.Discard();
        _open.Remove(slot);
        slot.Failed(lostFrom, lostDelivered, because);
        if (lostDelivered) _lostDelivered.Add(slot);
    }

    private void Repaired(HourSlot<PartFile> slot)
    {
        slot.Repaired();
        _lostDelivered.Remove(slot);
    }

    private void ThrowIfDeliveredRecordsLost()
    {
        if (_lostDelivered.Count == 0) return;
        var lost = string.Join("; ", _lostDelivered.Select(s => $"{s} from offset {s.LostFrom}"));
        throw new RedeliveryRequiredException(
            $"The sink '{Name}' lost records it had reported delivered ({lost}); they must be read again from the last committed offsets.",
            _lostDelivered.First().LostBecause);
    }

    /// <summary>Creates a directory and its missing parents, noting the parents to fsync so the new entries are durable.</summary>
    private protected void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory)) return;
        var missing = new Stack<string>();
        for (var d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d);
            if (_fsync && Path.GetDirectoryName(d) is { } parent) _directoriesToSync.Add(parent);
        }
    }

    private void SyncDirectories()
    {
        foreach (var directory in _directoriesToSync.ToArray())
        {
            DirectorySync.Fsync(directory);
            _directoriesToSync.Remove(directory);
        }
    }

    private static bool IsFileFailure(Exception e) => e is IOException or UnauthorizedAccessException;
}
