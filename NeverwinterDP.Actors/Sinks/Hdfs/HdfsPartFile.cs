using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// One Avro part file of one (topic, partition, hour), gathered in memory (<see cref="SegmentedBuffer"/>) and
/// uploaded whole when published: CREATE under the hidden temporary name, then RENAME to the name that
/// carries its offset range (the names are the files sink's, <see cref="FileNames"/>). Holds the records of
/// that partition and hour from <see cref="FirstOffset"/> to <see cref="LastOffset"/> with no gaps but the
/// offsets that went to other hours. Once <see cref="Seal"/>ed its bytes are final, and they stay in memory
/// until the publish succeeds, so a failed upload or rename loses nothing: it is tried again.
/// </summary>
internal sealed class HdfsPartFile : IDisposable
{
    private const string Extension = ".avro";

    private readonly SegmentedBuffer _buffer = new();
    private readonly AvroContainerWriter _writer;

    public HdfsPartFile(string hourDirectory, string topic, int partition, long firstOffset, FilesAvroCodec codec)
    {
        HourDirectory = hourDirectory;
        Topic = topic;
        Partition = partition;
        FirstOffset = firstOffset;
        LastOffset = firstOffset - 1;
        TempPath = hourDirectory + "/" + FileNames.Files.Temp(topic, partition, firstOffset, Extension);
        _writer = new AvroContainerWriter(_buffer, codec, TempPath);
    }

    public string HourDirectory { get; }

    public string Topic { get; }

    public int Partition { get; }

    public long FirstOffset { get; }

    public long LastOffset { get; private set; }

    public bool IsEmpty => LastOffset < FirstOffset;

    public bool IsSealed { get; private set; }

    public string TempPath { get; }

    /// <summary>The published name; valid once sealed.</summary>
    public string FinalPath => HourDirectory + "/" + FileNames.Files.Final(Topic, Partition, FirstOffset, LastOffset, Extension);

    /// <summary>Bytes in memory; the Avro block being filled (up to the sync interval) is not counted.</summary>
    public long Length => _buffer.Length;

    /// <summary>Appends one record; false (with a reason) when the event cannot be encoded, and then nothing was written.</summary>
    public bool TryAppend(LogEvent logEvent, long offset, out string? reason)
    {
        if (IsSealed) throw new InvalidOperationException($"{TempPath} is sealed");
        if (!_writer.TryAppend(logEvent, out reason)) return false;
        LastOffset = offset;
        return true;
    }

    /// <summary>Writes the last Avro block: the bytes are final.</summary>
    public void Seal()
    {
        if (IsSealed) return;
        _writer.Close();
        IsSealed = true;
    }

    /// <summary>The file's bytes as a request body (sealed files only).</summary>
    public HttpContent CreateContent() =>
        IsSealed ? _buffer.CreateContent() : throw new InvalidOperationException($"{TempPath} is not sealed");

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
    }
}
