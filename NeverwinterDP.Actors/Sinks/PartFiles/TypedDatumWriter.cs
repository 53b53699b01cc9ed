using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Lets Apache.Avro's <c>DataFileWriter</c> write the records of one typed log type's schema (<see cref="TypedLogSchema"/>)
/// as that schema's Avro records, typed fields in their Avro types, with the schema's own encoder
/// (<see cref="TypedLogSchema.EncodeDecoded"/>). The file's writer schema is the registered schema's text.
/// </summary>
internal sealed class TypedDatumWriter(TypedLogSchema typed) : DatumWriter<LogEvent>
{
    // Parsed once per compiled schema (a schema object per registry id, kept by TypedLogSchemas).
    private static readonly ConditionalWeakTable<TypedLogSchema, Schema> Parsed = [];

    private readonly ArrayBufferWriter<byte> _encoded = new(1024);
    private LogEvent? _pending;

    public TypedLogSchema Typed { get; } = typed;

    public Schema Schema { get; } = Parsed.GetValue(typed, t => Schema.Parse(t.Text));

    /// <summary>Encodes <paramref name="logEvent"/> for the next <see cref="Write"/>.</summary>
    /// <exception cref="ArgumentException">The event's typed values are not of this schema.</exception>
    public void Encode(LogEvent logEvent)
    {
        _pending = null;
        _encoded.ResetWrittenCount();
        Typed.EncodeDecoded(logEvent, _encoded);
        _pending = logEvent;
    }

    public void Write(LogEvent datum, Encoder encoder)
    {
        if (!ReferenceEquals(datum, _pending)) Encode(datum);
        MemoryMarshal.TryGetArray(_encoded.WrittenMemory, out var segment);
        encoder.WriteFixed(segment.Array!, segment.Offset, segment.Count);
        _pending = null;
    }
}
