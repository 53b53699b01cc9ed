using Avro;
using Avro.File;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// An Avro object container file written to any stream by Apache.Avro's DataFileWriter (header, blocks, codec, sync
/// markers) with our encoders: of <c>neverwinterdp.LogEvent</c> records (<see cref="LogEventDatumWriter"/>), or of one
/// typed log type's schema (<see cref="TypedDatumWriter"/>: a file has one writer schema, so one file per schema).
/// The files and Hive sinks give it a file, the HDFS sink a memory buffer. The stream is left open.
/// </summary>
internal sealed class AvroContainerWriter : IDisposable
{
    private readonly PreEncodedDatumWriter _datumWriter;
    private readonly IFileWriter<LogEvent> _writer;
    private readonly string _target;
    private bool _closed;

    /// <param name="stream">Where the file goes; not closed by this writer.</param>
    /// <param name="codec">The block codec.</param>
    /// <param name="target">What the stream is, for error messages (a path).</param>
    /// <param name="typed">The typed schema every record of the file is of; null: plain LogEvents (typed ones written as such).</param>
    public AvroContainerWriter(Stream stream, AvroCodec codec, string target, TypedLogSchema? typed = null)
    {
        var codecType = codec == AvroCodec.Null ? Codec.Type.Null : Codec.Type.Deflate;
        _datumWriter = typed is null ? new LogEventDatumWriter() : new TypedDatumWriter(typed);
        _writer = DataFileWriter<LogEvent>.OpenWriter(_datumWriter, stream, Codec.CreateCodec(codecType), leaveOpen: true);
        _target = target;
    }

    /// <summary>The typed schema of the file's records; null for LogEvents.</summary>
    public TypedLogSchema? Typed => (_datumWriter as TypedDatumWriter)?.Typed;

    /// <summary>Appends one event; false (with a reason) when it cannot be encoded, and then nothing was written.</summary>
    /// <exception cref="IOException">The stream failed while a full block went to it.</exception>
    public bool TryAppend(LogEvent logEvent, out string? reason)
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
            // The datum was encoded already, so this is the block going to the stream: a stream failure.
            throw new IOException($"Writing {_target} failed: {e.Message}", e);
        }
        reason = null;
        return true;
    }

    /// <summary>Writes the last block; the stream stays open.</summary>
    /// <exception cref="IOException">The stream failed.</exception>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        try
        {
            _writer.Close();
        }
        catch (AvroException e)
        {
            throw new IOException($"Writing {_target} failed: {e.Message}", e);
        }
    }

    // The writer is closed (not disposed: its Dispose closes again, and that throws once closed); it holds
    // only memory, so a writer whose Close failed needs nothing more.
    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        try
        {
            _writer.Close();
        }
        catch (AvroException)
        {
            // Closed already, or its stream failed: what it wrote is of no use either way.
        }
    }
}
