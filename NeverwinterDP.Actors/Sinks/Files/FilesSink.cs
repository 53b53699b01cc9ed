using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// Writes records to hour-partitioned files: <c>&lt;directory&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/</c>, the hour being the UTC
/// hour of the event's system timestamp, one file open per (topic, partition, hour) under a temporary name,
/// published (flushed, fsynced, closed, renamed, directory fsynced) when it reaches the roll size and on every
/// <see cref="PartFileSink.FlushAsync"/>. See <see cref="FileNames"/> for the names and <see cref="PartFileSink"/>
/// for idempotence and recovery. Once an hour of a topic is complete (every ingress node's hour marker read from every
/// partition, see <see cref="IHourCompletionListener"/>), its directory gets a <c>_SUCCESS</c> holding the completion as JSON.
/// </summary>
public sealed class FilesSink : PartFileSink, IHourCompletionListener, IEncodedRecordSink
{
    /// <summary>The file a complete hour's directory gets.</summary>
    public const string SuccessFile = HourSuccess.FileName;

    /// <param name="options">Where and how to write; validated here.</param>
    /// <param name="name">The sink instance's name (metrics, dead-letter topic).</param>
    public FilesSink(FilesSinkOptions options, string name = "files")
        : base(CreateLayout(options), name, options.Fsync, options.RollSize, long.MaxValue)
    {
        Options = options;
    }

    public FilesSinkOptions Options { get; }

    /// <summary>NDJSON lines are written straight from the bus bytes (byte for byte the decoded event's line).</summary>
    public bool ReadsEncoded => Options.Format == FilesFormat.Ndjson;

    /// <summary>
    /// Writes <c>_SUCCESS</c> (the completion's JSON: counts per partition, nodes, version) into the hour's directory, by atomic
    /// rename, when the hour is complete; a later version replaces it. An hour closed incomplete gets none. An hour without
    /// events gets its directory, so a downstream job sees it complete and empty.
    /// </summary>
    public Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation)
    {
        if (!HourSuccess.TryFor(completion, out var hour, out var content)) return Task.CompletedTask;
        var directory = Path.Combine(Path.GetFullPath(Options.Directory), completion.Topic, hour.RelativePath);
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, SuccessFile + FileNames.TempSuffix);
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(content);
            if (Options.Fsync) file.Flush(flushToDisk: true);
        }
        File.Move(temp, Path.Combine(directory, SuccessFile), overwrite: true);
        if (Options.Fsync) DirectorySync.Fsync(directory);
        return Task.CompletedTask;
    }

    private static FilesLayout CreateLayout(FilesSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new FilesLayout(options, Path.GetFullPath(options.Directory));
    }
}
