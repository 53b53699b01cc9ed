namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Where a record's part file goes: the (hour, bucket) a record belongs to. The files sink's buckets are
/// empty (one directory per hour); the Hive sink's bucket is the event type (one directory per type and hour).
/// </summary>
internal readonly record struct SlotKey(UtcHour Hour, string Bucket)
{
    public override string ToString() => Bucket.Length == 0 ? $"hour {Hour}" : $"{Bucket} hour {Hour}";
}

/// <summary>
/// What differs between the sinks that write hour-partitioned part files with <see cref="PartFileSink"/>:
/// the directory tree, the file names and the file format. Publishing, recovery from names, idempotence
/// and failure handling are the same for all and live in <see cref="PartFileSink"/>.
/// </summary>
internal abstract class PartLayout(string root)
{
    /// <summary>The absolute root of the tree.</summary>
    public string Root { get; } = root;

    public abstract FileNames Names { get; }

    /// <summary>The slot of a record; false with a reason for a record no directory of this layout can hold.</summary>
    public abstract bool TryPlace(SinkRecord record, out SlotKey key, out string? reason);

    /// <summary>The directory the files of a (topic, slot) go to.</summary>
    public abstract string DirectoryOf(string topic, SlotKey key);

    /// <summary>The directories that may hold files of <paramref name="topic"/> with their slots (recovery reads them).</summary>
    /// <exception cref="IOException">The tree could not be read.</exception>
    public abstract IEnumerable<(string Directory, SlotKey Key)> ExistingDirectories(string topic);

    /// <summary>A new part file under its temporary name.</summary>
    public abstract PartFile Create(string directory, string topic, int partition, long firstOffset, long batch);

    /// <summary>A file was published in <paramref name="directory"/> (the Hive sink registers new partitions).</summary>
    public virtual void Published(string topic, SlotKey key, string directory)
    {
    }

    /// <summary>During a flush, after the files are published: make the layout's own metadata durable.</summary>
    /// <exception cref="IOException">It could not; the flush fails and is tried again.</exception>
    public virtual void Flush()
    {
    }

    /// <summary>Why no layout can place <paramref name="record"/> (no record or event, a negative partition or offset); null when it is whole.</summary>
    public static string? Malformed(SinkRecord? record) => record switch
    {
        null => "no record",
        { HasNoEvent: true } => "the record has no event",
        { Partition: < 0 } => $"partition {record.Partition} is negative",
        { Offset: < 0 } => $"offset {record.Offset} is negative",
        _ => null,
    };

    /// <summary>The slots of the files and HDFS trees: the UTC hour of the system timestamp, no bucket.</summary>
    public static bool TryPlaceInHour(SinkRecord record, out SlotKey key, out string? reason)
    {
        key = default;
        if (!UtcHour.TryFromEpochMs(record.SystemTs, out var hour))
        {
            reason = $"system_ts {record.SystemTs} is outside the years 0001-9999, so no hour directory can hold it";
            return false;
        }
        key = new SlotKey(hour, "");
        reason = null;
        return true;
    }

    /// <summary>Enumerates everything, the dotted temporary files too (.NET counts them as hidden on Unix and skips them by default).</summary>
    public static EnumerationOptions Everything { get; } = new() { AttributesToSkip = 0, IgnoreInaccessible = false };
}
