using System.Buffers;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Avro binary encoding of <see cref="LogEvent"/>, written by hand for <c>Schemas/LogEvent.avsc</c> because
/// the generic Apache.Avro path (boxing, a dictionary per record) is too slow for the ingress rate. Field
/// order here must follow the schema; the tests check both directions against Apache.Avro.
/// </summary>
public static class LogEventAvro
{
    // Scratch for the byte[] overloads; dropped after an unusually large event so the thread does not keep it.
    private const int MaxKeptScratch = 1 << 20;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>Appends the Avro binary encoding of <paramref name="logEvent"/> to <paramref name="output"/>.</summary>
    public static void Encode(LogEvent logEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);

        var w = new AvroBinaryWriter(output);
        w.WriteLong(logEvent.Ts);
        w.WriteLong(logEvent.SystemTs);
        w.WriteString(logEvent.Host);
        w.WriteString(logEvent.Ip);
        w.WriteString(logEvent.Process);
        w.WriteString(logEvent.Type);
        w.WriteString(logEvent.Version);
        w.WriteString(logEvent.Level);
        w.WriteString(logEvent.Message);
        WriteAttributes(ref w, logEvent.Attributes);
        w.WriteString(logEvent.Lineage.IngressNode ?? ""); // default(Lineage) has no node
        w.WriteLong(logEvent.Lineage.SourceSeq);
        w.Flush();
    }

    /// <summary>The Avro binary encoding of <paramref name="logEvent"/> as a new array.</summary>
    public static byte[] Encode(LogEvent logEvent)
    {
        var scratch = Scratch();
        Encode(logEvent, scratch);
        return ToArray(scratch);
    }

    /// <summary>
    /// Appends a Confluent frame (magic byte, schema id, Avro payload) holding <paramref name="logEvent"/>:
    /// the value of a Kafka record on a log topic.
    /// </summary>
    public static void EncodeFramed(LogEvent logEvent, IBufferWriter<byte> output, int schemaId = SchemaIds.LogEvent)
    {
        ConfluentWireFormat.WriteHeader(output, schemaId);
        Encode(logEvent, output);
    }

    /// <summary>The Confluent frame holding <paramref name="logEvent"/> as a new array.</summary>
    public static byte[] EncodeFramed(LogEvent logEvent, int schemaId = SchemaIds.LogEvent)
    {
        var scratch = Scratch();
        EncodeFramed(logEvent, scratch, schemaId);
        return ToArray(scratch);
    }

    /// <summary>Decodes one Avro-encoded LogEvent that fills <paramref name="avro"/> exactly.</summary>
    /// <exception cref="MalformedRecordException">The bytes are not a LogEvent of this schema.</exception>
    public static LogEvent Decode(ReadOnlySpan<byte> avro)
    {
        var r = new AvroBinaryReader(avro);
        var logEvent = Read(ref r);
        if (r.Remaining != 0)
        {
            throw new MalformedRecordException($"Avro LogEvent: {r.Remaining} bytes left over after the record.");
        }
        return logEvent;
    }

    /// <summary>Reads one LogEvent record at the reader's position (records written back to back, as in a batch).</summary>
    internal static LogEvent Read(ref AvroBinaryReader r)
    {
        var ts = r.ReadLong("ts");
        var systemTs = r.ReadLong("system_ts");
        var host = r.ReadString("host");
        var ip = r.ReadString("ip");
        var process = r.ReadString("process");
        var type = r.ReadString("type");
        var version = r.ReadString("version");
        var level = r.ReadString("level");
        var message = r.ReadString("message");
        var attributes = ReadAttributes(ref r);
        var node = r.ReadString("lineage.ingress_node");
        var seq = r.ReadLong("lineage.source_seq");
        return new LogEvent
        {
            Ts = ts,
            SystemTs = systemTs,
            Host = host,
            Ip = ip,
            Process = process,
            Type = type,
            Version = version,
            Level = level,
            Message = message,
            Attributes = attributes,
            Lineage = new Lineage(node, seq),
        };
    }

    /// <summary>
    /// Decodes a Confluent-framed LogEvent (a Kafka record value).
    /// </summary>
    /// <exception cref="MalformedRecordException">Bad frame, another schema id, or bad Avro.</exception>
    public static LogEvent DecodeFramed(ReadOnlySpan<byte> frame, int expectedSchemaId = SchemaIds.LogEvent)
    {
        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);
        if (schemaId != expectedSchemaId)
        {
            throw new MalformedRecordException(
                $"Confluent frame carries schema id {schemaId}, expected {expectedSchemaId} (LogEvent).");
        }
        return Decode(payload);
    }

    /// <summary>
    /// The <c>system_ts</c> of a framed LogEvent, read without decoding the rest (it is the record's second field): what
    /// the bus writer counts hour markers by, per acknowledged record. False for anything that is not a LogEvent frame.
    /// </summary>
    public static bool TryReadSystemTs(ReadOnlySpan<byte> frame, out long systemTs)
    {
        systemTs = 0;
        if (!ConfluentWireFormat.TryUnframe(frame, out var schemaId, out var payload) || schemaId != SchemaIds.LogEvent) return false;
        try
        {
            var r = new AvroBinaryReader(payload);
            r.ReadLong("ts");
            systemTs = r.ReadLong("system_ts");
            return true;
        }
        catch (MalformedRecordException)
        {
            return false;
        }
    }

    private static void WriteAttributes(ref AvroBinaryWriter w, IReadOnlyDictionary<string, string> attributes)
    {
        // One block holding every entry, then the empty block that ends the map.
        if (attributes.Count > 0)
        {
            w.WriteLong(attributes.Count);
            if (attributes is Dictionary<string, string> dictionary)
            {
                foreach (var (key, value) in dictionary) // struct enumerator: no allocation
                {
                    w.WriteString(key);
                    w.WriteString(value);
                }
            }
            else
            {
                foreach (var (key, value) in attributes)
                {
                    w.WriteString(key);
                    w.WriteString(value);
                }
            }
        }
        w.WriteLong(0);
    }

    private static IReadOnlyDictionary<string, string> ReadAttributes(ref AvroBinaryReader r)
    {
        Dictionary<string, string>? map = null;
        long count;
        while ((count = r.ReadBlockCount("attributes")) != 0)
        {
            // Each entry takes at least two bytes, so a lying count cannot make us allocate much.
            map ??= new Dictionary<string, string>((int)Math.Min(count, r.Remaining / 2), StringComparer.Ordinal);
            for (long i = 0; i < count; i++)
            {
                var key = r.ReadString("attributes");
                map[key] = r.ReadString("attributes");
            }
        }
        return map ?? LogEvent.NoAttributes;
    }

    private static ArrayBufferWriter<byte> Scratch()
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(1024);
        scratch.ResetWrittenCount();
        return scratch;
    }

    private static byte[] ToArray(ArrayBufferWriter<byte> scratch)
    {
        var bytes = scratch.WrittenSpan.ToArray();
        if (scratch.Capacity > MaxKeptScratch) t_scratch = null;
        return bytes;
    }
}
