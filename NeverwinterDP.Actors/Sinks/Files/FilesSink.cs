using NeverwinterDP.Actors.Sinks.PartFiles;
namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// Writes records to hour-partitioned files: <c>&lt;directory&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/</c>, the hour being the UTC
/// hour of the event's system timestamp, one file open per (topic, partition, hour) under a temporary name,
/// published (flushed, fsynced, closed, renamed, directory fsynced) when it reaches the roll size and on every
/// <see cref="PartFileSink.FlushAsync"/>. See <see cref="FileNames"/> for the names and <see cref="PartFileSink"/>
/// for idempotence and recovery.
/// </summary>
public sealed class FilesSink : PartFileSink
{
    /// <param name="options">Where and how to write; validated here.</param>
    /// <param name="name">The sink instance's name (metrics, dead-letter topic).</param>
    public FilesSink(FilesSinkOptions options, string name = "files")
        : base(CreateLayout(options), name, options.Fsync, options.RollSize, long.MaxValue)
    {
        Options = options;
    }

    public FilesSinkOptions Options { get; }

    private static FilesLayout CreateLayout(FilesSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new FilesLayout(options, Path.GetFullPath(options.Directory));
    }
}
