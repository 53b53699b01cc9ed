using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Turns an ingress request body (already gunzipped) into <see cref="LogEvent"/>s, whole or not at all.
/// Liberal in what is missing, strict in what is wrong: only a message is required, and a field of the wrong
/// type fails the request with an error naming the field and the line.
/// </summary>
/// <remarks>
/// Field mapping: <c>ts</c> (else <c>@timestamp</c>, <c>timestamp</c>, <c>time</c>, <c>date</c>) as an epoch
/// number in s, ms, µs or ns (told by magnitude, fractions allowed) or an RFC 3339 string, else the ingress
/// time; <c>host</c>, <c>ip</c>, <c>process</c>, <c>type</c>, <c>version</c>, <c>level</c> as strings, where
/// null or "" counts as missing; the message from <c>msg</c>, else <c>message</c>, else <c>log</c>. The alias
/// that is not used (a second timestamp, <c>log</c> beside <c>msg</c>) goes to the attributes with every other
/// key: strings as they are, other values as their JSON text. An <c>attributes</c> object is merged into the
/// attributes, so lines the files sink wrote (<see cref="LogEventJson"/>) can be posted again.
/// Reads with <see cref="Utf8JsonReader"/> directly, without a DOM, and reuses the strings lines repeat.
/// </remarks>
public static class EventParser
{
    [ThreadStatic] private static LineMapper? t_mapper;

    /// <summary>Parses <paramref name="body"/> as <paramref name="kind"/>; see <see cref="ParseResult"/>.</summary>
    public static ParseResult Parse(ReadOnlySpan<byte> body, ContentKind kind, IngressContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The MessagePack reader reads memory, not spans: this overload copies; IngressEndpoint passes memory.
        if (kind == ContentKind.MessagePack) return Parse(body.ToArray().AsMemory(), kind, context);
        if (body.StartsWith("\uFEFF"u8)) body = body[3..]; // a UTF-8 BOM is not JSON, but editors add it

        var mapper = t_mapper ??= new LineMapper();
        var defaults = new Defaults(context);
        var result = kind switch
        {
            ContentKind.Ndjson => ParseNdjson(body, mapper, defaults),
            ContentKind.Json => ParseJson(body, mapper, defaults),
            ContentKind.JsonSequence => ParseJsonSequence(body, mapper, defaults),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown content kind."),
        };
        return Stamped(result, context);
    }

    /// <summary>As the span overload; reads a <see cref="ContentKind.MessagePack"/> body without copying it.</summary>
    public static ParseResult Parse(ReadOnlyMemory<byte> body, ContentKind kind, IngressContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (kind != ContentKind.MessagePack) return Parse(body.Span, kind, context);
        var mapper = t_mapper ??= new LineMapper();
        return Stamped(FluentBitMessagePack.Parse(body, mapper, new Defaults(context)), context);
    }

    private static ParseResult Stamped(ParseResult result, IngressContext context)
    {
        if (result.IsSuccess && context.NextSourceSeq is { } next)
        {
            foreach (var logEvent in result.Events) logEvent.StampSourceSeq(next(logEvent.Host, logEvent.Process));
        }
        return result;
    }

    private static ParseResult ParseNdjson(ReadOnlySpan<byte> body, LineMapper mapper, Defaults defaults)
    {
        var events = new List<LogEvent>(body.Count((byte)'\n') + 1);
        var rest = body;
        var lineNumber = 0;
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (line.IndexOfAnyExcept(" \t\r"u8) < 0) continue;

            try
            {
                var reader = new Utf8JsonReader(line);
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) return ParseResult.Failure(lineNumber, Errors.ExpectedObject);
                events.Add(mapper.MapObject(ref reader, line, defaults));
                reader.Read(); // throws on anything after the object
            }
            catch (EventFormatException e)
            {
                return ParseResult.Failure(lineNumber, e.Message);
            }
            catch (JsonException e)
            {
                return ParseResult.Failure(lineNumber, Errors.NotJson("line", e));
            }
        }
        return ParseResult.Success(events);
    }

    private static ParseResult ParseJson(ReadOnlySpan<byte> body, LineMapper mapper, Defaults defaults)
    {
        var ordinal = 1;
        try
        {
            var reader = new Utf8JsonReader(body);
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                {
                    var single = mapper.MapObject(ref reader, body, defaults);
                    reader.Read(); // throws on anything after the object
                    return ParseResult.Success([single]);
                }
                case JsonTokenType.StartArray:
                {
                    var events = new List<LogEvent>();
                    for (ordinal = 1; reader.Read() && reader.TokenType != JsonTokenType.EndArray; ordinal++)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject) return ParseResult.Failure(ordinal, Errors.ExpectedObject);
                        events.Add(mapper.MapObject(ref reader, body, defaults));
                    }
                    reader.Read();
                    return ParseResult.Success(events);
                }
                default:
                    return ParseResult.Failure(1, Errors.ExpectedObjectOrArray);
            }
        }
        catch (EventFormatException e)
        {
            return ParseResult.Failure(ordinal, e.Message);
        }
        catch (JsonException e)
        {
            return ParseResult.Failure(ordinal, Errors.NotJson("body", e));
        }
    }

    /// <summary>
    /// JSON values one after another (whitespace between them optional), each an object or an array of objects;
    /// the ordinal of an object counts across them. Nothing at all is zero events.
    /// </summary>
    private static ParseResult ParseJsonSequence(ReadOnlySpan<byte> body, LineMapper mapper, Defaults defaults)
    {
        var events = new List<LogEvent>();
        var ordinal = 1;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = true });
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        events.Add(mapper.MapObject(ref reader, body, defaults));
                        ordinal++;
                        break;
                    case JsonTokenType.StartArray:
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            if (reader.TokenType != JsonTokenType.StartObject) return ParseResult.Failure(ordinal, Errors.ExpectedObject);
                            events.Add(mapper.MapObject(ref reader, body, defaults));
                            ordinal++;
                        }
                        break;
                    default:
                        return ParseResult.Failure(ordinal, Errors.ExpectedObjectOrArray);
                }
            }
            return ParseResult.Success(events);
        }
        catch (EventFormatException e)
        {
            return ParseResult.Failure(ordinal, e.Message);
        }
        catch (JsonException e)
        {
            return ParseResult.Failure(ordinal, Errors.NotJson("body", e));
        }
    }

    /// <summary>The request's values for what events leave out, resolved once per request.</summary>
    internal readonly struct Defaults(IngressContext context)
    {
        public readonly string Type = string.IsNullOrEmpty(context.DefaultType) ? LogEvent.DefaultType : context.DefaultType;
        public readonly string Host = context.Host;
        public readonly string Ip = context.Ip;
        public readonly long NowMs = context.NowMs;
        public readonly Lineage Lineage = context.Lineage;
    }

    /// <summary>Error texts, in one place so tests and docs agree with the code.</summary>
    internal static class Errors
    {
        public const string ExpectedObject = "expected a JSON object";
        public const string ExpectedObjectOrArray = "expected a JSON object or an array of JSON objects";
        public const string MissingMessage = "missing 'msg' (or 'message', 'log')";

        public static string MustBeString(string field) => $"field '{field}' must be a string";

        public static string BadTimestamp(string field) => $"field '{field}' must be a number or an RFC 3339 string";

        public static string TimestampOutOfRange(string field) => $"field '{field}' is outside the years 0001-9999";

        public static string NotUtf8(string field) => $"field '{field}' is not valid UTF-8 text";

        public const string NameNotUtf8 = "a field name is not valid UTF-8 text";

        /// <summary>The reader's message without its "LineNumber: 0 | BytePositionInLine: 7." tail, which is
        /// relative to the line and 0-based; the column we add is 1-based.</summary>
        public static string NotJson(string what, JsonException e)
        {
            var message = e.Message;
            var tail = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (tail >= 0) message = message[..tail];
            message = message.TrimEnd().TrimEnd('.');
            var where = e.BytePositionInLine is { } column
                ? what == "line" ? $" (at byte {column + 1})" : $" (at line {e.LineNumber + 1}, byte {column + 1})"
                : "";
            return $"{what} is not valid JSON: {message}{where}";
        }
    }

    /// <summary>
    /// The 1-based line of the NDJSON body that holds the event at <paramref name="index"/> (blank lines count and hold no
    /// event): what a refusal names, so a sender finds the line.
    /// </summary>
    public static int NdjsonLineOf(ReadOnlySpan<byte> body, int index)
    {
        var line = 0;
        var events = -1;
        while (!body.IsEmpty)
        {
            line++;
            var end = body.IndexOf((byte)'\n');
            var text = end < 0 ? body : body[..end];
            body = end < 0 ? default : body[(end + 1)..];
            if (text.IndexOfAnyExcept(" \t\r"u8) >= 0 && ++events == index) return line;
        }
        return line;
    }
}
