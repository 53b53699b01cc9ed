using System.Text;
using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Maps one JSON object to a <see cref="LogEvent"/>. One per thread, holding the string caches that let
/// consecutive lines share host, level, attribute keys and the like.
/// </summary>
internal sealed class LineMapper
{
    private const int MaxCachedAttributes = 32;

    private readonly Utf8StringCache _host = new();
    private readonly Utf8StringCache _ip = new();
    private readonly Utf8StringCache _process = new();
    private readonly Utf8StringCache _type = new();
    private readonly Utf8StringCache _version = new();
    private readonly Utf8StringCache _level = new();
    private readonly Utf8StringCache[] _attributeKeys = NewCaches();
    private readonly Utf8StringCache[] _attributeValues = NewCaches();
    private int _lastAttributeCount = 4;

    private enum Field : byte
    {
        Attribute, Host, Ip, Process, Type, Version, Level, Attributes,
        // Aliases: picked after the whole object is read, so their order here is their priority.
        Msg, Message, Log, Ts, AtTimestamp, Timestamp, Time, Date,
    }

    private const int FirstMessageAlias = (int)Field.Msg;
    private const int FirstTimestampAlias = (int)Field.Ts;
    private const int AliasCount = (int)Field.Date - FirstMessageAlias + 1;

    private static readonly string[] AliasNames = ["msg", "message", "log", "ts", "@timestamp", "timestamp", "time", "date"];

    /// <summary>Where an alias's value sits in the source, so it is decoded only if it is the one used.</summary>
    private struct RawValue
    {
        public int Start;
        public int End;
        public JsonTokenType Token; // None: absent
        public bool Escaped;
    }

    /// <summary>
    /// Reads the object the reader stands on (<see cref="JsonTokenType.StartObject"/>), leaving it on the
    /// matching <see cref="JsonTokenType.EndObject"/>. <paramref name="source"/> is the reader's input.
    /// </summary>
    /// <exception cref="EventFormatException">A field is wrong or the message is missing.</exception>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public LogEvent MapObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, in EventParser.Defaults defaults)
    {
        string? host = null, ip = null, process = null, type = null, version = null, level = null;
        Dictionary<string, string>? attributes = null;
        Span<RawValue> aliases = stackalloc RawValue[AliasCount];
        var attributeIndex = 0;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Classify(ref reader);
            var key = field == Field.Attribute ? AttributeKey(ref reader, attributeIndex) : null;
            reader.Read();
            switch (field)
            {
                case Field.Host: host = EnvelopeString(ref reader, "host", _host); break;
                case Field.Ip: ip = EnvelopeString(ref reader, "ip", _ip); break;
                case Field.Process: process = EnvelopeString(ref reader, "process", _process); break;
                case Field.Type: type = EnvelopeString(ref reader, "type", _type); break;
                case Field.Version: version = EnvelopeString(ref reader, "version", _version); break;
                case Field.Level: level = EnvelopeString(ref reader, "level", _level); break;
                case Field.Attribute:
                    Add(ref attributes, key!, AttributeValue(ref reader, source, key!, attributeIndex));
                    attributeIndex++;
                    break;
                case Field.Attributes when reader.TokenType == JsonTokenType.StartObject:
                    MergeAttributes(ref reader, source, ref attributes);
                    break;
                case Field.Attributes:
                    Add(ref attributes, "attributes", AttributeValue(ref reader, source, "attributes", -1));
                    break;
                default:
                    aliases[field - Field.Msg] = Capture(ref reader);
                    break;
            }
        }

        var message = PickMessage(aliases, source, ref attributes);
        var ts = PickTimestamp(aliases, source, ref attributes, defaults.NowMs);
        if (attributes is not null) _lastAttributeCount = attributes.Count;

        return new LogEvent
        {
            Ts = ts,
            SystemTs = defaults.NowMs,
            Host = host ?? defaults.Host,
            Ip = ip ?? defaults.Ip,
            Process = process ?? LogEvent.DefaultProcess,
            Type = type ?? defaults.Type,
            Version = version ?? "",
            Level = level ?? LogEvent.DefaultLevel,
            Message = message,
            Attributes = attributes ?? LogEvent.NoAttributes,
            Lineage = defaults.Lineage,
        };
    }

    private static Field Classify(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped) return Classify(reader.ValueSpan);
        // Unescaped, a name is at least a sixth of its escaped length; longer than our longest field name
        // (16 bytes is plenty), it is an attribute.
        Span<byte> name = stackalloc byte[16];
        return reader.ValueSpan.Length <= 6 * name.Length && TryCopy(ref reader, name, out var length)
            ? Classify(name[..length])
            : Field.Attribute;
    }

    /// <summary>Unescapes a short string; false when it does not fit or is not valid text.</summary>
    private static bool TryCopy(ref Utf8JsonReader reader, scoped Span<byte> destination, out int length)
    {
        try
        {
            length = reader.CopyString(destination);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            length = 0;
            return false;
        }
    }

    private static Field Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when name.SequenceEqual("ts"u8) => Field.Ts,
        2 when name.SequenceEqual("ip"u8) => Field.Ip,
        3 when name.SequenceEqual("msg"u8) => Field.Msg,
        3 when name.SequenceEqual("log"u8) => Field.Log,
        4 when name.SequenceEqual("host"u8) => Field.Host,
        4 when name.SequenceEqual("type"u8) => Field.Type,
        4 when name.SequenceEqual("time"u8) => Field.Time,
        4 when name.SequenceEqual("date"u8) => Field.Date,
        5 when name.SequenceEqual("level"u8) => Field.Level,
        7 when name.SequenceEqual("process"u8) => Field.Process,
        7 when name.SequenceEqual("version"u8) => Field.Version,
        7 when name.SequenceEqual("message"u8) => Field.Message,
        9 when name.SequenceEqual("timestamp"u8) => Field.Timestamp,
        10 when name.SequenceEqual("@timestamp"u8) => Field.AtTimestamp,
        10 when name.SequenceEqual("attributes"u8) => Field.Attributes,
        _ => Field.Attribute,
    };

    /// <summary>A string field of the envelope; null (JSON null, or "") means "use the default".</summary>
    private static string? EnvelopeString(ref Utf8JsonReader reader, string field, Utf8StringCache cache)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var value = DecodeString(ref reader, field, cache);
                return value.Length == 0 ? null : value;
            case JsonTokenType.Null:
                return null;
            default:
                throw new EventFormatException(EventParser.Errors.MustBeString(field));
        }
    }

    private string AttributeKey(ref Utf8JsonReader reader, int index) =>
        DecodeString(ref reader, null, index < MaxCachedAttributes ? _attributeKeys[index] : null);

    /// <summary>Strings as they are; numbers, booleans, null, objects and arrays as their JSON text.</summary>
    private string AttributeValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, string key, int index)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return DecodeString(ref reader, key, (uint)index < MaxCachedAttributes ? _attributeValues[index] : null);
            case JsonTokenType.Number: // ASCII by JSON grammar; codes and counts repeat, so cached too
                return (uint)index < MaxCachedAttributes ? _attributeValues[index].Get(reader.ValueSpan) : Utf8Text.Decode(reader.ValueSpan);
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            case JsonTokenType.Null: return "null";
            default:
                var raw = Capture(ref reader);
                return Utf8Decode(source[raw.Start..raw.End], key);
        }
    }

    private void MergeAttributes(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, ref Dictionary<string, string>? attributes)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = DecodeString(ref reader, null, null);
            reader.Read();
            Add(ref attributes, key, AttributeValue(ref reader, source, key, -1));
        }
    }

    private void Add(ref Dictionary<string, string>? attributes, string key, string value)
    {
        attributes ??= new Dictionary<string, string>(_lastAttributeCount, StringComparer.Ordinal);
        attributes[key] = value; // a repeated key: the last one wins, as in most JSON readers
    }

    private static RawValue Capture(ref Utf8JsonReader reader)
    {
        var token = reader.TokenType;
        var escaped = token == JsonTokenType.String && reader.ValueIsEscaped;
        var start = (int)reader.TokenStartIndex;
        if (token is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        return new RawValue { Start = start, End = (int)reader.BytesConsumed, Token = token, Escaped = escaped };
    }

    private static bool IsPresent(in RawValue value) => value.Token is not (JsonTokenType.None or JsonTokenType.Null);

    private static string PickMessage(Span<RawValue> aliases, ReadOnlySpan<byte> source, ref Dictionary<string, string>? attributes)
    {
        var chosen = FirstPresent(aliases, FirstMessageAlias, 3);
        if (chosen < 0) throw new EventFormatException(EventParser.Errors.MissingMessage);
        var name = AliasNames[chosen];
        var raw = aliases[chosen];
        if (raw.Token != JsonTokenType.String) throw new EventFormatException(EventParser.Errors.MustBeString(name));

        MoveUnusedAliases(aliases, chosen, FirstMessageAlias, 3, source, ref attributes);
        return DecodeRawString(source, raw, name);
    }

    private static long PickTimestamp(Span<RawValue> aliases, ReadOnlySpan<byte> source, ref Dictionary<string, string>? attributes, long nowMs)
    {
        var chosen = FirstPresent(aliases, FirstTimestampAlias, 5);
        if (chosen < 0)
        {
            MoveUnusedAliases(aliases, -1, FirstTimestampAlias, 5, source, ref attributes);
            return nowMs;
        }
        var name = AliasNames[chosen];
        var raw = aliases[chosen];
        var reader = new Utf8JsonReader(source[raw.Start..raw.End]);
        reader.Read();

        long ms;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out var integer)) ms = EpochTimestamps.FromEpoch(integer);
            else if (!reader.TryGetDecimal(out var fraction) || !EpochTimestamps.TryFromEpoch(fraction, out ms))
            {
                throw new EventFormatException(EventParser.Errors.TimestampOutOfRange(name));
            }
        }
        else if (reader.TokenType == JsonTokenType.String)
        {
            Span<byte> unescaped = stackalloc byte[64];
            scoped ReadOnlySpan<byte> text;
            if (!reader.ValueIsEscaped) text = reader.ValueSpan;
            else if (TryCopy(ref reader, unescaped, out var length)) text = unescaped[..length];
            else throw new EventFormatException(EventParser.Errors.BadTimestamp(name));

            if (!EpochTimestamps.TryParseRfc3339(text, out ms)) throw new EventFormatException(EventParser.Errors.BadTimestamp(name));
        }
        else
        {
            throw new EventFormatException(EventParser.Errors.BadTimestamp(name));
        }
        if (!EpochTimestamps.InRange(ms)) throw new EventFormatException(EventParser.Errors.TimestampOutOfRange(name));

        MoveUnusedAliases(aliases, chosen, FirstTimestampAlias, 5, source, ref attributes);
        return ms;
    }

    private static int FirstPresent(Span<RawValue> aliases, int first, int count)
    {
        for (var i = first - FirstMessageAlias; i < first - FirstMessageAlias + count; i++)
        {
            if (IsPresent(aliases[i])) return i;
        }
        return -1;
    }

    /// <summary>
    /// An alias we did not use is still the sender's data: keep it as an attribute. A null one said nothing.
    /// </summary>
    private static void MoveUnusedAliases(Span<RawValue> aliases, int chosen, int first, int count, ReadOnlySpan<byte> source,
        ref Dictionary<string, string>? attributes)
    {
        for (var i = first - FirstMessageAlias; i < first - FirstMessageAlias + count; i++)
        {
            var raw = aliases[i];
            if (i == chosen || !IsPresent(raw)) continue;
            var name = AliasNames[i];
            var value = raw.Token == JsonTokenType.String
                ? DecodeRawString(source, raw, name)
                : Utf8Decode(source[raw.Start..raw.End], name);
            attributes ??= new Dictionary<string, string>(StringComparer.Ordinal);
            attributes[name] = value;
        }
    }

    private static string DecodeRawString(ReadOnlySpan<byte> source, in RawValue raw, string field)
    {
        if (!raw.Escaped) return Utf8Decode(source[(raw.Start + 1)..(raw.End - 1)], field); // inside the quotes
        var reader = new Utf8JsonReader(source[raw.Start..raw.End]);
        reader.Read();
        return DecodeString(ref reader, field, null);
    }

    /// <summary>The string the reader stands on; <paramref name="field"/> names it in errors, null for a name.</summary>
    private static string DecodeString(ref Utf8JsonReader reader, string? field, Utf8StringCache? cache)
    {
        try
        {
            if (reader.ValueIsEscaped) return reader.GetString()!;
            return cache is null ? Utf8Text.Decode(reader.ValueSpan) : cache.Get(reader.ValueSpan);
        }
        catch (Exception e) when (e is DecoderFallbackException or InvalidOperationException)
        {
            // Invalid UTF-8, or a \u escape that leaves half a surrogate pair.
            throw new EventFormatException(field is null ? EventParser.Errors.NameNotUtf8 : EventParser.Errors.NotUtf8(field));
        }
    }

    private static string Utf8Decode(ReadOnlySpan<byte> utf8, string field)
    {
        try
        {
            return Utf8Text.Decode(utf8);
        }
        catch (DecoderFallbackException)
        {
            throw new EventFormatException(EventParser.Errors.NotUtf8(field));
        }
    }

    private static Utf8StringCache[] NewCaches()
    {
        var caches = new Utf8StringCache[MaxCachedAttributes];
        for (var i = 0; i < caches.Length; i++) caches[i] = new Utf8StringCache();
        return caches;
    }
}
