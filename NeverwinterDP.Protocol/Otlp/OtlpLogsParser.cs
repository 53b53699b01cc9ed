using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads an OTLP/HTTP logs request (<c>ExportLogsServiceRequest</c>, protobuf or OTLP's JSON mapping) into
/// <see cref="LogEvent"/>s, one per log record.
/// </summary>
/// <remarks>
/// Field by field (docs/inputs.md): <c>timeUnixNano</c>, else <c>observedTimeUnixNano</c>, else the ingress time →
/// <c>ts</c> (floored to ms); the severity number's range (trace, debug, info, warn, error, fatal), else the
/// severity text, else <c>info</c> → <c>level</c>; a string body → <c>msg</c>, any other body as its JSON text, no
/// body: the event name; resource attribute <c>service.name</c> → <c>process</c>, <c>service.version</c> →
/// <c>version</c>, <c>host.name</c> → <c>host</c>; <c>type</c> from the attribute <c>nwdp.type</c>, else
/// <c>log.type</c> (record, then scope, then resource), else <c>?type=</c>, else <c>service.name</c>, else
/// <c>default</c>. Every other resource, scope and record attribute becomes an attribute (a record's over its
/// scope's over its resource's), strings as they are, other values as JSON text; also <c>otel.scope.name</c>,
/// <c>otel.scope.version</c>, <c>trace_id</c>, <c>span_id</c> (lowercase hex), <c>trace_flags</c>,
/// <c>event_name</c>, and <c>severity_text</c> when the level came from the number.
/// A record with neither body nor event name carries no message: it is rejected alone (OTLP's partial success),
/// the others are accepted.
/// </remarks>
public static class OtlpLogsParser
{
    /// <summary>What a request body became: the events of the records taken, and those rejected one by one.</summary>
    public sealed record Result(ParseResult Parsed, long Rejected, string? RejectedMessage);

    public static class Errors
    {
        public const string NoMessage = "log records with neither a body nor an event name were rejected: a NeverwinterDP event needs a message";

        public static string NotProtobuf(Exception e) => "body is not an OTLP ExportLogsServiceRequest in protobuf: " + e.Message;

        public static string NotJson(Exception e) => "body is not an OTLP ExportLogsServiceRequest in JSON: " + e.Message;

        public static string BadId(string field, int bytes) => $"field '{field}' must be {2 * bytes} hex digits (OTLP JSON encodes ids as hex)";
    }

    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A protobuf body (<c>application/x-protobuf</c>).</summary>
    public static Result ParseProtobuf(ReadOnlySpan<byte> body, IngressContext context)
    {
        ExportLogsServiceRequest request;
        try
        {
            request = ExportLogsServiceRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            return new Result(ParseResult.Failure(1, Errors.NotProtobuf(e)), 0, null);
        }
        return Map(request, context);
    }

    /// <summary>A JSON body (<c>application/json</c>): OTLP's JSON mapping, ids in hex, int64 as strings or numbers, unknown fields ignored.</summary>
    public static Result ParseJson(ReadOnlySpan<byte> body, IngressContext context)
    {
        ExportLogsServiceRequest request;
        try
        {
            // Google's parser reads bytes fields as base64; OTLP's JSON writes trace and span ids in hex.
            var text = Encoding.UTF8.GetString(HexIdsToBase64(body));
            request = Json.Parse<ExportLogsServiceRequest>(text);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or JsonException or FormatException or ArgumentException or InvalidOperationException)
        {
            return new Result(ParseResult.Failure(1, Errors.NotJson(e)), 0, null);
        }
        return Map(request, context);
    }

    /// <summary>The answer's body: no partial success when nothing was rejected.</summary>
    public static ExportLogsServiceResponse Response(long rejected, string? message) =>
        rejected == 0 && message is null
            ? new ExportLogsServiceResponse()
            : new ExportLogsServiceResponse { PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = message ?? "" } };

    /// <summary>The answer in OTLP's JSON mapping.</summary>
    public static string ToJson(ExportLogsServiceResponse response) => JsonFormatter.Default.Format(response);

    private static Result Map(ExportLogsServiceRequest request, IngressContext context)
    {
        var events = new List<LogEvent>();
        long rejected = 0;
        var lineage = context.Lineage;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = Flatten(resourceLogs.Resource?.Attributes);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var scope = Flatten(scopeLogs.Scope?.Attributes);
                if (scopeLogs.Scope is { } s)
                {
                    if (s.Name.Length > 0) scope.TryAdd("otel.scope.name", s.Name);
                    if (s.Version.Length > 0) scope.TryAdd("otel.scope.version", s.Version);
                }
                foreach (var record in scopeLogs.LogRecords)
                {
                    var message = Message(record);
                    if (message is null)
                    {
                        rejected++;
                        continue;
                    }
                    events.Add(Event(record, message, resource, scope, context, lineage));
                }
            }
        }
        if (context.NextSourceSeq is { } next)
        {
            foreach (var logEvent in events) logEvent.StampSourceSeq(next(logEvent.Host, logEvent.Process));
        }
        return new Result(ParseResult.Success(events), rejected, rejected > 0 ? Errors.NoMessage : null);
    }

    private static LogEvent Event(LogRecord record, string message, Dictionary<string, string> resource, Dictionary<string, string> scope, IngressContext context,
        Lineage lineage)
    {
        var attributes = Flatten(record.Attributes);
        foreach (var (key, value) in scope) attributes.TryAdd(key, value);
        foreach (var (key, value) in resource) attributes.TryAdd(key, value);
        var serviceName = Take(attributes, "service.name");
        var type = Take(attributes, "nwdp.type") ?? Take(attributes, "log.type");
        var level = Level(record.SeverityNumber);
        if (level is null) level = record.SeverityText.Length > 0 ? record.SeverityText : LogEvent.DefaultLevel;
        else if (record.SeverityText.Length > 0) attributes.TryAdd("severity_text", record.SeverityText);
        if (!record.TraceId.IsEmpty) attributes["trace_id"] = Convert.ToHexStringLower(record.TraceId.Span);
        if (!record.SpanId.IsEmpty) attributes["span_id"] = Convert.ToHexStringLower(record.SpanId.Span);
        if (record.Flags != 0) attributes["trace_flags"] = record.Flags.ToString(CultureInfo.InvariantCulture);
        if (record.EventName.Length > 0 && record.Body is not null) attributes["event_name"] = record.EventName;
        var nanos = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
        return new LogEvent
        {
            Ts = nanos != 0 ? (long)(nanos / 1_000_000) : context.NowMs,
            SystemTs = context.NowMs,
            Host = Take(attributes, "host.name") ?? context.Host,
            Ip = context.Ip,
            Process = serviceName ?? LogEvent.DefaultProcess,
            Type = type ?? (string.IsNullOrEmpty(context.DefaultType) ? serviceName ?? LogEvent.DefaultType : context.DefaultType),
            Version = Take(attributes, "service.version") ?? "",
            Level = level,
            Message = message,
            Attributes = attributes.Count == 0 ? LogEvent.NoAttributes : attributes,
            Lineage = lineage,
        };
    }

    /// <summary>The body (a string as it is, any other value as its JSON text), else the event name; null when neither.</summary>
    private static string? Message(LogRecord record)
    {
        if (record.Body is { ValueCase: not AnyValue.ValueOneofCase.None } body) return Text(body);
        return record.EventName.Length > 0 ? record.EventName : null;
    }

    /// <summary>OpenTelemetry's severity ranges (logs data model): 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal.</summary>
    private static string? Level(SeverityNumber number) => (int)number switch
    {
        >= 1 and <= 4 => "trace",
        >= 5 and <= 8 => "debug",
        >= 9 and <= 12 => "info",
        >= 13 and <= 16 => "warn",
        >= 17 and <= 20 => "error",
        >= 21 and <= 24 => "fatal",
        _ => null,
    };

    private static string? Take(Dictionary<string, string> attributes, string key) =>
        attributes.Remove(key, out var value) && value.Length > 0 ? value : null;

    private static Dictionary<string, string> Flatten(IEnumerable<KeyValue>? attributes)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (attributes is null) return map;
        foreach (var kv in attributes)
        {
            if (kv.Value is null || kv.Value.ValueCase == AnyValue.ValueOneofCase.None) continue;
            map[kv.Key] = Text(kv.Value);
        }
        return map;
    }

    /// <summary>A string as it is; any other value as JSON (bytes as base64, a key-value list as an object).</summary>
    private static string Text(AnyValue value)
    {
        if (value.ValueCase == AnyValue.ValueOneofCase.StringValue) return value.StringValue;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) WriteJson(writer, value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteJson(Utf8JsonWriter writer, AnyValue? value)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.StringValue: writer.WriteStringValue(value!.StringValue); break;
            case AnyValue.ValueOneofCase.BoolValue: writer.WriteBooleanValue(value!.BoolValue); break;
            case AnyValue.ValueOneofCase.IntValue: writer.WriteNumberValue(value!.IntValue); break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value!.DoubleValue): writer.WriteNumberValue(value.DoubleValue); break;
            case AnyValue.ValueOneofCase.DoubleValue: writer.WriteStringValue(value!.DoubleValue.ToString(CultureInfo.InvariantCulture)); break;
            case AnyValue.ValueOneofCase.BytesValue: writer.WriteBase64StringValue(value!.BytesValue.Span); break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value!.ArrayValue.Values) WriteJson(writer, item);
                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.WriteStartObject();
                foreach (var kv in value!.KvlistValue.Values)
                {
                    writer.WritePropertyName(kv.Key);
                    WriteJson(writer, kv.Value);
                }
                writer.WriteEndObject();
                break;
            default: writer.WriteNullValue(); break;
        }
    }

    /// <summary>The same JSON with every <c>traceId</c>/<c>spanId</c> (or <c>trace_id</c>/<c>span_id</c>) string turned from hex into base64.</summary>
    private static ReadOnlySpan<byte> HexIdsToBase64(ReadOnlySpan<byte> body)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length + 64);
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 128, SkipValidation = true }))
        {
            var idBytes = 0;
            string? idField = null;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        (idField, idBytes) = name switch
                        {
                            "traceId" or "trace_id" => (name, 16),
                            "spanId" or "span_id" => (name, 8),
                            _ => (null, 0),
                        };
                        writer.WritePropertyName(name);
                        continue;
                    case JsonTokenType.String when idField is not null:
                        var hex = reader.GetString()!;
                        if (hex.Length == 0) writer.WriteStringValue("");
                        else if (hex.Length != 2 * idBytes || !hex.All(char.IsAsciiHexDigit)) throw new FormatException(Errors.BadId(idField, idBytes));
                        else writer.WriteBase64StringValue(Convert.FromHexString(hex));
                        break;
                    case JsonTokenType.String: writer.WriteStringValue(reader.GetString()); break;
                    case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                    case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                    case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                    case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                    default: writer.WriteRawValue(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan, skipInputValidation: true); break;
                }
                idField = null;
            }
        }
        return buffer.WrittenSpan;
    }
}
