using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Formats;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Hive;
using Parquet;
using Parquet.Schema;

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
/// tree is not partitioned by it) and encoded as one Parquet file when sealed. A file of a typed schema's records
/// (<see cref="Typed"/>) writes its fields in their own types: as that schema's Avro records, or as Parquet columns
/// typed as the Hive sink types them (<see cref="HiveTypedRows"/>), the typed values out of the attributes map.
/// </remarks>
internal sealed class HdfsPartFile : IDisposable
{
    private readonly string _extension;
    private readonly SegmentedBuffer _buffer = new();
    private readonly AvroContainerWriter? _writer;
    private readonly LogEventParquet? _rows;
    private readonly HiveTypedRows? _typedRows;
    private readonly CompressionMethod _compression;

    /// <param name="typed">The typed schema every record of the file is of (its fields written in their own types); null: plain LogEvents.</param>
    public HdfsPartFile(string hourDirectory, string topic, int partition, long firstOffset, AvroCodec codec, HdfsFormat format = HdfsFormat.Avro,
        CompressionMethod parquetCompression = CompressionMethod.Snappy, TypedLogSchema? typed = null)
    {
        HourDirectory = hourDirectory;
        Topic = topic;
        Partition = partition;
        FirstOffset = firstOffset;
        LastOffset = firstOffset - 1;
        Typed = typed;
        _extension = format == HdfsFormat.Parquet ? ".parquet" : ".avro";
        TempPath = hourDirectory + "/" + FileNames.Hdfs.Temp(topic, partition, firstOffset, _extension, typed?.Id ?? 0);
        _compression = parquetCompression;
        if (format == HdfsFormat.Parquet)
        {
            _rows = new LogEventParquet(withType: true);
            if (typed is not null) _typedRows = new HiveTypedRows(TypedColumns(typed));
        }
        else
        {
            _writer = new AvroContainerWriter(_buffer, codec, TempPath, typed);
        }
    }

    /// <summary>The typed schema of the file's records; null for plain LogEvents.</summary>
    public TypedLogSchema? Typed { get; }

    /// <summary>
    /// Why a Parquet file cannot hold the records of <paramref name="typed"/> (a field named as a column every row has,
    /// compared without case as Spark, Hive and DuckDB do; a decimal beyond the Parquet writer's 28 digits); null when it can.
    /// </summary>
    public static string? ParquetRefusal(TypedLogSchema typed)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in typed.Fields)
        {
            if (FixedColumns.Contains(field.Name))
                return $"typed field '{field.Name}' (schema id {typed.Id}) has the name of a column every row of the HDFS sink's Parquet files has; rename the field in the log type's schema";
            if (!names.Add(field.Name))
                return $"typed fields of schema id {typed.Id} differ only in case ('{field.Name}'), which Parquet readers do not tell apart";
            if (field.Leaf is { Kind: TypedKind.Decimal, Precision: > HiveTypes.MaxDecimalPrecision })
                return $"typed field '{field.Name}' is {field.TypeName} (schema id {typed.Id}): the Parquet writer holds decimals of at most {HiveTypes.MaxDecimalPrecision} digits";
        }
        return null;
    }

    private static readonly HashSet<string> FixedColumns =
        new(LogEventParquet.SchemaWithType.Fields.Select(f => f.Name), StringComparer.OrdinalIgnoreCase);

    // One column per field, typed as the Hive sink's Parquet files type it (docs/schemas.md).
    private static HiveColumn[] TypedColumns(TypedLogSchema typed) => typed.Fields.Select(f => new HiveColumn(f.Name, HiveTypes.Of(f))).ToArray();

    public string HourDirectory { get; }

    public string Topic { get; }

    public int Partition { get; }

    public long FirstOffset { get; }

    public long LastOffset { get; private set; }

    public bool IsEmpty => LastOffset < FirstOffset;

    public bool IsSealed { get; private set; }

    public string TempPath { get; }

    /// <summary>The published name; valid once sealed.</summary>
    public string FinalPath => HourDirectory + "/" + FileNames.Hdfs.Final(Topic, Partition, FirstOffset, LastOffset, _extension, Typed?.Id ?? 0);

    /// <summary>Bytes in memory; the Avro block being filled (up to the sync interval) is not counted.</summary>
    public long Length => _buffer.Length + (_rows?.BufferedBytes ?? 0) + (_typedRows?.BufferedBytes ?? 0);

    /// <summary>Appends one record; false (with a reason) when the event cannot be encoded, and then nothing was written.</summary>
    public bool TryAppend(LogEvent logEvent, long offset, out string? reason)
    {
        if (IsSealed) throw new InvalidOperationException($"{TempPath} is sealed");
        if (_rows is not null)
        {
            if (!LogEventParquet.CanWrite(logEvent, out reason)) return false;
            if (_typedRows is not null)
            {
                if (logEvent.Typed?.Schema.Id != Typed!.Id)
                    throw new InvalidOperationException($"{TempPath} holds records of schema id {Typed.Id}, not this one");
                _rows.Add(logEvent, Topic, Partition, offset, Typed);
                _typedRows.Add(logEvent.Typed);
            }
            else
            {
                _rows.Add(logEvent, Topic, Partition, offset);
            }
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
                var schema = _typedRows is null ? _rows.FileSchema : new ParquetSchema(_rows.FileSchema.Fields.Concat(_typedRows.Fields).ToArray());
                await using var writer = await ParquetWriter.CreateAsync(schema, file, new ParquetOptions { CompressionMethod = _compression }).ConfigureAwait(false);
                await _rows.WriteRowGroupAsync(writer, _typedRows is null ? null : _typedRows.WriteAsync).ConfigureAwait(false);
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
        _typedRows?.Clear();
        _buffer.Dispose();
    }
}

/// <summary>The HDFS sink's file format (<c>format = avro | parquet</c>).</summary>
public enum HdfsFormat
{
    Avro,
    Parquet,
}
