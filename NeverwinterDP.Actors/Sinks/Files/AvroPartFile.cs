using Avro;
using Avro.File;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>An Avro object container file of <c>neverwinterdp.LogEvent</c> records, written by Apache.Avro's DataFileWriter.</summary>
internal sealed class AvroPartFile : PartFile
{
    private const int StreamBuffer = 256 * 1024;

    private readonly FileStream _stream;
    private readonly LogEventDatumWriter _datumWriter = new();
    private readonly IFileWriter<LogEvent> _writer;
    private bool _closed;

    public AvroPartFile(FileNames names, string directory, string topic, int partition, long firstOffset, FilesAvroCodec codec, long batch)
        : base(names, directory, topic, partition, firstOffset, ".avro", batch)
    {
        _stream = new FileStream(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read, StreamBuffer);
        try
        {
            var codecType = codec == FilesAvroCodec.Null ? Codec.Type.Null : Codec.Type.Deflate;
            // leaveOpen: closing the writer must not close the stream before we fsync it.
            _writer = DataFileWriter<LogEvent>.OpenWriter(_datumWriter, _stream, Codec.CreateCodec(codecType), leaveOpen: true);
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>What reached the stream; the block being filled (up to the sync interval) is not counted.</summary>
    public override long Length => _stream.Position;

    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason)
    {
        try
        {
            _datumWriter.Encode(logEvent);
        }
        catch (Exception e) when (e is ArgumentException or AvroException or OverflowException)
        {
            reason = "the event cannot be written as Avro: " + e.Message;
            return false;
        }
        try
        {
            _writer.Append(logEvent);
        }
        catch (AvroException e)
        {
            // The datum was encoded already, so this is the block going to the stream: a file failure.
            throw new IOException($"Writing {TempPath} failed: {e.Message}", e);
        }
        reason = null;
        return true;
    }

    protected override void Seal(bool fsync)
    {
        try
        {
            _writer.Close(); // writes the last block; the stream stays open (leaveOpen)
        }
        catch (AvroException e)
        {
            throw new IOException($"Writing {TempPath} failed: {e.Message}", e);
        }
        _stream.Flush(flushToDisk: fsync);
        Close();
    }

    public override void Dispose()
    {
        if (_closed) return;
        try
        {
            _writer.Close();
        }
        catch (AvroException)
        {
            // Closed already, or its stream failed: the temporary file is of no use either way.
        }
        finally
        {
            Close();
        }
    }

    // The writer is closed (not disposed: its Dispose closes again, and that throws once closed); it holds
    // only memory, so a writer whose Close failed needs nothing more.
    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _stream.Dispose();
    }
}
