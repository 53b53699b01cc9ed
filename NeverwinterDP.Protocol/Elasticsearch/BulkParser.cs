using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads an Elasticsearch <c>_bulk</c> body (NDJSON: an action line, then for <c>index</c>, <c>create</c> and
/// <c>update</c> a source line) into events, with one item per action for Elasticsearch's per-item answer.
/// </summary>
/// <remarks>
/// <para>A body that is not a bulk body (an action line that is not a JSON object of one known action, a missing
/// source line, an action with no index) is refused whole, as Elasticsearch refuses it. Otherwise each action is
/// answered on its own: <c>index</c> and <c>create</c> with a source that maps to an event are taken (201); a
/// source that does not (not a JSON object, no message, a field of the wrong type) is that item's 400
/// <c>document_parsing_exception</c>; <c>delete</c> and <c>update</c> are each a 400 <c>illegal_argument_exception</c>
/// (the bus only appends).</para>
/// <para>A source maps as a line on <c>/v1/events</c>, after the ECS objects shippers write are read: <c>host.name</c>
/// (else <c>host.hostname</c>) → <c>host</c>, <c>service.name</c> (else <c>process.name</c>) → <c>process</c>,
/// <c>service.version</c> → <c>version</c>, <c>log.level</c> → <c>level</c>; the other members of those objects
/// become attributes named <c>host.os</c>, <c>log.file</c>, ... The type is the source's own <c>type</c>, else the
/// index's (<see cref="TypeOfIndex"/>).</para>
/// </remarks>
public static partial class BulkParser
{
    [ThreadStatic] private static LineMapper? t_mapper;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One action's answer: an event taken (<see cref="EventIndex"/>) or an error.</summary>
    /// <param name="Action"><c>index</c>, <c>create</c>, <c>delete</c> or <c>update</c>.</param>
    /// <param name="Status">201 when taken; else the error's status.</param>
    /// <param name="EventIndex">The event's position in <see cref="Result.Parsed"/>'s events; -1 when not taken.</param>
    public sealed record Item(string Action, string Index, string Id, int Status, int EventIndex, string? ErrorType = null, string? ErrorReason = null);

    public sealed record Result(ParseResult Parsed, IReadOnlyList<Item> Items);

    public static class Errors
    {
        public const string ExpectedAction = "Malformed action/metadata line: expected an object of one action (index, create, delete or update)";
        public const string MissingSource = "Malformed bulk body: the action has no source line after it";
        public const string IndexMissing = "Validation Failed: 1: index is missing;";
        public const string NoActions = "request body is required: no bulk actions";

        public static string UnknownAction(string action) => $"Malformed action/metadata line: unknown action [{action}], expected one of [create, delete, index, update]";

        public static string Unsupported(string action) =>
            $"NeverwinterDP's _bulk ingress only appends: [{action}] is not supported (documents cannot be changed once they are on the bus)";
    }

    /// <summary>
    /// The log type of an index: a data stream <c>logs-DATASET-NAMESPACE</c> → <c>DATASET</c>; any other name without
    /// its trailing date, version and rollover suffixes (<c>filebeat-8.17.0-2025.01.02-000001</c> → <c>filebeat</c>,
    /// <c>logstash-2025.01.02</c> → <c>logstash</c>), so that a daily index is one log type, not one a day.
    /// </summary>
    public static string TypeOfIndex(string index)
    {
        if (index.StartsWith("logs-", StringComparison.Ordinal) && index.LastIndexOf('-') is var dash && dash > 5) return index[5..dash];
        var stripped = Suffixes().Replace(index, "");
        return stripped.Length > 0 ? stripped : index;
    }

    [GeneratedRegex(@"(-(\d{4}[.\-]\d{2}([.\-]\d{2})?|\d{8}|\d+\.\d+\.\d+(-SNAPSHOT)?|\d{6}))+$")]
    private static partial Regex Suffixes();

    /// <param name="pathIndex">The <c>{index}</c> of <c>/{index}/_bulk</c>: the index of actions that name none.</param>
    /// <param name="newId">Makes the <c>_id</c> of an action that gives none.</param>
    public static Result Parse(ReadOnlySpan<byte> body, string? pathIndex, IngressContext context, Func<string> newId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var mapper = t_mapper ??= new LineMapper();
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var events = new List<LogEvent>();
        var items = new List<Item>();
        var defaultsByIndex = new Dictionary<string, EventParser.Defaults>(StringComparer.Ordinal);
        var line = 0;
        while (NextLine(ref body, ref line, out var actionLine))
        {
            string action, index, id;
            try
            {
                (action, index, id) = ReadAction(actionLine, pathIndex);
            }
            catch (Exception e) when (e is JsonException or EventFormatException)
            {
                return Failure(line, e is JsonException ? Errors.ExpectedAction : e.Message);
            }
            if (action is "delete")
            {
                items.Add(new Item(action, index, id, 400, -1, "illegal_argument_exception", Errors.Unsupported(action)));
                continue;
            }
            if (!NextLine(ref body, ref line, out var source)) return Failure(line + 1, Errors.MissingSource);
            if (action is "update")
            {
                items.Add(new Item(action, index, id, 400, -1, "illegal_argument_exception", Errors.Unsupported(action)));
                continue;
            }
            if (id.Length == 0) id = newId();
            try
            {
                if (!defaultsByIndex.TryGetValue(index, out var defaults))
                    defaultsByIndex[index] = defaults = new EventParser.Defaults(context with { DefaultType = TypeOfIndex(index) });
                buffer.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) WriteEvent(source, writer);
                var reader = new Utf8JsonReader(buffer.WrittenSpan);
                reader.Read();
                events.Add(mapper.MapObject(ref reader, buffer.WrittenSpan, defaults));
                items.Add(new Item(action, index, id, 201, events.Count - 1));
            }
            catch (Exception e) when (e is JsonException or EventFormatException)
            {
                var reason = e is JsonException json ? EventParser.Errors.NotJson("source", json) : e.Message;
                items.Add(new Item(action, index, id, 400, -1, "document_parsing_exception", $"[{line}] {reason}"));
            }
        }
        if (items.Count == 0) return Failure(1, Errors.NoActions);
        if (context.NextSourceSeq is { } next)
        {
            foreach (var logEvent in events) logEvent.StampSourceSeq(next(logEvent.Host, logEvent.Process));
        }
        return new Result(ParseResult.Success(events), items);
    }

    private static Result Failure(int line, string error) => new(ParseResult.Failure(line, error), []);

    /// <summary>The next line that is not blank, its number in <paramref name="line"/>; false at the end.</summary>
    private static bool NextLine(ref ReadOnlySpan<byte> body, ref int line, out ReadOnlySpan<byte> text)
    {
        while (!body.IsEmpty)
        {
            line++;
            var end = body.IndexOf((byte)'\n');
            text = end < 0 ? body : body[..end];
            body = end < 0 ? default : body[(end + 1)..];
            if (text.IndexOfAnyExcept(" \t\r"u8) >= 0) return true;
        }
        text = default;
        return false;
    }

    private static (string Action, string Index, string Id) ReadAction(ReadOnlySpan<byte> line, string? pathIndex)
    {
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new EventFormatException(Errors.ExpectedAction);
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName) throw new EventFormatException(Errors.ExpectedAction);
        var action = reader.GetString()!;
        if (action is not ("index" or "create" or "delete" or "update")) throw new EventFormatException(Errors.UnknownAction(action));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new EventFormatException(Errors.ExpectedAction);
        string? index = null, id = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "_index" when reader.TokenType == JsonTokenType.String: index = reader.GetString(); break;
                case "_id" when reader.TokenType == JsonTokenType.String: id = reader.GetString(); break;
                case "_id" when reader.TokenType == JsonTokenType.Number: id = reader.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                default: reader.Skip(); break; // routing, pipeline, require_alias, _type (6.x), ...
            }
        }
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject || reader.Read()) throw new EventFormatException(Errors.ExpectedAction);
        index ??= pathIndex;
        if (string.IsNullOrEmpty(index)) throw new EventFormatException(Errors.IndexMissing);
        return (action, index, id ?? "");
    }

    /// <summary>The source as a <c>/v1/events</c> object: ECS objects' envelope members lifted, their other members flattened.</summary>
    private static void WriteEvent(ReadOnlySpan<byte> source, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(source);
        using var document = JsonDocument.ParseValue(ref reader);
        if (reader.Read()) throw new EventFormatException("expected one JSON object on the source line");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new EventFormatException(EventParser.Errors.ExpectedObject);
        string? host = null, process = null, version = null, level = null;
        var written = new HashSet<string>(StringComparer.Ordinal);
        writer.WriteStartObject();
        foreach (var member in root.EnumerateObject())
        {
            if (member.Value.ValueKind == JsonValueKind.Object && member.Name is "host" or "service" or "process" or "log" or "level" or "version" or "ip" or "type")
            {
                foreach (var inner in member.Value.EnumerateObject())
                {
                    var lifted = (member.Name, inner.Name, inner.Value.ValueKind) switch
                    {
                        ("host", "name", JsonValueKind.String) => host ??= inner.Value.GetString(),
                        ("host", "hostname", JsonValueKind.String) when host is null => host = inner.Value.GetString(),
                        ("service", "name", JsonValueKind.String) => process = inner.Value.GetString(),
                        ("process", "name", JsonValueKind.String) => process ??= inner.Value.GetString(),
                        ("service", "version", JsonValueKind.String) => version = inner.Value.GetString(),
                        ("log", "level", JsonValueKind.String) => level = inner.Value.GetString(),
                        _ => null,
                    };
                    if (lifted is not null) continue;
                    var name = member.Name + "." + inner.Name;
                    if (!written.Add(name)) continue;
                    writer.WritePropertyName(name);
                    inner.Value.WriteTo(writer);
                }
                continue;
            }
            if (!written.Add(member.Name)) continue; // a name given twice: the first wins, as a flattened one does
            member.WriteTo(writer);
        }
        if (host is not null && !written.Contains("host")) writer.WriteString("host", host);
        if (process is not null && !written.Contains("process")) writer.WriteString("process", process);
        if (version is not null && !written.Contains("version")) writer.WriteString("version", version);
        if (level is not null && !written.Contains("level")) writer.WriteString("level", level);
        writer.WriteEndObject();
    }
}
