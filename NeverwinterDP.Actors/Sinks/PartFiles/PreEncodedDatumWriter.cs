using System.Buffers;
using System.Runtime.InteropServices;
using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Lets Apache.Avro's <c>DataFileWriter</c> (container format, blocks, codecs, sync markers) write
/// <see cref="LogEvent"/>s with one of our hand-written encoders instead of the much slower generic path. The event is
/// encoded first (<see cref="Encode"/>), so an event that cannot be encoded fails before the file writer has seen it.
/// </summary>
internal abstract class PreEncodedDatumWriter : DatumWriter<LogEvent>
{
    private readonly ArrayBufferWriter<byte> _encoded = new(1024);
    private LogEvent? _pending;

    public abstract Schema Schema { get; }

    /// <summary>Appends the Avro binary of <paramref name="logEvent"/> under <see cref="Schema"/> (no frame).</summary>
    protected abstract void EncodeInto(LogEvent logEvent, IBufferWriter<byte> output);

    /// <summary>Encodes <paramref name="logEvent"/> for the next <see cref="Write"/>.</summary>
    /// <exception cref="ArgumentException">The event cannot be encoded under <see cref="Schema"/>.</exception>
    public void Encode(LogEvent logEvent)
    {
        _pending = null;
        _encoded.ResetWrittenCount();
        EncodeInto(logEvent, _encoded);
        _pending = logEvent;
    }

    public void Write(LogEvent datum, Encoder encoder)
    {
        if (!ReferenceEquals(datum, _pending)) Encode(datum);
        // The record's fields are already Avro binary: copy them as they are (an ArrayBufferWriter is one array).
        MemoryMarshal.TryGetArray(_encoded.WrittenMemory, out var segment);
        encoder.WriteFixed(segment.Array!, segment.Offset, segment.Count);
        _pending = null;
    }
}
