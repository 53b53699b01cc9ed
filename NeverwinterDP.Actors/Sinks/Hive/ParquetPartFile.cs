using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Formats;
using NeverwinterDP.Protocol;
using Parquet;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// A part file of <see cref="LogEventParquet"/> rows: buffered in columns and written as a row group every
/// <c>rowGroupRows</c> rows and at publish, when the footer is written. Parquet.Net's API is asynchronous; the
/// part-file engine is not (it runs on a pool thread, no synchronization context), so the calls are awaited in place.
/// The file's schema is set by its first record: the fixed columns, then the typed columns its log type's schemas
/// met so far in the table (<see cref="HiveCatalog.ColumnsOf"/>; none for an untyped type, whose files are as they
/// always were). A typed record whose fields the file has no column for does not <see cref="Fits"/>: the engine
/// publishes the file and starts another, with the new columns.
/// </summary>
internal sealed class ParquetPartFile : PartFile
{
    private readonly FileStream _stream;
    private readonly CompressionMethod _compression;
    private readonly Func<string, TypedLogSchema, HiveTypedPlan> _plan;
    private readonly Func<string, HiveColumn[]> _columnsOf;
    private readonly LogEventParquet _rows = new();
    private readonly int _rowGroupRows;
    private ParquetWriter? _writer;
    private HiveTypedRows? _typed;
    private TypedLogSchema? _fits; // the last schema found to fit, checked again only when another comes
    private bool _closed;

    /// <param name="plan">How the table takes a type's schema (refused, or its fields).</param>
    /// <param name="columnsOf">The typed columns a new file of a type gets.</param>
    public ParquetPartFile(
        FileNames names, string directory, string topic, int partition, long firstOffset, CompressionMethod compression, int rowGroupRows, long batch,
        Func<string, TypedLogSchema, HiveTypedPlan> plan, Func<string, HiveColumn[]> columnsOf)
        : base(names, directory, topic, partition, firstOffset, ".parquet", batch)
    {
        _rowGroupRows = rowGroupRows;
        _compression = compression;
        _plan = plan;
        _columnsOf = columnsOf;
        _stream = new FileStream(TempPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 256 * 1024);
    }

    /// <summary>Bytes written plus the buffered rows' size before encoding (so files come out at most about the roll size).</summary>
    public override long Length => _stream.Position + _rows.BufferedBytes + (_typed?.BufferedBytes ?? 0);

    /// <summary>An untyped record fits any file; a typed one a file not started yet, or one with a column holding each of its fields.</summary>
    public override bool Fits(SinkRecord record)
    {
        var logEvent = record.Event;
        if (logEvent.Typed is not { } typed || _writer is null || ReferenceEquals(typed.Schema, _fits)) return true;
        var plan = _plan(logEvent.Type, typed.Schema);
        if (plan.Refusal is not null) return true; // refused by TryWrite
        if (_typed is null || !_typed.Covers(plan)) return false;
        _fits = typed.Schema;
        return true;
    }

    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason)
    {
        if (!LogEventParquet.CanWrite(logEvent, out reason)) return false;
        var typed = logEvent.Typed;
        if (typed is not null && _plan(logEvent.Type, typed.Schema) is { Refusal: { } refusal })
        {
            reason = refusal;
            return false;
        }
        if (_writer is null) Start(logEvent.Type);
        if (_typed is null)
        {
            if (typed is not null) throw new InvalidOperationException($"{TempPath} has no typed columns for schema id {typed.Schema.Id}: Fits was not asked");
            _rows.Add(logEvent, Topic, Partition, offset);
        }
        else
        {
            _rows.Add(logEvent, Topic, Partition, offset, typed?.Schema);
            _typed.Add(typed);
        }
        if (_rows.Count >= _rowGroupRows) WriteRowGroup();
        return true;
    }

    protected override void Seal(bool fsync)
    {
        if (_writer is not null)
        {
            WriteRowGroup();
            Io(() => _writer.DisposeAsync().AsTask()); // the footer
        }
        _stream.Flush(flushToDisk: fsync);
        Close();
    }

    // The schema, from the first record's type: the typed columns its schemas met so far, or none.
    private void Start(string type)
    {
        var columns = _columnsOf(type);
        var schema = LogEventParquet.Schema;
        if (columns.Length > 0)
        {
            _typed = new HiveTypedRows(columns);
            schema = LogEventParquet.SchemaWith(_typed.Fields);
        }
        _writer = Io(() => ParquetWriter.CreateAsync(schema, _stream, new ParquetOptions { CompressionMethod = _compression }));
    }

    private void WriteRowGroup()
    {
        var typed = _typed;
        Io(() => _rows.WriteRowGroupAsync(_writer!, typed is null ? null : typed.WriteAsync));
    }

    /// <summary>Closes the temporary file without a footer: it is deleted or replaced, never read.</summary>
    public override void Dispose() => Close();

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _rows.Clear();
        _typed?.Clear();
        _stream.Dispose();
    }

    // Whatever fails while the file is written leaves it unusable: a file failure, so the engine abandons it.
    private T Io<T>(Func<Task<T>> call)
    {
        try
        {
            return call().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException or OutOfMemoryException))
        {
            throw new IOException($"Writing {TempPath} failed: {e.Message}", e);
        }
    }

    private void Io(Func<Task> call) => Io(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });
}
