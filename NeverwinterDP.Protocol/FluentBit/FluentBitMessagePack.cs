using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using MessagePack;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads the body Fluent Bit's <c>http</c> output sends in its <c>msgpack</c> format (Content-Type
/// <c>application/msgpack</c>): its chunk as it is, MessagePack entries one after another, each
/// <c>[time, record]</c> or, from Fluent Bit 2.1, <c>[[time, metadata], record]</c>. The time is an EventTime
/// (extension type 0: seconds and nanoseconds, big-endian), an integer of seconds, or a float.
/// </summary>
/// <remarks>
/// Each record is mapped by the same rules as a JSON line (<see cref="EventParser"/>): it is written out as the
/// JSON object Fluent Bit's <c>json</c> format would send with its default <c>json_date_key date</c> (the entry's
/// time first, as <c>date</c> in seconds with nanoseconds, then the record's keys) and that object goes through
/// the same <see cref="LineMapper"/>. So <c>log</c> or <c>message</c> is the message, a record's own <c>ts</c>,
/// <c>@timestamp</c>, <c>timestamp</c> or <c>time</c> wins over the entry's time, and every other key is an
/// attribute. Binary values become base64 strings; a MessagePack timestamp (extension -1) an RFC 3339 string;
/// metadata is not kept (Fluent Bit sends it empty unless a processor set it).
/// </remarks>
internal static class FluentBitMessagePack
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>How deep records may nest maps and arrays; deeper is refused rather than risking the stack.</summary>
    private const int MaxDepth = 64;

    /// <summary>Error texts, in one place so tests and docs agree with the code.</summary>
    internal static class Errors
    {
        public const string NotAnEntry = "expected an entry [time, record] (a MessagePack array of 2)";
        public const string RecordNotAMap = "the record of an entry must be a MessagePack map";
        public const string BadTime = "the time of an entry must be an EventTime, an integer, a float or nil";
        public const string TooDeep = "the record nests maps and arrays too deeply";

        public static string BadKey(string type) => $"a map key must be a string or a number, not {type}";

        public static string NotMessagePack(string detail) => $"entry is not valid MessagePack: {detail}";
    }

    public static ParseResult Parse(ReadOnlyMemory<byte> body, LineMapper mapper, in EventParser.Defaults defaults)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        var events = new List<LogEvent>();
        var reader = new MessagePackReader(body);
        var ordinal = 0;
        try
        {
            while (!reader.End)
            {
                ordinal++;
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                WriteEntry(ref reader, writer);
                writer.Flush();
                var json = buffer.WrittenSpan;
                var jsonReader = new Utf8JsonReader(json);
                jsonReader.Read();
                events.Add(mapper.MapObject(ref jsonReader, json, defaults));
            }
            return ParseResult.Success(events);
        }
        catch (EventFormatException e)
        {
            return ParseResult.Failure(ordinal, e.Message);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or JsonException)
        {
            return ParseResult.Failure(ordinal, Errors.NotMessagePack(e.Message));
        }
        finally
        {
            // A huge record's buffer is not kept for the thread's lifetime.
            if (buffer.Capacity > 1 << 20)
            {
                t_buffer = null;
                t_writer = null;
            }
        }
    }

    private static void WriteEntry(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        if (reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() != 2) throw new EventFormatException(Errors.NotAnEntry);
        writer.WriteStartObject();
        if (reader.NextMessagePackType == MessagePackType.Array)
        {
            // Fluent Bit 2.1+: [[time, metadata], record]
            var header = reader.ReadArrayHeader();
            if (header < 1) throw new EventFormatException(Errors.BadTime);
            WriteTime(ref reader, writer);
            for (var i = 1; i < header; i++) reader.Skip();
        }
        else
        {
            WriteTime(ref reader, writer);
        }
        if (reader.NextMessagePackType != MessagePackType.Map) throw new EventFormatException(Errors.RecordNotAMap);
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            WriteKey(ref reader, writer);
            WriteValue(ref reader, writer, 1);
        }
        writer.WriteEndObject();
    }

    /// <summary>The entry's time as <c>"date"</c>, the key Fluent Bit's JSON formats use by default.</summary>
    private static void WriteTime(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return;
            case MessagePackType.Integer:
                writer.WritePropertyName("date"u8);
                if (reader.NextCode == MessagePackCode.UInt64) writer.WriteNumberValue(reader.ReadUInt64());
                else writer.WriteNumberValue(reader.ReadInt64());
                return;
            case MessagePackType.Float:
                writer.WritePropertyName("date"u8);
                WriteFloat(ref reader, writer);
                return;
            case MessagePackType.Extension:
                var ext = reader.ReadExtensionFormatHeader();
                if (ext.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    writer.WritePropertyName("date"u8);
                    writer.WriteStringValue(reader.ReadDateTime(ext).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                    return;
                }
                if (ext.TypeCode != 0 || ext.Length != 8) throw new EventFormatException(Errors.BadTime);
                writer.WritePropertyName("date"u8);
                WriteEventTime(reader.ReadRaw(8), writer);
                return;
            default:
                throw new EventFormatException(Errors.BadTime);
        }
    }

    /// <summary>Fluent Bit's EventTime: seconds and nanoseconds as big-endian uint32s, written as exact decimal seconds.</summary>
    private static void WriteEventTime(ReadOnlySequence<byte> raw, Utf8JsonWriter writer)
    {
        Span<byte> bytes = stackalloc byte[8];
        raw.CopyTo(bytes);
        var seconds = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        var nanos = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
        if (nanos > 999_999_999) throw new EventFormatException(Errors.BadTime);
        Span<byte> text = stackalloc byte[24];
        seconds.TryFormat(text, out var length);
        text[length++] = (byte)'.';
        nanos.TryFormat(text[length..], out var fraction, "D9");
        writer.WriteRawValue(text[..(length + fraction)], skipInputValidation: true);
    }

    private static void WriteFloat(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        // JSON has no NaN or infinities; keep them as the text a JSON sender would have had to use. A float32 is
        // written as the shortest text that reads back as it (0.1, not 0.10000000149011612).
        if (reader.NextCode == MessagePackCode.Float32)
        {
            var single = reader.ReadSingle();
            if (float.IsFinite(single)) writer.WriteNumberValue(single);
            else writer.WriteStringValue(single.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        var value = reader.ReadDouble();
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void WriteKey(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                var key = ReadUtf8(ref reader, null);
                writer.WritePropertyName(key);
                return;
            case MessagePackType.Integer:
                writer.WritePropertyName(reader.NextCode == MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
                return;
            default:
                throw new EventFormatException(Errors.BadKey(reader.NextMessagePackType.ToString().ToLowerInvariant()));
        }
    }

    private static void WriteValue(ref MessagePackReader reader, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth) throw new EventFormatException(Errors.TooDeep);
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64) writer.WriteNumberValue(reader.ReadUInt64());
                else writer.WriteNumberValue(reader.ReadInt64());
                break;
            case MessagePackType.Float:
                WriteFloat(ref reader, writer);
                break;
            case MessagePackType.String:
                writer.WriteStringValue(ReadUtf8(ref reader, "value"));
                break;
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes() ?? default;
                writer.WriteBase64StringValue(bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray());
                break;
            case MessagePackType.Array:
                var items = reader.ReadArrayHeader();
                writer.WriteStartArray();
                for (var i = 0; i < items; i++) WriteValue(ref reader, writer, depth + 1);
                writer.WriteEndArray();
                break;
            case MessagePackType.Map:
                var entries = reader.ReadMapHeader();
                writer.WriteStartObject();
                for (var i = 0; i < entries; i++)
                {
                    WriteKey(ref reader, writer);
                    WriteValue(ref reader, writer, depth + 1);
                }
                writer.WriteEndObject();
                break;
            case MessagePackType.Extension:
                var ext = reader.ReadExtensionFormatHeader();
                if (ext.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    writer.WriteStringValue(reader.ReadDateTime(ext).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (ext.TypeCode == 0 && ext.Length == 8)
                {
                    WriteEventTime(reader.ReadRaw(8), writer);
                }
                else
                {
                    var raw = reader.ReadRaw(ext.Length);
                    writer.WriteBase64StringValue(raw.IsSingleSegment ? raw.FirstSpan : raw.ToArray());
                }
                break;
            default:
                throw new EventFormatException(Errors.NotMessagePack($"unknown format code 0x{reader.NextCode:x2}"));
        }
    }

    /// <summary>A MessagePack string's bytes, which must be UTF-8 as a JSON string's are.</summary>
    private static ReadOnlySpan<byte> ReadUtf8(ref MessagePackReader reader, string? field)
    {
        if (!reader.TryReadStringSpan(out var span)) span = (reader.ReadStringSequence() ?? default).ToArray();
        if (!Utf8.IsValid(span))
            throw new EventFormatException(field is null ? EventParser.Errors.NameNotUtf8 : "a string value is not valid UTF-8 text");
        return span;
    }
}
