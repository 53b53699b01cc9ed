using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Inputs;

/// <summary>
/// Avro bodies on <c>POST /v1/events</c>, told by their Content-Type: Confluent REST Proxy v2 records
/// (<see cref="RestProxyContentType"/>, <see cref="RestProxyDialect"/>) and Confluent-framed Avro records back to back
/// (<see cref="FramedContentType"/>, <see cref="FramedAvroDialect"/>). Either is checked against the registry and
/// decoded into events before anything is sent; limits, the byte budget, the API-key check and the all-or-nothing
/// guarantee are <see cref="IngressEndpoint"/>'s, as for every input.
/// </summary>
public static class AvroInput
{
    public const string RestProxyContentType = "application/vnd.kafka.avro.v2+json";

    public const string FramedContentType = "application/vnd.confluent.avro";

    /// <summary>Taken as <see cref="FramedContentType"/> (the body is Confluent frames, not an Avro object container file).</summary>
    public const string AvroContentType = "application/avro";

    /// <summary>The dialect of an Avro Content-Type; null for every other (the body is <c>/v1/events</c>' own JSON or msgpack).</summary>
    public static IngressDialect? DialectFor(HttpContext http)
    {
        var contentType = http.Request.ContentType;
        if (string.IsNullOrEmpty(contentType)) return null;
        var media = contentType.Split(';', 2)[0].Trim();
        if (media.Equals(RestProxyContentType, StringComparison.OrdinalIgnoreCase)) return new RestProxyDialect(AvroWriterSchemas.Of(http.RequestServices));
        if (media.Equals(FramedContentType, StringComparison.OrdinalIgnoreCase) || media.Equals(AvroContentType, StringComparison.OrdinalIgnoreCase))
            return new FramedAvroDialect(AvroWriterSchemas.Of(http.RequestServices));
        return null;
    }

    /// <summary>
    /// Completes decoded events as ingress completes any: the sender's lineage and system time are replaced by this
    /// node's (an event's sequence number is taken here, after the whole body was checked, so a refused request uses
    /// up none); an empty type, timestamp or host gets the request's defaults.
    /// </summary>
    internal static IReadOnlyList<LogEvent> Complete(List<LogEvent> decoded, IngressContext context)
    {
        var events = new LogEvent[decoded.Count];
        for (var i = 0; i < events.Length; i++) events[i] = context.Complete(decoded[i] with { Lineage = default });
        return events;
    }

    /// <summary>The log type an event lands in once completed.</summary>
    internal static string TypeOf(LogEvent decoded, IngressContext context) =>
        !string.IsNullOrEmpty(decoded.Type) ? decoded.Type : string.IsNullOrEmpty(context.DefaultType) ? LogEvent.DefaultType : context.DefaultType;
}

/// <summary>How a schema id given at ingress stands: unknown, known but not one ingress takes, or a writer schema it decodes.</summary>
public enum AvroSchemaStanding { Unknown, NotAccepted, Accepted }

/// <summary>A writer schema ingress decodes: the LogEvent's (either version) or a log type's typed schema.</summary>
public sealed class AvroWriterSchema(int id, Avro.Schema schema, TypedLogSchema? typed)
{
    public int Id { get; } = id;

    public Avro.Schema Schema { get; } = schema;

    /// <summary>The typed log schema; null for the LogEvent schema.</summary>
    public TypedLogSchema? Typed { get; } = typed;

    /// <summary>Decodes the record at the start of <paramref name="avro"/>.</summary>
    /// <exception cref="MalformedRecordException">It is not a record of this schema.</exception>
    public LogEvent DecodePrefix(ReadOnlySpan<byte> avro, out int consumed) =>
        Typed?.DecodePrefix(avro, out consumed) ?? LogEventAvro.DecodePrefix(avro, Id, out consumed);
}

/// <summary>
/// Which schemas Avro bodies may be written with, from this node's registry store (none when the node serves no
/// registry: then only the LogEvent's fixed ids). An id's schema never changes, so parsed schemas are kept per id
/// for the process; one instance serves one request and remembers its answers, so a body of many records asks the
/// store once per id, not once per record.
/// </summary>
public sealed class AvroWriterSchemas(SchemaStore? store)
{
    private readonly Dictionary<int, (AvroSchemaStanding Standing, AvroWriterSchema? Writer)> _resolved = [];
    private readonly Dictionary<(int Id, string Type), bool> _typeOf = [];

    private static readonly ConcurrentDictionary<int, Avro.Schema> Parsed = new();
    private static readonly string LogEventCanonical = SchemaStore.Canonical(NeverwinterDP.Protocol.Schemas.LogEvent);
    private static readonly string LogEventV1Canonical = SchemaStore.Canonical(NeverwinterDP.Protocol.Schemas.LogEventV1);

    /// <summary>What a refusal of another schema says is accepted.</summary>
    public static readonly string AcceptedText =
        $"ingress takes records of the LogEvent schema (id {SchemaIds.LogEvent}, or {SchemaIds.LogEventV1} for version 1) or of a log type's typed schema " +
        "(the latest or an earlier version of subject nwdp.logs.<type>-value, registered with 'nwdp schema set --type')";

    public static AvroWriterSchemas Of(IServiceProvider services) => new(services.GetService<SchemaStore>());

    public AvroSchemaStanding Resolve(int id, out AvroWriterSchema? writer)
    {
        if (!_resolved.TryGetValue(id, out var known)) _resolved[id] = known = (ResolveNew(id, out var found), found);
        writer = known.Writer;
        return known.Standing;
    }

    private AvroSchemaStanding ResolveNew(int id, out AvroWriterSchema? writer)
    {
        writer = null;
        if (LogEventAvro.IsLogEvent(id))
        {
            writer = new AvroWriterSchema(id, Parsed.GetOrAdd(id, i => Avro.Schema.Parse(i == SchemaIds.LogEvent ? NeverwinterDP.Protocol.Schemas.LogEvent : NeverwinterDP.Protocol.Schemas.LogEventV1)), null);
            return AvroSchemaStanding.Accepted;
        }
        if (store?.SchemaById(id) is not { } text) return AvroSchemaStanding.Unknown;
        var typed = TypedLogSchemas.ById(id);
        if (typed is null && TypedLogSchema.TryCompile(id, text, out _) is { } compiled) typed = TypedLogSchemas.Remember(compiled);
        if (typed is null) return AvroSchemaStanding.NotAccepted;
        writer = new AvroWriterSchema(id, Parsed.GetOrAdd(id, _ => Avro.Schema.Parse(text)), typed);
        return AvroSchemaStanding.Accepted;
    }

    /// <summary>The id of a schema given as text, looked up (never registered) in the registry; null when it holds no such schema.</summary>
    /// <exception cref="Avro.AvroException">The text is not an Avro schema.</exception>
    public int? IdOf(string schema)
    {
        var canonical = SchemaStore.Canonical(schema);
        if (canonical == LogEventCanonical) return SchemaIds.LogEvent;
        if (canonical == LogEventV1Canonical) return SchemaIds.LogEventV1;
        return store?.IdOf(canonical);
    }

    /// <summary>Whether typed schema <paramref name="id"/> is a version of <paramref name="type"/>'s subject (else its records would land in another type).</summary>
    public bool IsSchemaOf(int id, string type)
    {
        if (_typeOf.TryGetValue((id, type), out var known)) return known;
        return _typeOf[(id, type)] = store is not null && store.Versions(TypeSchemaRegistration.SubjectOf(type), deleted: true).Any(v => v.Id == id);
    }

    /// <summary>The subjects that hold <paramref name="id"/>, for messages.</summary>
    public string SubjectsOf(int id) => store is null ? "" : string.Join(", ", store.VersionsOfId(id, deleted: true).Select(v => v.Subject).Distinct());
}

/// <summary>
/// Confluent REST Proxy v2's Avro produce body: <c>{"value_schema_id": N, "records": [{"value": {...}, "key": "k"}]}</c>
/// (or <c>value_schema</c>: the schema's text, looked up in the registry). Each value is the Avro JSON encoding of that
/// schema. Answers and errors are the REST Proxy's: <c>{"error_code": 42203, "message": "...", "record": 2, "field": "status"}</c>.
/// </summary>
public sealed class RestProxyDialect(AvroWriterSchemas schemas) : IngressDialect
{
    private const string CodeItem = "nwdp.avro.error_code";
    private const string FieldItem = "nwdp.avro.field";
    private const string SchemaIdItem = "nwdp.avro.schema_id";

    /// <summary>The REST Proxy's codes (its Errors class): keys without a key schema, values without a value schema, JSON that is not the schema's Avro, an invalid schema, an unknown schema id.</summary>
    public const int KeySchemaCode = 42201, ValueSchemaMissingCode = 42202, ConversionCode = 42203, InvalidSchemaCode = 42205, SchemaRetrievalCode = 40801;

    public override string? Unsupported(HttpRequest request) => null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context)
    {
        var items = request.HttpContext.Items;
        ParseResult Fail(int status, int code, string reason, int record, string message, string? field = null)
        {
            items[CodeItem] = code;
            if (field is not null) items[FieldItem] = field;
            return ParseResult.Failure(record + 1, message, status, reason);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return Fail(400, 400, "malformed", -1, $"body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Fail(422, 422, "malformed", -1, "the body must be an object with 'records'");
            if (!root.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Array)
                return Fail(422, 422, "malformed", -1, "'records' must be an array of {\"value\": ...}");
            foreach (var name in (ReadOnlySpan<string>)["key_schema", "key_schema_id"])
            {
                if (root.TryGetProperty(name, out var keySchema) && keySchema.ValueKind != JsonValueKind.Null)
                    return Fail(422, KeySchemaCode, "invalid_schema", -1, $"'{name}' is not taken: a record's key is the partition key, given as a JSON string", name);
            }
            if (records.GetArrayLength() == 0) return ParseResult.Success([]);

            // The writer schema: by id, or by its text looked up in the registry (never registered from here: a log type's schema is the operator's).
            int id;
            if (root.TryGetProperty("value_schema_id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
            {
                if (!idElement.TryGetInt32(out id)) return Fail(422, 422, "malformed", -1, $"'value_schema_id' must be an integer, got {idElement.GetRawText()}", "value_schema_id");
            }
            else if (root.TryGetProperty("value_schema", out var schemaElement) && schemaElement.ValueKind != JsonValueKind.Null)
            {
                if (schemaElement.ValueKind != JsonValueKind.String)
                    return Fail(422, InvalidSchemaCode, "invalid_schema", -1, "Invalid schema: 'value_schema' must be the schema as a JSON string", "value_schema");
                int? found;
                try
                {
                    found = schemas.IdOf(schemaElement.GetString()!);
                }
                catch (Exception e) when (e is not OperationCanceledException) // Apache.Avro's exceptions for a bad schema are not all AvroException
                {
                    return Fail(422, InvalidSchemaCode, "invalid_schema", -1, $"Invalid schema: {e.Message}", "value_schema");
                }
                if (found is not { } known)
                    return Fail(422, InvalidSchemaCode, "schema_not_accepted", -1,
                        $"Invalid schema: 'value_schema' is not registered in this node's registry (ingress looks schemas up, it does not register them); {AvroWriterSchemas.AcceptedText}", "value_schema");
                id = known;
            }
            else
                return Fail(422, ValueSchemaMissingCode, "invalid_schema", -1, "Request includes values but does not include value schema ('value_schema_id' or 'value_schema')", "value_schema_id");

            switch (schemas.Resolve(id, out var writer))
            {
                case AvroSchemaStanding.Unknown:
                    return Fail(408, SchemaRetrievalCode, "unknown_schema", -1, $"Error when fetching schema by id: schema id {id} is not known to this node's registry", "value_schema_id");
                case AvroSchemaStanding.NotAccepted:
                    return Fail(422, InvalidSchemaCode, "schema_not_accepted", -1, $"Invalid schema: schema id {id} ({schemas.SubjectsOf(id)}) is not one ingress takes: {AvroWriterSchemas.AcceptedText}", "value_schema_id");
            }
            items[SchemaIdItem] = id;

            var decoded = new List<LogEvent>(records.GetArrayLength());
            var index = 0;
            foreach (var record in records.EnumerateArray())
            {
                if (record.ValueKind != JsonValueKind.Object || !record.TryGetProperty("value", out var value))
                    return Fail(422, ConversionCode, "malformed", index, $"records[{index}] must be an object with a 'value'");
                string? key = null;
                if (record.TryGetProperty("key", out var keyElement) && keyElement.ValueKind != JsonValueKind.Null)
                {
                    if (keyElement.ValueKind != JsonValueKind.String)
                        return Fail(422, KeySchemaCode, "malformed", index, $"records[{index}].key must be a JSON string (the partition key); Avro keys are not taken", "key");
                    key = keyElement.GetString();
                }
                LogEvent logEvent;
                try
                {
                    var avro = AvroJson.ToBinary(writer!.Schema, value);
                    logEvent = writer.DecodePrefix(avro, out _);
                }
                catch (AvroJsonException e)
                {
                    return Fail(422, ConversionCode, "malformed", index, $"Conversion of JSON to Avro failed: records[{index}].value{(e.Path.Length == 0 ? "" : "." + e.Path)}: {e.Problem}", e.Path);
                }
                catch (MalformedRecordException e)
                {
                    return Fail(422, ConversionCode, "malformed", index, $"Conversion of JSON to Avro failed: records[{index}].value: {e.Message}");
                }
                if (writer.Typed is not null && AvroInput.TypeOf(logEvent, context) is var type && !schemas.IsSchemaOf(id, type))
                    return Fail(422, ConversionCode, "malformed", index,
                        $"records[{index}].value.type: '{type}' is not the log type of schema id {id} ({schemas.SubjectsOf(id)}); its records must carry that type", "type");
                if (key is not null)
                {
                    var attributes = new Dictionary<string, string>(logEvent.Attributes, StringComparer.Ordinal) { ["key"] = key };
                    logEvent = logEvent with { Attributes = attributes };
                }
                decoded.Add(logEvent);
                index++;
            }
            return ParseResult.Success(AvroInput.Complete(decoded, context));
        }
    }

    /// <summary>Where a record is: its index in <c>records</c>, 0-based, plus one (as <see cref="ParseResult.Line"/> counts).</summary>
    public override int LineOf(HttpRequest request, ReadOnlySpan<byte> body, int index) => index + 1;

    public override Task AcceptedAsync(HttpContext http, int count) =>
        http.Response.WriteAsJsonAsync(new RestProxyAccepted(count, null, http.Items[SchemaIdItem] as int?), RestProxyJson.Default.RestProxyAccepted);

    public override Task ErrorAsync(HttpContext http, int status, string reason, string message, int? line)
    {
        var code = http.Items[CodeItem] as int? ?? reason switch
        {
            "bus_failed" or "spill_full" or "stopping" => 50003, // the REST Proxy's retriable Kafka error
            "bus_refused" => 50002,
            _ => status,
        };
        return http.Response.WriteAsJsonAsync(new RestProxyError(code, message, line is > 0 ? line - 1 : null, http.Items[FieldItem] as string), RestProxyJson.Default.RestProxyError);
    }

    /// <summary>A typed attribute that does not fit its log type's schema: 422 and 42203, as a value that does not convert.</summary>
    public override Task TypedFieldErrorAsync(HttpContext http, TypedFieldProblem problem, int line)
    {
        http.Response.StatusCode = 422;
        return http.Response.WriteAsJsonAsync(new RestProxyError(ConversionCode, problem.Message, line - 1, problem.Field), RestProxyJson.Default.RestProxyError);
    }
}

/// <summary>
/// Confluent-framed Avro records (magic byte 0, the schema id as 4 bytes big-endian, the Avro binary record), one or
/// several back to back: a record ends where its schema says, so no length is needed between them (the body is what
/// Confluent's serializers give, concatenated). Errors are <c>/v1/events</c>' own (<c>{"error": ..., "line": N}</c>,
/// <c>line</c> the record's ordinal in the body).
/// </summary>
public sealed class FramedAvroDialect(AvroWriterSchemas schemas) : IngressDialect
{
    private static ReadOnlySpan<byte> ContainerMagic => "Obj\u0001"u8;

    public override string? Unsupported(HttpRequest request) => null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context)
    {
        var span = body.Span;
        if (span.StartsWith(ContainerMagic))
            return ParseResult.Failure(1, "the body is an Avro object container file; send Confluent-framed records (magic byte 0, 4-byte schema id, Avro binary) back to back");
        var decoded = new List<LogEvent>();
        var position = 0;
        for (var ordinal = 1; position < span.Length; ordinal++)
        {
            var left = span.Length - position;
            if (left < ConfluentWireFormat.HeaderLength)
                return ParseResult.Failure(ordinal, $"record {ordinal} (at byte {position}): {left} bytes left, a Confluent frame starts with 5 (magic byte 0, 4-byte schema id)");
            if (span[position] != ConfluentWireFormat.MagicByte)
                return ParseResult.Failure(ordinal, $"record {ordinal} (at byte {position}): magic byte 0x{span[position]:x2}, expected 0x00 (the Confluent wire format)");
            var id = BinaryPrimitives.ReadInt32BigEndian(span.Slice(position + 1, 4));
            switch (schemas.Resolve(id, out var writer))
            {
                case AvroSchemaStanding.Unknown:
                    return ParseResult.Failure(ordinal, $"record {ordinal}: schema id {id} is not known to this node's registry", 422, "unknown_schema");
                case AvroSchemaStanding.NotAccepted:
                    return ParseResult.Failure(ordinal, $"record {ordinal}: schema id {id} ({schemas.SubjectsOf(id)}) is not one ingress takes: {AvroWriterSchemas.AcceptedText}", 422,
                        "schema_not_accepted");
            }
            LogEvent logEvent;
            int consumed;
            try
            {
                logEvent = writer!.DecodePrefix(span[(position + ConfluentWireFormat.HeaderLength)..], out consumed);
            }
            catch (MalformedRecordException e)
            {
                return ParseResult.Failure(ordinal, $"record {ordinal} (at byte {position}) does not decode as schema id {id}: {e.Message}");
            }
            if (writer.Typed is not null && AvroInput.TypeOf(logEvent, context) is var type && !schemas.IsSchemaOf(id, type))
                return ParseResult.Failure(ordinal, $"record {ordinal}: type '{type}' is not the log type of schema id {id} ({schemas.SubjectsOf(id)}); its records must carry that type");
            decoded.Add(logEvent);
            position += ConfluentWireFormat.HeaderLength + consumed;
        }
        return ParseResult.Success(AvroInput.Complete(decoded, context));
    }
}

/// <summary>The REST Proxy dialect's 200: how many records were taken and with which schema (no offsets: the request is one durable batch).</summary>
public sealed record RestProxyAccepted(
    int Accepted,
    [property: JsonPropertyName("key_schema_id")] int? KeySchemaId,
    [property: JsonPropertyName("value_schema_id")] int? ValueSchemaId);

/// <summary>The REST Proxy's error body, with the record (0-based index in <c>records</c>) and field at fault where one is.</summary>
public sealed record RestProxyError(
    [property: JsonPropertyName("error_code")] int ErrorCode,
    string Message,
    int? Record = null,
    string? Field = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RestProxyAccepted))]
[JsonSerializable(typeof(RestProxyError))]
internal sealed partial class RestProxyJson : JsonSerializerContext;
