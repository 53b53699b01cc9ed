using System.Buffers;
using System.Runtime.InteropServices;
using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Lets Apache.Avro's <c>DataFileWriter</c> (container format, blocks, codecs, sync markers) write
/// <see cref="LogEvent"/>s with our hand-written encoder, <see cref="LogEventAvro"/>, instead of the much
/// slower generic path. The event is encoded first (<see cref="Encode"/>), so an event that cannot be
/// encoded fails before the file writer has seen it.
/// </summary>
internal sealed class LogEventDatumWriter : DatumWriter<LogEvent>
{
    /// <summary>The <c>neverwinterdp.LogEvent</c> schema, parsed once.</summary>
    public static Schema LogEventSchema { get; } = Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEvent);

    private readonly ArrayBufferWriter<byte> _encoded = new(1024);
    private LogEvent? _pending;

    public Schema Schema => LogEventSchema;

    /// <summary>Encodes <paramref name="logEvent"/> for the next <see cref="Write"/>.</summary>
    public void Encode(LogEvent logEvent)
    {
        _pending = null;
        _encoded.ResetWrittenCount();
        LogEventAvro.Encode(logEvent, _encoded);
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
