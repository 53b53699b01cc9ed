using System.Buffers;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Avro binary encoding of <see cref="LogEvent"/>, written by hand for <c>Schemas/LogEvent.avsc</c> because
/// the generic Apache.Avro path (boxing, a dictionary per record) is too slow for the ingress rate. Field
/// order here must follow the schema; the tests check both directions against Apache.Avro. Writes version 2
/// (<see cref="SchemaIds.LogEvent"/>, with <c>lineage.sender</c>); reads version 1 (<see cref="SchemaIds.LogEventV1"/>) too.
/// </summary>
public static class LogEventAvro
{
    // Scratch for the byte[] overloads; dropped after an unusually large event so the thread does not keep it.
    private const int MaxKeptScratch = 1 << 20;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>Appends the Avro binary encoding of <paramref name="logEvent"/> (version 2) to <paramref name="output"/>.</summary>
    public static void Encode(LogEvent logEvent, IBufferWriter<byte> output) => Encode(logEvent, output, withSender: true);

    /// <summary>
    /// Appends <paramref name="logEvent"/> in version 2, or with <paramref name="withSender"/> false in version 1 (the
    /// emitter's wire and spill format keeps version 1: clients and nodes of either release must read each other).
    /// </summary>
    internal static void Encode(LogEvent logEvent, IBufferWriter<byte> output, bool withSender) => Encode(logEvent, output, withSender, null);

    /// <summary>Version 2 (or 1) without the attributes in <paramref name="typedKeys"/>: the envelope a typed record (<see cref="TypedLogSchema"/>) begins with.</summary>
    internal static void Encode(LogEvent logEvent, IBufferWriter<byte> output, bool withSender, HashSet<string>? typedKeys)
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
        w.WriteString(logEvent.Message, logEvent.MessageByteCount());
        if (typedKeys is null) WriteAttributes(ref w, logEvent.Attributes);
        else WriteAttributesExcept(ref w, logEvent.Attributes, typedKeys);
        w.WriteString(logEvent.Lineage.IngressNode ?? ""); // default(Lineage) has no node
        w.WriteLong(logEvent.Lineage.SourceSeq);
        if (withSender) // ["null", "string"]: the branch, then the value
        {
            if (logEvent.Lineage.Sender is { } sender)
            {
                w.WriteLong(1);
                w.WriteString(sender);
            }
            else
            {
                w.WriteLong(0);
            }
        }
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
    /// <param name="schemaId">The writer's schema: <see cref="SchemaIds.LogEvent"/> (version 2) or <see cref="SchemaIds.LogEventV1"/>.</param>
    /// <exception cref="MalformedRecordException">The bytes are not a LogEvent of this schema.</exception>
    public static LogEvent Decode(ReadOnlySpan<byte> avro, int schemaId = SchemaIds.LogEvent)
    {
        var logEvent = DecodePrefix(avro, schemaId, out var consumed);
        if (consumed != avro.Length)
        {
            throw new MalformedRecordException($"Avro LogEvent: {avro.Length - consumed} bytes left over after the record.");
        }
        return logEvent;
    }

    /// <summary>
    /// Decodes the LogEvent at the start of <paramref name="avro"/> and says how many bytes it took: records sent back
    /// to back (the Avro ingress input) end where their schema says, with no length before them.
    /// </summary>
    /// <exception cref="MalformedRecordException">The bytes do not start with a LogEvent of this schema.</exception>
    public static LogEvent DecodePrefix(ReadOnlySpan<byte> avro, int schemaId, out int consumed)
    {
        var r = new AvroBinaryReader(avro);
        var logEvent = Read(ref r, withSender: schemaId != SchemaIds.LogEventV1);
        consumed = avro.Length - r.Remaining;
        return logEvent;
    }

    /// <summary>Reads one LogEvent record at the reader's position (records written back to back, as in a batch).</summary>
    /// <param name="withSender">Version 2 (<c>lineage.sender</c> last); false for version 1.</param>
    internal static LogEvent Read(ref AvroBinaryReader r, bool withSender = true)
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
        var sender = withSender && HasSender(ref r) ? r.ReadString("lineage.sender") : null;
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
            Lineage = new Lineage(node, seq, sender),
        };
    }

    /// <summary>
    /// Decodes a Confluent-framed LogEvent (a Kafka record value) of either version (schema id
    /// <see cref="SchemaIds.LogEvent"/> or <see cref="SchemaIds.LogEventV1"/>), or a typed log type's record (an id
    /// <see cref="TypedLogSchemas"/> resolves): its typed fields become attributes in their string form.
    /// </summary>
    /// <exception cref="MalformedRecordException">Bad frame, another schema id, or bad Avro.</exception>
    public static LogEvent DecodeFramed(ReadOnlySpan<byte> frame)
    {
        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);
        if (!IsLogEvent(schemaId))
        {
            // A typed log type's record: the envelope, then its typed fields (the writer's schema looked up once per id).
            if (TypedLogSchemas.ById(schemaId) is { } typed) return typed.Decode(payload);
            throw UnknownSchema(schemaId);
        }
        return Decode(payload, schemaId);
    }

    private static MalformedRecordException UnknownSchema(int schemaId) => new(
        $"Confluent frame carries schema id {schemaId}, expected {SchemaIds.LogEvent} or {SchemaIds.LogEventV1} (LogEvent) or a typed log type's schema.");

    /// <summary>Reads version 2's <c>lineage.sender</c> union branch: whether a string follows.</summary>
    internal static bool HasSender(ref AvroBinaryReader r) => r.ReadLong("lineage.sender") switch
    {
        0 => false,
        1 => true,
        var branch => throw new MalformedRecordException($"Avro LogEvent: lineage.sender has union branch {branch}, expected 0 (null) or 1 (string)."),
    };

    /// <summary>Whether a frame's schema id is one of the LogEvent's versions.</summary>
    public static bool IsLogEvent(int schemaId) => schemaId is SchemaIds.LogEvent or SchemaIds.LogEventV1;

    /// <summary>
    /// The <c>system_ts</c> of a framed LogEvent, read without decoding the rest (it is the record's second field): what
    /// the bus writer counts hour markers by, per acknowledged record. False for anything that is not a LogEvent frame.
    /// </summary>
    public static bool TryReadSystemTs(ReadOnlySpan<byte> frame, out long systemTs)
    {
        systemTs = 0;
        if (!ConfluentWireFormat.TryUnframe(frame, out var schemaId, out var payload)) return false;
        if (!IsLogEvent(schemaId) && TypedLogSchemas.ById(schemaId) is null) return false; // a typed record begins with the envelope too
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

    /// <summary>Attribute maps larger than this are decoded rather than scanned (the duplicate-key check is quadratic).</summary>
    public const int MaxScannedAttributes = 32;

    /// <summary>
    /// Reads a framed plain LogEvent (either version) through to its end, checking it as <see cref="DecodeFramed"/>
    /// would, without making the event: its <paramref name="header"/>, for a reader that can use the bytes as they are
    /// (<see cref="LogEventJson.WriteLineFromAvro"/>). False, with nothing thrown, for a record to decode instead: a typed
    /// log type's record, or attributes with a key twice or more than <see cref="MaxScannedAttributes"/> of them (the
    /// decoded map keeps one value per key, so only the decoded event says what is stored).
    /// </summary>
    /// <exception cref="MalformedRecordException">Bad frame, an unknown schema id, or bad Avro (as <see cref="DecodeFramed"/>).</exception>
    public static bool TryScanFramed(ReadOnlySpan<byte> frame, RecentStrings strings, out LogEventHeader header)
    {
        ArgumentNullException.ThrowIfNull(strings);
        header = default;
        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);
        if (!IsLogEvent(schemaId))
        {
            if (TypedLogSchemas.ById(schemaId) is not null) return false;
            throw UnknownSchema(schemaId);
        }
        var r = new AvroBinaryReader(payload);
        r.ReadLong("ts");
        var systemTs = r.ReadLong("system_ts");
        r.ReadUtf8("host");
        r.ReadUtf8("ip");
        r.ReadUtf8("process");
        var type = r.ReadUtf8("type");
        r.ReadUtf8("version");
        r.ReadUtf8("level");
        var message = r.ReadUtf8("message");
        var plain = ScanAttributes(ref r, payload);
        var node = r.ReadUtf8("lineage.ingress_node");
        r.ReadLong("lineage.source_seq");
        if (schemaId != SchemaIds.LogEventV1 && HasSender(ref r)) r.ReadUtf8("lineage.sender");
        if (r.Remaining != 0) throw new MalformedRecordException($"Avro LogEvent: {r.Remaining} bytes left over after the record.");
        if (!plain) return false;
        header = new LogEventHeader(systemTs, strings.Get(type), message.Length, strings.Get(node));
        return true;
    }

    // Checks the map's entries; false if a key comes twice or there are too many to compare.
    private static bool ScanAttributes(ref AvroBinaryReader r, ReadOnlySpan<byte> payload)
    {
        var plain = true;
        var seen = 0;
        Span<int> offsets = stackalloc int[MaxScannedAttributes];
        Span<int> lengths = stackalloc int[MaxScannedAttributes];
        long count;
        while ((count = r.ReadBlockCount("attributes")) != 0)
        {
            for (long i = 0; i < count; i++)
            {
                var key = r.ReadUtf8("attributes");
                r.ReadUtf8("attributes");
                if (!plain) continue;
                if (seen == MaxScannedAttributes)
                {
                    plain = false;
                    continue;
                }
                for (var k = 0; k < seen && plain; k++)
                    plain = !key.SequenceEqual(payload.Slice(offsets[k], lengths[k]));
                payload.Overlaps(key, out offsets[seen]);
                lengths[seen++] = key.Length;
            }
        }
        return plain;
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

    private static void WriteAttributesExcept(ref AvroBinaryWriter w, IReadOnlyDictionary<string, string> attributes, HashSet<string> except)
    {
        var count = 0;
        foreach (var (key, _) in attributes) if (!except.Contains(key)) count++;
        if (count > 0)
        {
            w.WriteLong(count);
            foreach (var (key, value) in attributes)
            {
                if (except.Contains(key)) continue;
                w.WriteString(key);
                w.WriteString(value);
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
