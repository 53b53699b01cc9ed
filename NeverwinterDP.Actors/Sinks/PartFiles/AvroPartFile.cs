using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// An Avro object container file on disk (see <see cref="AvroContainerWriter"/>): of <c>neverwinterdp.LogEvent</c>
/// records, or, <paramref name="typed"/>, of the schema of its first record: a typed log type's record is written
/// as that schema's record (its fields in their Avro types), and a record of another schema does not fit
/// (<see cref="Fits"/>), so the engine publishes the file and opens another, since a container file has one writer schema.
/// </summary>
internal sealed class AvroPartFile : PartFile
{
    private const int StreamBuffer = 256 * 1024;

    private readonly FileStream _stream;
    private readonly AvroCodec _codec;
    private readonly bool _typed;
    private readonly Func<string, TypedLogSchema, Hive.HiveTypedPlan>? _plan;
    private AvroContainerWriter? _writer;
    private bool _closed;

    /// <param name="plan">Typed: whether the table takes a type's schema (a refusal rejects its records); null: every schema is taken.</param>
    public AvroPartFile(FileNames names, string directory, string topic, int partition, long firstOffset, AvroCodec codec, long batch, bool typed = false,
        Func<string, TypedLogSchema, Hive.HiveTypedPlan>? plan = null)
        : base(names, directory, topic, partition, firstOffset, ".avro", batch)
    {
        _codec = codec;
        _typed = typed;
        _plan = plan;
        _stream = new FileStream(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read, StreamBuffer);
        if (typed) return; // the writer schema is the first record's
        try
        {
            _writer = new AvroContainerWriter(_stream, codec, TempPath);
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>What reached the stream; the block being filled (up to the sync interval) is not counted.</summary>
    public override long Length => _stream.Position;

    /// <summary>The typed schema of the file's records (null: LogEvents, or none written yet).</summary>
    public TypedLogSchema? Typed => _writer?.Typed;

    /// <summary>Typed: a record of the file's writer schema (the first record's), any record while the file is empty, and one refused by the plan (by TryWrite).</summary>
    public override bool Fits(SinkRecord record)
    {
        if (!_typed || _writer is null) return true;
        var schema = SchemaOf(record);
        if (schema?.Id == _writer.Typed?.Id) return true;
        return schema is not null && Refusal(record, schema) is not null;
    }

    /// <summary>The typed schema a record is written with; an encoded record (<see cref="SinkRecord.Framed"/>) is a plain LogEvent.</summary>
    public static TypedLogSchema? SchemaOf(SinkRecord record) => record.Framed is null ? record.Event.Typed?.Schema : null;

    protected override bool TryWrite(SinkRecord record, long offset, out string? reason)
    {
        var schema = _typed ? SchemaOf(record) : null;
        if (schema is not null && Refusal(record, schema) is { } refusal)
        {
            reason = refusal;
            return false;
        }
        _writer ??= new AvroContainerWriter(_stream, _codec, TempPath, schema);
        return _writer.TryAppend(record.Event, out reason);
    }

    // Every record comes through TryWrite(SinkRecord); this is its event as a plain record of this file's kind.
    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason) =>
        TryWrite(new SinkRecord(Topic, Partition, offset, logEvent), offset, out reason);

    private string? Refusal(SinkRecord record, TypedLogSchema schema) => _plan?.Invoke(record.Event.Type, schema).Refusal;

    protected override void Seal(bool fsync)
    {
        _writer?.Close(); // writes the last block; the stream stays open
        _stream.Flush(flushToDisk: fsync);
        Close();
    }

    public override void Dispose()
    {
        if (_closed) return;
        try
        {
            _writer?.Dispose();
        }
        finally
        {
            Close();
        }
    }

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _stream.Dispose();
    }
}
