using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Formats;
using NeverwinterDP.Protocol;
using Parquet;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// One Avro part file of one (topic, partition, hour), gathered in memory (<see cref="SegmentedBuffer"/>) and
/// uploaded whole when published: CREATE under the hidden temporary name, then RENAME to the name that
/// carries its offset range (the names are the files sink's, <see cref="FileNames"/>). Holds the records of
/// that partition and hour from <see cref="FirstOffset"/> to <see cref="LastOffset"/> with no gaps but the
/// offsets that went to other hours. Once <see cref="Seal"/>ed its bytes are final, and they stay in memory
/// until the publish succeeds, so a failed upload or rename loses nothing: it is tried again.
/// </summary>
/// <remarks>
/// With <c>format = parquet</c> the rows are kept in columns (<see cref="LogEventParquet"/>, <c>type</c> included: this
/// tree is not partitioned by it) and encoded as one Parquet file when sealed.
/// </remarks>
internal sealed class HdfsPartFile : IDisposable
{
    private readonly string _extension;
    private readonly SegmentedBuffer _buffer = new();
    private readonly AvroContainerWriter? _writer;
    private readonly LogEventParquet? _rows;
    private readonly CompressionMethod _compression;

    public HdfsPartFile(string hourDirectory, string topic, int partition, long firstOffset, AvroCodec codec, HdfsFormat format = HdfsFormat.Avro,
        CompressionMethod parquetCompression = CompressionMethod.Snappy)
    {
        HourDirectory = hourDirectory;
        Topic = topic;
        Partition = partition;
        FirstOffset = firstOffset;
        LastOffset = firstOffset - 1;
        _extension = format == HdfsFormat.Parquet ? ".parquet" : ".avro";
        TempPath = hourDirectory + "/" + FileNames.Hdfs.Temp(topic, partition, firstOffset, _extension);
        _compression = parquetCompression;
        if (format == HdfsFormat.Parquet) _rows = new LogEventParquet(withType: true);
        else _writer = new AvroContainerWriter(_buffer, codec, TempPath);
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
    public string FinalPath => HourDirectory + "/" + FileNames.Hdfs.Final(Topic, Partition, FirstOffset, LastOffset, _extension);

    /// <summary>Bytes in memory; the Avro block being filled (up to the sync interval) is not counted.</summary>
    public long Length => _buffer.Length + (_rows?.BufferedBytes ?? 0);

    /// <summary>Appends one record; false (with a reason) when the event cannot be encoded, and then nothing was written.</summary>
    public bool TryAppend(LogEvent logEvent, long offset, out string? reason)
    {
        if (IsSealed) throw new InvalidOperationException($"{TempPath} is sealed");
        if (_rows is not null)
        {
            if (!LogEventParquet.CanWrite(logEvent, out reason)) return false;
            _rows.Add(logEvent, Topic, Partition, offset);
        }
        else if (!_writer!.TryAppend(logEvent, out reason)) return false;
        LastOffset = offset;
        return true;
    }

    /// <summary>Writes the last Avro block: the bytes are final.</summary>
    public void Seal()
    {
        if (IsSealed) return;
        if (_rows is not null)
        {
            // Parquet writes its footer after the data: encode into memory, then into the upload buffer.
            using var file = new MemoryStream();
            Task.Run(async () =>
            {
                await using var writer = await ParquetWriter.CreateAsync(_rows.FileSchema, file, new ParquetOptions { CompressionMethod = _compression }).ConfigureAwait(false);
                await _rows.WriteRowGroupAsync(writer).ConfigureAwait(false);
            }).GetAwaiter().GetResult();
            file.Position = 0;
            file.CopyTo(_buffer);
        }
        else _writer!.Close();
        IsSealed = true;
    }

    /// <summary>The file's bytes as a request body (sealed files only).</summary>
    public HttpContent CreateContent() =>
        IsSealed ? _buffer.CreateContent() : throw new InvalidOperationException($"{TempPath} is not sealed");

    public void Dispose()
    {
        _writer?.Dispose();
        _rows?.Clear();
        _buffer.Dispose();
    }
}

/// <summary>The HDFS sink's file format (<c>format = avro | parquet</c>).</summary>
public enum HdfsFormat
{
    Avro,
    Parquet,
}
