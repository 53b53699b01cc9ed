namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// The state of one (topic, partition, hour, bucket) of a part file sink; <typeparamref name="TFile"/> is the
/// sink's file being written (<see cref="PartFile"/> on a local tree, the HDFS sink's in-memory file). Idempotence is kept per hour, not per partition:
/// a partition has a file open for every hour its records fall in, and a flush renames them one at a time,
/// so after a crash between two renames a partition-wide "highest published offset" would count the records
/// of the file not yet renamed as written, and skip them when they come again. Within one hour the files are
/// published in offset order and hold every record of the hour in their range, so the highest published
/// offset of the hour is exact.
/// </summary>
internal sealed class HourSlot<TFile>(PartitionState<TFile> partition, SlotKey key, long publishedUpTo)
    where TFile : class
{
    public PartitionState<TFile> Partition { get; } = partition;

    public SlotKey Key { get; } = key;

    public UtcHour Hour => Key.Hour;

    /// <summary>The highest offset in a published file of this hour; -1 when there is none.</summary>
    public long PublishedUpTo { get; private set; } = publishedUpTo;

    /// <summary>The highest offset written, published or in <see cref="File"/>: a record at or below it is a replay.</summary>
    public long WrittenUpTo { get; private set; } = publishedUpTo;

    /// <summary>The file being written, if any.</summary>
    public TFile? File { get; private set; }

    /// <summary>
    /// While at least 0: the first offset of a file that failed. Records above it are refused (errored) until
    /// the pump hands over that offset again, since publishing them would hide the lost ones from a replay.
    /// </summary>
    public long LostFrom { get; private set; } = -1;

    /// <summary>The lost records include some already reported delivered: only a replay from the last commit brings them back.</summary>
    public bool LostDelivered { get; private set; }

    /// <summary>Why the records were lost.</summary>
    public Exception? LostBecause { get; private set; }

    public bool IsBroken => LostFrom >= 0;

    public void Opened(TFile file) => File = file;

    public void Appended(long offset) => WrittenUpTo = offset;

    public void Published()
    {
        PublishedUpTo = WrittenUpTo;
        File = null;
    }

    /// <summary>The open file (if any) was discarded: everything from <paramref name="lostFrom"/> must be written again.</summary>
    public void Failed(long lostFrom, bool lostDelivered, Exception because)
    {
        File = null;
        WrittenUpTo = PublishedUpTo;
        LostFrom = lostFrom;
        LostDelivered = lostDelivered;
        LostBecause = because;
    }

    /// <summary>The pump went back to the lost records: take them again.</summary>
    public void Repaired()
    {
        LostFrom = -1;
        LostDelivered = false;
        LostBecause = null;
    }

    public override string ToString() => $"{Partition} {Key}";
}
