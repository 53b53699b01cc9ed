using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// One file of one (topic, partition, hour) while it is written: under its temporary name until
/// <see cref="Publish"/> makes it durable and renames it to the name that carries its offset range. Holds
/// the records of that partition and hour from <see cref="FirstOffset"/> to <see cref="LastOffset"/>, with
/// no gaps but the offsets that went to other hours (recovery relies on that).
/// </summary>
internal abstract class PartFile : IDisposable
{
    private readonly FileNames _names;

    protected PartFile(FileNames names, string directory, string topic, int partition, long firstOffset, string extension, long batch)
    {
        _names = names;
        Directory = directory;
        Topic = topic;
        Partition = partition;
        FirstOffset = firstOffset;
        LastOffset = firstOffset - 1;
        Extension = extension;
        OpenedInBatch = batch;
        TempPath = Path.Combine(directory, names.Temp(topic, partition, firstOffset, extension));
    }

    public string Directory { get; }

    public string Topic { get; }

    public int Partition { get; }

    public long FirstOffset { get; }

    public long LastOffset { get; private set; }

    /// <summary>The file name's extension, with its dot.</summary>
    public string Extension { get; }

    /// <summary>Records appended.</summary>
    public long Count { get; private set; }

    /// <summary>No record was appended (the one it was opened for was rejected).</summary>
    public bool IsEmpty => LastOffset < FirstOffset;

    /// <summary>The sink's write call that opened the file: records from earlier calls were already reported delivered.</summary>
    public long OpenedInBatch { get; }

    public string TempPath { get; }

    /// <summary>Bytes written so far, buffered ones included; compared with the roll size.</summary>
    public abstract long Length { get; }

    /// <summary>Appends one record; false (with a reason) when the event cannot be encoded, and then nothing was written.</summary>
    /// <exception cref="IOException">The file failed; it must be abandoned.</exception>
    public bool TryAppend(SinkRecord record, long offset, out string? reason)
    {
        if (!TryWrite(record, offset, out reason)) return false;
        LastOffset = offset;
        Count++;
        return true;
    }

    /// <summary>Flushes, fsyncs when asked, closes, and renames the file to its final name; answers that path.</summary>
    /// <exception cref="IOException">The file failed; what it held is lost.</exception>
    public string Publish(bool fsync)
    {
        Seal(fsync);
        var final = Path.Combine(Directory, _names.Final(Topic, Partition, FirstOffset, LastOffset, Extension));
        // Replacing is right: a file of the same name holds the same records (same partition, hour and range).
        File.Move(TempPath, final, overwrite: true);
        return final;
    }

    /// <summary>Closes the file and deletes it: after a failure, its records are written again when redelivered.</summary>
    public void Discard()
    {
        try
        {
            Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // It failed already; closing it is all that is left.
        }
        try
        {
            File.Delete(TempPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is deleted when a later process first sees this partition.
        }
    }

    /// <summary>
    /// Whether the record can go into this file (called before <see cref="TryAppend"/>); false: the file's fixed schema
    /// has no place for it, so the engine publishes the file and opens another for it (the Hive sink's typed columns).
    /// </summary>
    /// <exception cref="IOException">Deciding needed a write that failed.</exception>
    public virtual bool Fits(SinkRecord record) => true;

    protected abstract bool TryWrite(LogEvent logEvent, long offset, out string? reason);

    /// <summary>Writes the record's event; a format that can write an encoded record's bytes as they are overrides this.</summary>
    protected virtual bool TryWrite(SinkRecord record, long offset, out string? reason) => TryWrite(record.Event, offset, out reason);

    /// <summary>Writes out every buffered byte, fsyncs when asked, closes.</summary>
    protected abstract void Seal(bool fsync);

    /// <summary>Writes out what is buffered (no fsync) and closes, leaving the temporary file where it is.</summary>
    public abstract void Dispose();
}
