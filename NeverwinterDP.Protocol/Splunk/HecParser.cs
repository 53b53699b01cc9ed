using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads Splunk HTTP Event Collector bodies: <c>/services/collector/event</c> (JSON event objects back to back,
/// whitespace between them optional) and <c>/services/collector/raw</c> (one event per line).
/// </summary>
/// <remarks>
/// Each HEC event becomes one JSON object mapped by the same rules as a line on <c>/v1/events</c>
/// (<see cref="EventParser"/>): <c>time</c> (epoch seconds, a number or a numeric string) → <c>ts</c>,
/// <c>host</c> → <c>host</c>, <c>sourcetype</c> → <c>type</c>, <c>source</c> and <c>index</c> → attributes of
/// those names, every key of <c>fields</c> → an attribute. A string <c>event</c> is the message; an object
/// <c>event</c> that has <c>msg</c>, <c>message</c> or <c>log</c> is read as a JSON line (its keys after the
/// envelope's, so they win); any other <c>event</c> (an object without a message, a number, an array) is the
/// message as its JSON text.
/// </remarks>
public static class HecParser
{
    [ThreadStatic] private static LineMapper? t_mapper;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>HEC's texts; the HEC dialect tells its error codes by them.</summary>
    public static class Errors
    {
        public const string NoData = "No data";
        public const string EventRequired = "Event field is required";
        public const string EventBlank = "Event field cannot be blank";
        public const string ExpectedObject = "Invalid data format: expected a JSON event object";
        public const string BadTime = "Invalid data format: 'time' must be epoch seconds (a number or a numeric string)";

        public static string MustBeString(string field) => $"Invalid data format: '{field}' must be a string";

        public static string NotJson(JsonException e) => "Invalid data format: " + EventParser.Errors.NotJson("body", e);
    }

    /// <summary>The query parameters of a raw request, for every line's event.</summary>
    public sealed record RawMetadata(string? Host, string? Source, string? SourceType, string? Time);

    /// <summary>An event endpoint body; <see cref="ParseResult.Line"/> is the event's ordinal, 1-based.</summary>
    public static ParseResult ParseEvents(ReadOnlySpan<byte> body, IngressContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var mapper = t_mapper ??= new LineMapper();
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var defaults = new EventParser.Defaults(context);
        var events = new List<LogEvent>();
        var ordinal = 1;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = true });
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.StartObject) return ParseResult.Failure(ordinal, Errors.ExpectedObject);
                using var hec = JsonDocument.ParseValue(ref reader);
                buffer.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) WriteEvent(hec.RootElement, writer);
                events.Add(Map(mapper, buffer.WrittenSpan, defaults));
                ordinal++;
            }
        }
        catch (EventFormatException e)
        {
            return ParseResult.Failure(ordinal, e.Message);
        }
        catch (JsonException e)
        {
            return ParseResult.Failure(ordinal, Errors.NotJson(e));
        }
        if (events.Count == 0) return ParseResult.Failure(1, Errors.NoData);
        return Stamped(events, context);
    }

    /// <summary>A raw endpoint body: every line that is not blank is one event's message; <see cref="ParseResult.Line"/> is the line.</summary>
    public static ParseResult ParseRaw(ReadOnlySpan<byte> body, RawMetadata metadata, IngressContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metadata);
        var mapper = t_mapper ??= new LineMapper();
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var defaults = new EventParser.Defaults(context);
        var events = new List<LogEvent>();
        var line = 0;
        try
        {
            while (!body.IsEmpty)
            {
                line++;
                var end = body.IndexOf((byte)'\n');
                var text = end < 0 ? body : body[..end];
                body = end < 0 ? default : body[(end + 1)..];
                if (text.EndsWith("\r"u8)) text = text[..^1];
                if (text.IndexOfAnyExcept(" \t"u8) < 0) continue;
                if (!System.Text.Unicode.Utf8.IsValid(text)) throw new EventFormatException(EventParser.Errors.NotUtf8("msg"));
                buffer.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                {
                    writer.WriteStartObject();
                    if (metadata.Time is { } time) WriteTime(writer, time);
                    if (metadata.Host is { } host) writer.WriteString("host", host);
                    if (metadata.SourceType is { } sourceType) writer.WriteString("type", sourceType);
                    if (metadata.Source is { } source) writer.WriteString("source", source);
                    writer.WriteString("msg"u8, text);
                    writer.WriteEndObject();
                }
                events.Add(Map(mapper, buffer.WrittenSpan, defaults));
            }
        }
        catch (EventFormatException e)
        {
            return ParseResult.Failure(line, e.Message);
        }
        if (events.Count == 0) return ParseResult.Failure(1, Errors.NoData);
        return Stamped(events, context);
    }

    private static LogEvent Map(LineMapper mapper, ReadOnlySpan<byte> json, in EventParser.Defaults defaults)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        return mapper.MapObject(ref reader, json, defaults);
    }

    private static ParseResult Stamped(List<LogEvent> events, IngressContext context)
    {
        if (context.NextSourceSeq is { } next)
        {
            foreach (var logEvent in events) logEvent.StampSourceSeq(next(logEvent.Host, logEvent.Process));
        }
        return ParseResult.Success(events);
    }

    private static void WriteEvent(JsonElement hec, Utf8JsonWriter writer)
    {
        if (!hec.TryGetProperty("event", out var body) || body.ValueKind == JsonValueKind.Null) throw new EventFormatException(Errors.EventRequired);
        if (body.ValueKind == JsonValueKind.String && body.GetString()!.Length == 0) throw new EventFormatException(Errors.EventBlank);
        writer.WriteStartObject();
        if (hec.TryGetProperty("time", out var time) && time.ValueKind != JsonValueKind.Null)
        {
            if (time.ValueKind == JsonValueKind.Number) WriteTime(writer, time.GetRawText());
            else if (time.ValueKind == JsonValueKind.String) WriteTime(writer, time.GetString()!);
            else throw new EventFormatException(Errors.BadTime);
        }
        WriteEnvelopeString(hec, writer, "host", "host");
        WriteEnvelopeString(hec, writer, "sourcetype", "type");
        WriteEnvelopeString(hec, writer, "source", "source");
        WriteEnvelopeString(hec, writer, "index", "index");
        if (hec.TryGetProperty("fields", out var fields) && fields.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in fields.EnumerateObject()) field.WriteTo(writer);
        }
        if (body.ValueKind == JsonValueKind.String)
        {
            writer.WritePropertyName("msg"u8);
            body.WriteTo(writer);
        }
        else if (body.ValueKind == JsonValueKind.Object && (body.TryGetProperty("msg", out _) || body.TryGetProperty("message", out _) || body.TryGetProperty("log", out _)))
        {
            foreach (var member in body.EnumerateObject()) member.WriteTo(writer);
        }
        else
        {
            writer.WriteString("msg"u8, body.GetRawText());
        }
        writer.WriteEndObject();
    }

    private static void WriteEnvelopeString(JsonElement hec, Utf8JsonWriter writer, string name, string asName)
    {
        if (!hec.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.String) throw new EventFormatException(Errors.MustBeString(name));
        writer.WriteString(asName, value.GetString());
    }

    /// <summary>HEC's time is epoch seconds, with a fraction or not; written as <c>ts</c>, which reads it as seconds.</summary>
    private static void WriteTime(Utf8JsonWriter writer, string seconds)
    {
        if (!decimal.TryParse(seconds, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || !EpochTimestamps.TryFromEpoch(value, out var ms) || !EpochTimestamps.InRange(ms))
        {
            throw new EventFormatException(Errors.BadTime);
        }
        writer.WritePropertyName("ts"u8);
        writer.WriteRawValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture), skipInputValidation: true);
    }
}
