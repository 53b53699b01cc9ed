using Microsoft.Win32.SafeHandles;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>A part file of NDJSON lines (<see cref="LogEventJson"/>), written through a <see cref="LineBuffer"/>.</summary>
internal sealed class NdjsonPartFile : PartFile
{
    private readonly SafeFileHandle _handle;
    private readonly LineBuffer _buffer;
    private bool _closed;

    public NdjsonPartFile(FileNames names, string directory, string topic, int partition, long firstOffset, bool fsync, long batch)
        : base(names, directory, topic, partition, firstOffset, ".ndjson", batch)
    {
        // Create, not CreateNew: a file of this name is a leftover of ours that failed or was never published.
        _handle = File.OpenHandle(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        _buffer = new LineBuffer(_handle, startWriteback: fsync);
    }

    public override long Length => _buffer.Length;

    protected override bool TryWrite(SinkRecord record, long offset, out string? reason)
    {
        if (record.Framed is not { } framed) return TryWrite(record.Event, offset, out reason);
        // The line straight from the bus bytes (the pump checked them): no LogEvent, no strings.
        _buffer.BeginRecord();
        LogEventJson.WriteLineFromAvro(framed, _buffer);
        reason = null;
        return true;
    }

    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason)
    {
        _buffer.BeginRecord();
        try
        {
            LogEventJson.WriteLine(logEvent, _buffer);
            reason = null;
            return true;
        }
        catch (ArgumentException e)
        {
            // E.g. a lone UTF-16 surrogate in a string: it has no UTF-8 form.
            _buffer.RollbackRecord();
            reason = "the event cannot be written as JSON: " + e.Message;
            return false;
        }
    }

    protected override void Seal(bool fsync)
    {
        _buffer.WriteOut();
        if (fsync) RandomAccess.FlushToDisk(_handle);
        Close();
    }

    public override void Dispose()
    {
        if (_closed) return;
        try
        {
            _buffer.WriteOut();
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
        _handle.Dispose();
        _buffer.Dispose();
    }
}
