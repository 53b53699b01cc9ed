using System.Runtime.ExceptionServices;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// Writes records to hour-partitioned files: <c>&lt;directory&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/</c>, the hour being the UTC
/// hour of the event's system timestamp, one file open per (topic, partition, hour) under a temporary name,
/// published (flushed, fsynced, closed, renamed, directory fsynced) when it reaches the roll size and on every
/// <see cref="FlushAsync"/>. See <see cref="FileNames"/> for the names.
/// </summary>
/// <remarks>
/// Idempotent across crashes: a record at or below the highest offset published for its (topic, partition,
/// hour) is skipped and reported delivered, so replays after a restart or rebalance duplicate nothing. That
/// mark is recovered from the file names when a topic is first used (one scan of its tree, kept), and leftover
/// temporary files of a partition are deleted when the partition is first seen: their records were never
/// committed, so the pump hands them over again. This assumes one live writer per partition and directory,
/// which the pump's consumer group gives.
/// </remarks>
public sealed class FilesSink : ISink
{
    private readonly FilesSinkOptions _options;
    private readonly string _root;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, TopicState> _topics = new(StringComparer.Ordinal);
    private readonly HashSet<HourSlot<PartFile>> _open = [];
    private readonly HashSet<HourSlot<PartFile>> _lostDelivered = [];
    private readonly HashSet<string> _directoriesToSync = new(StringComparer.Ordinal);
    private PartitionState<PartFile>? _lastPartition;
    private long _writeCalls;
    private bool _disposed;

    /// <param name="options">Where and how to write; validated here.</param>
    /// <param name="name">The sink instance's name (metrics, dead-letter topic).</param>
    public FilesSink(FilesSinkOptions options, string name = "files")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options.Validate();
        _options = options;
        _root = Path.GetFullPath(options.Directory);
        Name = name;
    }

    public string Name { get; }

    public FilesSinkOptions Options => _options;

    public async Task OpenAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            EnsureDirectory(_root);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // The contract says calls never overlap; the gate keeps a pump that overlaps write and flush correct anyway.
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Write(batch);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task FlushAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
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
        finally
        {
            _gate.Release();
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
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
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
        finally
        {
            _gate.Release();
        }
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
            if (!IsWritable(record, out var hour, out var why))
            {
                Set(i, SinkOutcome.Rejected, why);
                continue;
            }

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
            var slot = partition.SlotFor(hour);
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
                if (!file.TryAppend(record.Event, offset, out why))
                {
                    Set(i, SinkOutcome.Rejected, why);
                    continue;
                }
                slot.Appended(offset);
                if (file.Length >= _options.RollSize) Roll(slot);
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

        if (failures is not null) ErrorRecordsLostEarlierInBatch(batch, outcomes, failures, Set);
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
                    || record.Topic != slot.Partition.Topic || !UtcHour.TryFromEpochMs(record.Event.SystemTs, out var hour) || hour != slot.Hour)
                {
                    continue;
                }
                set(j, SinkOutcome.Errored, $"{slot}: the file failed after this record was written ({slot.LostBecause?.Message})");
            }
        }
    }

    internal static bool IsWritable(SinkRecord? record, out UtcHour hour, out string? reason)
    {
        hour = default;
        reason = record switch
        {
            null => "no record",
            { Event: null } => "the record has no event",
            { Partition: < 0 } => $"partition {record.Partition} is negative",
            { Offset: < 0 } => $"offset {record.Offset} is negative",
            _ when !UtcHour.TryFromEpochMs(record.Event.SystemTs, out hour) =>
                $"system_ts {record.Event.SystemTs} is outside the years 0001-9999, so no hour directory can hold it",
            _ => null,
        };
        return reason is null;
    }

    /// <summary>The partition's state; recovers it from disk at first sight. Null for a topic that is no safe directory name.</summary>
    private PartitionState<PartFile>? PartitionOf(string topic, int partition)
    {
        var last = _lastPartition;
        if (last is not null && last.Partition == partition && (ReferenceEquals(last.Topic, topic) || last.Topic == topic)) return last;

        if (!_topics.TryGetValue(topic, out var topicState))
        {
            if (!FileNames.IsLegalTopic(topic)) return null;
            topicState = new TopicState(TopicScan.Run(_root, topic));
            _topics.Add(topic, topicState);
        }
        if (!topicState.Partitions.TryGetValue(partition, out var state))
        {
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
        var directory = Path.Combine(_root, partition.Topic, slot.Hour.RelativePath);
        EnsureDirectory(directory);
        var file = PartFile.Create(_options, directory, partition.Topic, partition.Partition, firstOffset, call);
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
            file.Publish(_options.Fsync);
            if (_options.Fsync) _directoriesToSync.Add(file.Directory);
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
            $"The files sink '{Name}' lost records it had reported delivered ({lost}); they must be read again from the last committed offsets.",
            _lostDelivered.First().LostBecause);
    }

    /// <summary>Creates a directory and its missing parents, noting the parents to fsync so the new entries are durable.</summary>
    private void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory)) return;
        var missing = new Stack<string>();
        for (var d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d);
            if (_options.Fsync && Path.GetDirectoryName(d) is { } parent) _directoriesToSync.Add(parent);
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
