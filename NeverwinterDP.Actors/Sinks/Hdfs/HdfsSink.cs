using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// Writes records to HDFS through WebHDFS, in the files sink's layout: <c>&lt;root&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/</c>
/// (the UTC hour of the event's system timestamp), Avro object container files named
/// <c>&lt;topic&gt;-p&lt;partition:D4&gt;-o&lt;first:D20&gt;-o&lt;last:D20&gt;.avro</c> (<see cref="FileNames"/>). One part file
/// per (topic, partition, hour) is gathered in memory and published, when it reaches the roll size and on every
/// <see cref="FlushAsync"/>, by CREATE under a hidden temporary name in the same directory and RENAME to its
/// final name: HDFS renames atomically, so readers never see a partial file. An hour directory gets an empty
/// <c>_SUCCESS</c> once the hour is closed: every partition held here has moved on to a later hour, or the
/// hour ended <c>close-hour-after</c> ago.
/// </summary>
/// <remarks>
/// Idempotent across crashes as the files sink is, with the same pieces (<see cref="FilesLayout"/>'s slots,
/// <see cref="HourSlot{TFile}"/>, <see cref="PartitionState{TFile}"/>, <see cref="TopicScan"/>): a record at or below
/// the highest offset published for its (topic, partition, hour) is skipped and reported delivered. That mark comes from the
/// names LISTSTATUS finds in the hour directory, listed when the hour is first needed; temporary files a dead
/// process left there are deleted (DELETE) for the partitions this sink holds. Memory is bounded by
/// <c>buffer-limit</c>: past it the largest part files are published early, and while HDFS refuses them
/// further records are answered errored. A part file's bytes stay in memory until its RENAME succeeded, so a
/// failed upload or rename loses nothing delivered: the flush fails and its retry publishes the same bytes.
/// Every HDFS failure (unreachable, 5xx, standby, safe mode, retriable, access denied) is transient here:
/// records are rejected only when no HDFS path can hold them (a topic that is no legal path component, a
/// timestamp outside the years 1-9999) or they cannot be encoded.
/// </remarks>
public sealed class HdfsSink : ISink, IHourCompletionListener
{
    private const string SuccessMarker = HourSuccess.FileName;

    private readonly HdfsSinkOptions _options;
    private readonly WebHdfsClient _client;
    private readonly TimeProvider _time;
    private readonly string _root;
    private readonly SinkGate _gate;
    private readonly Dictionary<string, HdfsTopic> _topics = new(StringComparer.Ordinal);
    private readonly HashSet<HourSlot<HdfsPartFile>> _open = [];
    private readonly Dictionary<TypedLogSchema, string?> _refusals = [];
    private long _buffered;

    /// <param name="options">Where and how to write; validated here.</param>
    /// <param name="name">The sink instance's name (metrics, dead-letter topic).</param>
    /// <param name="time">The clock that closes hours (tests pass their own).</param>
    public HdfsSink(HdfsSinkOptions options, string name = "hdfs", TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _root = options.Root.Length > 1 ? options.Root.TrimEnd('/') : "";
        _client = new WebHdfsClient(options.NamenodeUrls, options.User, options.DelegationToken, options.RequestTimeout);
        Name = name;
        _gate = new SinkGate(this);
    }

    public string Name { get; }

    public HdfsSinkOptions Options => _options;

    /// <summary>Creates the root directory (MKDIRS, which is idempotent).</summary>
    public async Task OpenAsync(CancellationToken cancellation)
    {
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            try
            {
                if (_root.Length > 0) await _client.MkdirsAsync(_root, cancellation).ConfigureAwait(false);
            }
            catch (WebHdfsException e)
            {
                throw new WebHdfsException(Describe(e), e.Status, e.Exception, e.JavaClassName, e);
            }
        }
    }

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            return await WriteAsyncCore(batch, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes every open part file, then writes the markers of closed hours.</summary>
    /// <exception cref="WebHdfsException">Something is not published yet; nothing is lost, a retry goes on.</exception>
    public async Task FlushAsync(CancellationToken cancellation)
    {
        using (await _gate.EnterAsync(cancellation).ConfigureAwait(false))
        {
            var failures = new List<WebHdfsException>();
            // Within a slot there is one file at a time, so every hour's files are published in offset order.
            foreach (var slot in _open.OrderBy(s => s.Partition.Topic, StringComparer.Ordinal).ThenBy(s => s.Partition.Partition).ThenBy(s => s.Hour.Index).ToList())
            {
                try
                {
                    await PublishAsync(slot, cancellation).ConfigureAwait(false);
                }
                catch (WebHdfsException e)
                {
                    failures.Add(e);
                }
            }
            if (failures.Count > 0) throw Failed($"{failures.Count} part file(s) could not be published yet", failures);

            foreach (var topic in _topics.Values)
            {
                foreach (var partition in topic.Partitions.Values) partition.Settle();
            }
            if (!_options.SuccessOnComplete) await MarkClosedHoursAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>With <c>success-on = complete</c> (the default) it waits for completions to write any <c>_SUCCESS</c>.</summary>
    public string? RequiresCompletions => _options.SuccessOnComplete ? _options.Section + ".success-on" : null;

    /// <summary>
    /// With <c>success-on = complete</c>: writes the hour directory's <c>_SUCCESS</c>, holding the completion's JSON (counts
    /// per partition, nodes, version), when the pump declares the hour complete; a later version replaces it (CREATE with
    /// overwrite, which also makes the directory of an hour without events). An hour closed incomplete gets none. Called
    /// after the sink flushed every record of the hour; a failure is retried at the watermarks' next check.
    /// </summary>
    public async Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(completion);
        if (!_options.SuccessOnComplete || !HourSuccess.TryFor(completion, out var hour, out var bytes)) return;
        var marker = $"{_root}/{completion.Topic}/{hour.SlashPath}/{SuccessMarker}";
        try
        {
            using var content = new ByteArrayContent(bytes);
            await _client.CreateAsync(marker, content, overwrite: true, cancellation).ConfigureAwait(false);
        }
        catch (WebHdfsException e)
        {
            throw Failed($"writing {marker} failed", [e]);
        }
    }

    /// <summary>GETFILESTATUS of the root (of <c>/</c> while the root is not created) within a few seconds.</summary>
    public async Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.RequestTimeout < TimeSpan.FromSeconds(5) ? _options.RequestTimeout : TimeSpan.FromSeconds(5));
        var root = _root.Length > 0 ? _root : "/";
        try
        {
            var status = await _client.GetFileStatusAsync(root, timeout.Token).ConfigureAwait(false);
            if (status is not null)
            {
                return status.IsDirectory
                    ? new SinkHealth(true, $"{root} is a directory on {_client.ActiveNamenode.Authority}")
                    : new SinkHealth(false, $"{root} on {_client.ActiveNamenode.Authority} is a file, not a directory");
            }
            return await _client.GetFileStatusAsync("/", timeout.Token).ConfigureAwait(false) is not null
                ? new SinkHealth(true, $"{_client.ActiveNamenode.Authority} answers; {root} is not created yet")
                : new SinkHealth(false, $"{_client.ActiveNamenode.Authority} answers that / does not exist");
        }
        catch (WebHdfsException e)
        {
            return new SinkHealth(false, Describe(e));
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new SinkHealth(false, $"no namenode answered GETFILESTATUS {root} within the health check's time");
        }
    }

    /// <summary>Drops the part files in memory without publishing them: their records were not committed and come again.</summary>
    public async ValueTask DisposeAsync()
    {
        using var turn = await _gate.CloseAsync().ConfigureAwait(false);
        if (turn is null) return;
        foreach (var slot in _open) slot.File?.Dispose();
        _open.Clear();
        _client.Dispose();
    }

    private async Task<SinkWriteResult> WriteAsyncCore(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        var outcomes = new SinkOutcome[batch.Count]; // Delivered is the default
        string?[]? reasons = null;
        // A failing request is tried once per call, not once per record.
        Dictionary<(string Topic, long Hour), string>? unlisted = null;
        Dictionary<HourSlot<HdfsPartFile>, string>? unpublished = null;
        string? overLimit = null;

        for (var i = 0; i < batch.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var record = batch[i];
            var why = PartLayout.Malformed(record);
            if (why is not null || !PartLayout.TryPlaceInHour(record!, out var key, out why))
            {
                Set(i, SinkOutcome.Rejected, why);
                continue;
            }
            var hour = key.Hour;
            if (!FileNames.IsLegalTopic(record.Topic))
            {
                Set(i, SinkOutcome.Rejected, $"'{record.Topic}' is not a Kafka topic name ([a-zA-Z0-9._-], at most 249), so not a safe HDFS path component");
                continue;
            }
            // A typed log type's records go to files of their own schema (one writer schema per file, named by its id).
            var typed = AvroPartFile.SchemaOf(record);
            if (typed is not null)
            {
                if (RefusalOf(typed) is { } refusal)
                {
                    Set(i, SinkOutcome.Rejected, refusal);
                    continue;
                }
                key = key with { Bucket = FileNames.SchemaBucket(typed.Id) };
            }

            var topic = TopicOf(record.Topic);
            if (!topic.IsListed(hour))
            {
                if (unlisted is not null && unlisted.TryGetValue((topic.Name, hour.Index), out var failure))
                {
                    Set(i, SinkOutcome.Errored, failure);
                    continue;
                }
                try
                {
                    await ListHourAsync(topic, hour, cancellation).ConfigureAwait(false);
                }
                catch (WebHdfsException e)
                {
                    failure = $"listing {topic.HourDirectory(hour)} (to skip what is published already) failed: {Describe(e)}";
                    (unlisted ??= [])[(topic.Name, hour.Index)] = failure;
                    Set(i, SinkOutcome.Errored, failure);
                    continue;
                }
            }
            var partition = await PartitionOfAsync(topic, record.Partition, cancellation).ConfigureAwait(false);

            var offset = record.Offset;
            if (offset <= partition.Floor) continue; // a replay of what a flush made durable
            var slot = partition.SlotFor(key);
            if (offset <= slot.WrittenUpTo) continue; // a replay: already in a published or buffered file

            if (slot.File is { IsSealed: true })
            {
                // A full file whose publish failed: the next file of the hour may not be published before it.
                if (unpublished is not null && unpublished.TryGetValue(slot, out var failure))
                {
                    Set(i, SinkOutcome.Errored, failure);
                    continue;
                }
                if (await TryPublishAsync(slot, cancellation).ConfigureAwait(false) is { } error)
                {
                    (unpublished ??= [])[slot] = error;
                    Set(i, SinkOutcome.Errored, error);
                    continue;
                }
            }
            if (_buffered >= _options.BufferLimit)
            {
                overLimit ??= await MakeRoomAsync(cancellation).ConfigureAwait(false);
                if (overLimit is not null)
                {
                    Set(i, SinkOutcome.Errored, overLimit);
                    continue;
                }
            }

            var file = slot.File ?? Open(topic, slot, offset, typed);
            var before = file.Length;
            if (!file.TryAppend(record.Event, offset, out why))
            {
                Set(i, SinkOutcome.Rejected, why);
                continue;
            }
            _buffered += file.Length - before;
            slot.Appended(offset);
            partition.Saw(offset);
            topic.Reached(record.Partition, hour);
            if (file.Length >= _options.RollSize && await TryPublishAsync(slot, cancellation).ConfigureAwait(false) is { } rollError)
            {
                // Delivered all the same: the sealed bytes stay in memory and the next write or flush publishes them.
                (unpublished ??= [])[slot] = rollError;
            }
        }
        return new SinkWriteResult(outcomes, reasons);

        void Set(int index, SinkOutcome outcome, string? reason)
        {
            outcomes[index] = outcome;
            (reasons ??= new string?[batch.Count])[index] = reason;
        }
    }

    /// <summary>Why this sink's files cannot hold a typed schema's records (Parquet only; Avro files hold any); decided once per schema.</summary>
    private string? RefusalOf(TypedLogSchema typed)
    {
        if (_options.Format != HdfsFormat.Parquet) return null;
        if (!_refusals.TryGetValue(typed, out var refusal)) _refusals.Add(typed, refusal = HdfsPartFile.ParquetRefusal(typed));
        return refusal;
    }

    private HdfsTopic TopicOf(string name)
    {
        if (!_topics.TryGetValue(name, out var topic))
        {
            topic = new HdfsTopic(name, _root + "/" + name);
            _topics.Add(name, topic);
        }
        return topic;
    }

    /// <summary>LISTSTATUS of one hour directory: the published marks of every partition in it, and leftover temporary files.</summary>
    private async Task ListHourAsync(HdfsTopic topic, UtcHour hour, CancellationToken cancellation)
    {
        var directory = topic.HourDirectory(hour);
        var entries = await _client.ListStatusAsync(directory, cancellation).ConfigureAwait(false);
        foreach (var entry in entries ?? [])
        {
            if (!entry.IsDirectory) topic.Scan.Add(FileNames.Hdfs, topic.Name, new SlotKey(hour, ""), entry.PathSuffix, directory + "/" + entry.PathSuffix);
        }
        topic.Listed(hour);
        foreach (var partition in topic.Partitions.Keys) await DeleteLeftoversAsync(topic, partition, cancellation).ConfigureAwait(false);
    }

    private async Task<PartitionState<HdfsPartFile>> PartitionOfAsync(HdfsTopic topic, int partition, CancellationToken cancellation)
    {
        if (!topic.Partitions.TryGetValue(partition, out var state))
        {
            state = new PartitionState<HdfsPartFile>(topic.Name, partition, topic.Scan.Published(partition));
            topic.Partitions.Add(partition, state);
            await DeleteLeftoversAsync(topic, partition, cancellation).ConfigureAwait(false);
        }
        return state;
    }

    // Temporary files of a partition this sink holds: a dead writer's (their records were never committed, so
    // they come again), or ours from a publish that failed (the retry creates the file again).
    private async Task DeleteLeftoversAsync(HdfsTopic topic, int partition, CancellationToken cancellation)
    {
        foreach (var path in topic.Scan.TakeLeftovers(partition))
        {
            try
            {
                await _client.DeleteAsync(path, cancellation).ConfigureAwait(false);
            }
            catch (WebHdfsException)
            {
                // Harmless: readers skip hidden files, and a CREATE of the same name overwrites it.
            }
        }
    }

    private HdfsPartFile Open(HdfsTopic topic, HourSlot<HdfsPartFile> slot, long firstOffset, TypedLogSchema? typed)
    {
        var file = new HdfsPartFile(topic.HourDirectory(slot.Hour), topic.Name, slot.Partition.Partition, firstOffset, _options.AvroCodec, _options.Format,
            _options.ParquetCompression, typed);
        slot.Opened(file);
        _open.Add(slot);
        _buffered += file.Length;
        return file;
    }

    private async Task<string?> TryPublishAsync(HourSlot<HdfsPartFile> slot, CancellationToken cancellation)
    {
        try
        {
            await PublishAsync(slot, cancellation).ConfigureAwait(false);
            return null;
        }
        catch (WebHdfsException e)
        {
            return $"{slot}: publishing {slot.File?.TempPath} failed: {Describe(e)}";
        }
    }

    /// <summary>Publishes the largest part files until the buffers are below the limit; a reason when that failed.</summary>
    private async Task<string?> MakeRoomAsync(CancellationToken cancellation)
    {
        while (_buffered >= _options.BufferLimit)
        {
            var largest = _open.Where(s => s.File is not null).MaxBy(s => s.File!.Length);
            if (largest is null) break;
            if (await TryPublishAsync(largest, cancellation).ConfigureAwait(false) is { } error)
            {
                return $"the part files in memory reached buffer-limit ({_options.BufferLimit} bytes) and cannot be published: {error}";
            }
        }
        return null;
    }

    /// <summary>CREATE under the temporary name (overwriting a failed earlier try), then RENAME to the final name.</summary>
    private async Task PublishAsync(HourSlot<HdfsPartFile> slot, CancellationToken cancellation)
    {
        var file = slot.File!;
        if (!file.IsEmpty)
        {
            if (!file.IsSealed)
            {
                var before = file.Length;
                file.Seal(); // writes the last block
                _buffered += file.Length - before;
            }
            using (var content = file.CreateContent())
            {
                await _client.CreateAsync(file.TempPath, content, overwrite: true, cancellation).ConfigureAwait(false);
            }
            if (!await _client.RenameAsync(file.TempPath, file.FinalPath, cancellation).ConfigureAwait(false))
            {
                // False when the destination exists: a rename of ours whose answer was lost, or a file of the same
                // name published before, which holds the same records (same partition, hour and offset range).
                if (await _client.GetFileStatusAsync(file.FinalPath, cancellation).ConfigureAwait(false) is null)
                {
                    throw new WebHdfsException($"RENAME {file.TempPath} to {file.FinalPath} answered false, and the destination does not exist");
                }
                await _client.DeleteAsync(file.TempPath, cancellation).ConfigureAwait(false);
            }
            TopicOf(file.Topic).PublishedIn(slot.Hour);
        }
        _buffered -= file.Length;
        file.Dispose();
        slot.Published();
        _open.Remove(slot);
    }

    private async Task MarkClosedHoursAsync(CancellationToken cancellation)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        foreach (var topic in _topics.Values)
        {
            foreach (var hour in topic.ClosedHours(now, _options.CloseHourAfter).ToList())
            {
                var marker = topic.HourDirectory(hour) + "/" + SuccessMarker;
                try
                {
                    using var empty = new ByteArrayContent([]);
                    await _client.CreateAsync(marker, empty, overwrite: true, cancellation).ConfigureAwait(false);
                }
                catch (WebHdfsException e)
                {
                    throw Failed($"writing {marker} failed", [e]);
                }
                topic.Marked(hour);
            }
        }
    }

    private WebHdfsException Failed(string what, IReadOnlyList<WebHdfsException> failures)
    {
        var first = failures[0];
        return new WebHdfsException($"HDFS sink '{Name}': {what}: {Describe(first)}", first.Status, first.Exception, first.JavaClassName, first);
    }

    /// <summary>The error with what an operator can do about it.</summary>
    private string Describe(WebHdfsException e)
    {
        if (e.IsAccessDenied)
        {
            return $"HDFS denied access ({e.Message}): check {_options.Section}.user / delegation-token and the permissions " +
                $"of {(_root.Length > 0 ? _root : "/")}; retried until fixed";
        }
        if (e.IsSafeMode) return $"HDFS is in safe mode ({e.Message}); retried until it leaves it";
        return e.Message;
    }
}
