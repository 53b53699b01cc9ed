using System.Globalization;

namespace NeverwinterDP.Actors.Kafka.Embedded;

/// <summary>
/// The incarnation of a node's embedded broker, counted in the node's data directory (<c>&lt;data&gt;/bus-epoch</c>).
/// <para>
/// The embedded broker keeps nothing across a stop, so each start numbers every partition from offset 0 again,
/// while the sinks outlive it in the data directory and are idempotent on topic-partition-offset (the files sink
/// skips offsets its file names already cover, the SQL sinks <c>ON CONFLICT DO NOTHING</c>, Elasticsearch and HBase
/// overwrite by id): a restarted node's new records would be skipped or overwrite old ones. So the pump hands the
/// sinks <see cref="SinkOffset"/>s: the Kafka offset with the epoch above bit <see cref="OffsetBits"/>, which puts
/// every record of a later incarnation above every record of an earlier one. Commits, lag and positions keep
/// Kafka's own offsets. A real Kafka cluster never restarts its offsets: its epoch is 0 and sink offsets are Kafka's.
/// </para>
/// </summary>
public static class BusEpoch
{
    /// <summary>Bits left to the Kafka offset: 2^40 records per partition in one incarnation (the embedded broker keeps ~5 MB of each).</summary>
    public const int OffsetBits = 40;

    /// <summary>The largest epoch: sink offsets stay positive longs.</summary>
    public const long MaxEpoch = (1L << (63 - OffsetBits)) - 1;

    public const string FileName = "bus-epoch";

    /// <summary>What the pump adds to the Kafka offsets of an incarnation (0 for epoch 0).</summary>
    public static long OffsetBase(long epoch) =>
        epoch is >= 0 and <= MaxEpoch ? epoch << OffsetBits : throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"a bus epoch is 0..{MaxEpoch}");

    /// <summary>The offset the sinks see for a record at <paramref name="kafkaOffset"/> of an incarnation whose base is <paramref name="offsetBase"/>.</summary>
    public static long SinkOffset(long offsetBase, long kafkaOffset) =>
        kafkaOffset >> OffsetBits == 0 ? offsetBase | kafkaOffset : throw new InvalidOperationException($"offset {kafkaOffset} needs more than {OffsetBits} bits");

    /// <summary>
    /// Draws this start's epoch: one more than the last one written in <paramref name="dataDirectory"/>, written
    /// (fsynced) before the broker takes a record, so no two starts on one directory share an epoch. The first start
    /// on a new (absent or empty) directory is epoch 0: its sink offsets are Kafka's. A directory that holds files but
    /// no epoch (a node of an earlier version ran there) starts at 1. Call it before the node writes anything there.
    /// An unreadable file is an error naming it: guessing could reuse an epoch, and that would lose records.
    /// </summary>
    public static long Next(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        long last;
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out last) || last > MaxEpoch)
                throw new InvalidOperationException($"{path}: '{text}' is not a bus epoch (0..{MaxEpoch}); it counts the embedded broker's starts on this data directory, so the sinks there can tell their records apart: restore it or, with the sinks' output moved away, delete it");
        }
        else
        {
            last = Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any() ? 0 : -1;
        }
        Directory.CreateDirectory(dataDirectory);
        var next = last + 1;
        if (next > MaxEpoch) throw new InvalidOperationException($"{path}: the embedded broker was started {last} times on this data directory, the most it can tell apart");
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        Sinks.PartFiles.DirectorySync.Fsync(dataDirectory);
        return next;
    }
}
