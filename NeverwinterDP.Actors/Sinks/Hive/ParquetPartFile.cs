using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Formats;
using NeverwinterDP.Protocol;
using Parquet;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// A part file of <see cref="LogEventParquet"/> rows: buffered in columns and written as a row group every
/// <c>rowGroupRows</c> rows and at publish, when the footer is written. Parquet.Net's API is asynchronous; the
/// part-file engine is not (it runs on a pool thread, no synchronization context), so the calls are awaited in place.
/// </summary>
internal sealed class ParquetPartFile : PartFile
{
    private readonly FileStream _stream;
    private readonly ParquetWriter _writer;
    private readonly LogEventParquet _rows = new();
    private readonly int _rowGroupRows;
    private bool _closed;

    public ParquetPartFile(FileNames names, string directory, string topic, int partition, long firstOffset, CompressionMethod compression, int rowGroupRows, long batch)
        : base(names, directory, topic, partition, firstOffset, ".parquet", batch)
    {
        _rowGroupRows = rowGroupRows;
        _stream = new FileStream(TempPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 256 * 1024);
        try
        {
            _writer = Io(() => ParquetWriter.CreateAsync(LogEventParquet.Schema, _stream, new ParquetOptions { CompressionMethod = compression }));
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>Bytes written plus the buffered rows' size before encoding (so files come out at most about the roll size).</summary>
    public override long Length => _stream.Position + _rows.BufferedBytes;

    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason)
    {
        if (!LogEventParquet.CanWrite(logEvent, out reason)) return false;
        _rows.Add(logEvent, Topic, Partition, offset);
        if (_rows.Count >= _rowGroupRows) Io(() => _rows.WriteRowGroupAsync(_writer));
        return true;
    }

    protected override void Seal(bool fsync)
    {
        Io(() => _rows.WriteRowGroupAsync(_writer));
        Io(() => _writer.DisposeAsync().AsTask()); // the footer
        _stream.Flush(flushToDisk: fsync);
        Close();
    }

    /// <summary>Closes the temporary file without a footer: it is deleted or replaced, never read.</summary>
    public override void Dispose() => Close();

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _rows.Clear();
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
