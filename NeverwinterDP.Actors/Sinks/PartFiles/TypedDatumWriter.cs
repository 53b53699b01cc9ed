using System.Buffers;
using System.Runtime.CompilerServices;
using Avro;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Lets Apache.Avro's <c>DataFileWriter</c> write the records of one typed log type's schema (<see cref="TypedLogSchema"/>)
/// as that schema's Avro records, typed fields in their Avro types, with the schema's own encoder
/// (<see cref="TypedLogSchema.EncodeDecoded"/>). The file's writer schema is the registered schema's text.
/// </summary>
internal sealed class TypedDatumWriter(TypedLogSchema typed) : PreEncodedDatumWriter
{
    // Parsed once per compiled schema (a schema object per registry id, kept by TypedLogSchemas).
    private static readonly ConditionalWeakTable<TypedLogSchema, Schema> Parsed = [];

    public TypedLogSchema Typed { get; } = typed;

    public override Schema Schema { get; } = Parsed.GetValue(typed, t => Schema.Parse(t.Text));

    /// <exception cref="ArgumentException">The event's typed values are not of this schema.</exception>
    protected override void EncodeInto(LogEvent logEvent, IBufferWriter<byte> output) => Typed.EncodeDecoded(logEvent, output);
}
