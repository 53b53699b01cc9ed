using System.Buffers;
using Avro;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// <see cref="LogEvent"/>s as <c>neverwinterdp.LogEvent</c> records, encoded by <see cref="LogEventAvro"/> (typed
/// values as their text forms).
/// </summary>
internal sealed class LogEventDatumWriter : PreEncodedDatumWriter
{
    /// <summary>The <c>neverwinterdp.LogEvent</c> schema, parsed once.</summary>
    public static Schema LogEventSchema { get; } = Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEvent);

    public override Schema Schema => LogEventSchema;

    protected override void EncodeInto(LogEvent logEvent, IBufferWriter<byte> output) => LogEventAvro.Encode(logEvent, output);
}
