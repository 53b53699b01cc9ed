using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The Avro types a typed attribute may have (alone or in a union with null): the primitives, <c>bytes</c>, an
/// <c>enum</c>, and the logical types <c>timestamp-millis</c>, <c>timestamp-micros</c> (on long), <c>date</c> (on
/// int), <c>decimal</c> (on bytes) and <c>uuid</c> (on string); or an <c>array</c> or <c>map</c> of one of those
/// (<see cref="TypedField.Item"/>).
/// </summary>
public enum TypedKind { Int, Long, Float, Double, Boolean, String, Bytes, Enum, TimestampMillis, TimestampMicros, Date, Decimal, Uuid, Array, Map }

/// <summary>One typed attribute: its Avro type, whether null is allowed (and its union branches), and its default.</summary>
public sealed record TypedField(string Name, TypedKind Kind, bool Nullable, int NullBranch, bool HasDefault, object? Default)
{
    /// <summary>A decimal's precision (digits in all) and scale (digits after the point); 0 for other kinds.</summary>
    public int Precision { get; init; }

    public int Scale { get; init; }

    /// <summary>An enum's symbols, in the schema's order (a symbol's index is its Avro encoding); empty for other kinds.</summary>
    public IReadOnlyList<string> Symbols { get; init; } = [];

    /// <summary>An array's items or a map's values (a field of one of the other kinds, never null, never a container); null for other kinds.</summary>
    public TypedField? Item { get; init; }

    /// <summary>Whether this is an array or a map.</summary>
    public bool IsContainer => Kind is TypedKind.Array or TypedKind.Map;

    /// <summary>What one value is: an array's or map's <see cref="Item"/>, else the field itself.</summary>
    public TypedField Leaf => Item ?? this;

    /// <summary>How errors and docs name the type: <c>int</c>, <c>decimal(10,2)</c>, or <c>int or null</c>.</summary>
    public string Expected => Nullable ? $"{TypeName} or null" : TypeName;

    /// <summary>The Avro name of the type: <c>int</c>, <c>timestamp-millis</c>, <c>decimal(10,2)</c>, <c>enum {a, b}</c>.</summary>
    public string TypeName => Kind switch
    {
        TypedKind.TimestampMillis => "timestamp-millis",
        TypedKind.TimestampMicros => "timestamp-micros",
        TypedKind.Decimal => $"decimal({Precision},{Scale})",
        TypedKind.Enum => $"enum {{{string.Join(", ", Symbols)}}}",
        TypedKind.Array => $"array<{Item!.TypeName}>",
        TypedKind.Map => $"map<{Item!.TypeName}>",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// One decoded typed attribute, unboxed: <see cref="Integer"/> for int, long, boolean (0 or 1), the timestamps (epoch
/// milliseconds or microseconds, UTC), date (days since 1970-01-01) and enum (the symbol's index); <see cref="Real"/>
/// for float and double; <see cref="Text"/> for string, uuid (lowercase, 8-4-4-4-12), enum (the symbol) and decimal
/// (the exact value with scale digits after the point, <c>-12.50</c>); <see cref="Binary"/> for bytes (and a
/// decimal's unscaled two's-complement bytes, as Avro writes them); <see cref="HasValue"/> false for a null.
/// An array or map: <see cref="Items"/> (each as its item kind's value), a map's <see cref="Keys"/> in the same order,
/// and <see cref="Text"/> the JSON text of the whole (<c>[200,404]</c>, <c>{"a":"x"}</c>: numbers and booleans as
/// JSON numbers and literals, every other item as a JSON string of its text form).
/// </summary>
public readonly record struct TypedValue(bool HasValue, long Integer = 0, double Real = 0, string? Text = null, byte[]? Binary = null,
    TypedValue[]? Items = null, string[]? Keys = null);

/// <summary>A typed record's values, in the order of <see cref="TypedLogSchema.Fields"/> (what <see cref="LogEvent.Typed"/> holds).</summary>
public sealed class TypedValues(TypedLogSchema schema, TypedValue[] values)
{
    public TypedLogSchema Schema { get; } = schema;

    public IReadOnlyList<TypedValue> Values { get; } = values;
}

/// <summary>Why an event does not fit its type's schema: the field, the type it expects, and a sentence naming both.</summary>
public sealed record TypedFieldProblem(string Field, string Expected, string Message)
{
    /// <summary>For an array or map field: the index (<c>2</c>) or key of the item at fault; null otherwise.</summary>
    public string? Element { get; init; }
}

/// <summary>A log type's schema refused before it reaches the registry (the registry's 42201, invalid schema).</summary>
public sealed class TypedSchemaException(string message) : Exception(message);

/// <summary>
/// A typed log type's record: the <c>LogEvent</c> version 2 envelope (the same fields, in the same order, so every
/// decoder of ours reads its start as it reads any event), then one field per typed attribute. Registered under the
/// type's subject (<c>nwdp.logs.&lt;type&gt;-value</c>); a record on the bus carries that schema's id in its frame, so
/// Confluent's deserializers read it with the registry alone. Typed attributes leave the <c>attributes</c> map; every
/// other key stays there as a string. Encoded and decoded by hand, as <see cref="LogEventAvro"/> is (no generic path).
/// </summary>
public sealed class TypedLogSchema
{
    /// <summary>The envelope's fields, in order: a typed attribute may not take one of these names.</summary>
    public static IReadOnlyList<string> EnvelopeFields { get; } =
        ["ts", "system_ts", "host", "ip", "process", "type", "version", "level", "message", "attributes", "lineage"];

    private static readonly RecordSchema Envelope = (RecordSchema)Schema.Parse(Schemas.LogEvent);
    private const int MaxScratch = 1 << 20;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;

    private readonly HashSet<string> _keys;
    private readonly TypedField[] _fields; // looped per event: an array's enumerator does not allocate

    private TypedLogSchema(int id, string text, IReadOnlyList<TypedField> fields)
    {
        Id = id;
        Text = text;
        Fields = fields;
        _fields = fields.ToArray();
        _keys = new HashSet<string>(fields.Select(f => f.Name), StringComparer.Ordinal);
    }

    /// <summary>The registry's id of this schema: what the Confluent frame of its records carries.</summary>
    public int Id { get; }

    /// <summary>The typed attributes, in the record's order.</summary>
    public IReadOnlyList<TypedField> Fields { get; }

    /// <summary>The schema's text as the registry holds it: the writer schema of the Avro files written from its records.</summary>
    public string Text { get; }

    /// <summary>
    /// The schema registered for log type <paramref name="logType"/> given its attributes' record
    /// (<c>{"type":"record","name":"Web","fields":[{"name":"status","type":"int"}, ...]}</c>): the envelope with
    /// those fields appended, named <c>neverwinterdp.logs.&lt;type&gt;</c> (the same name for every version, so the
    /// registry's compatibility check compares the attributes).
    /// </summary>
    /// <exception cref="TypedSchemaException">Not a record, or a field of an unsupported type or an envelope name.</exception>
    public static string Wrap(string logType, string attributesSchema)
    {
        ArgumentException.ThrowIfNullOrEmpty(logType);
        Schema parsed;
        try
        {
            parsed = Schema.Parse(attributesSchema);
        }
        catch (Exception e) when (e is AvroException or Newtonsoft.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            throw new TypedSchemaException($"not an Avro schema: {e.Message}");
        }
        if (parsed is not RecordSchema record) throw new TypedSchemaException($"a log type's schema must be a record of its attributes, got a {parsed.Tag.ToString().ToLowerInvariant()}");
        if (record.Fields.Count == 0) throw new TypedSchemaException("the record has no fields");
        foreach (var field in record.Fields) Describe(field);
        // The operator's field definitions as written (name, type, default, doc), after the envelope's.
        var fields = (JsonArray)JsonNode.Parse(record.ToString())!["fields"]!;
        var full = JsonNode.Parse(Schemas.LogEvent)!.AsObject();
        full["name"] = AvroName(logType);
        full["namespace"] = "neverwinterdp.logs";
        full["doc"] = $"Log type '{logType}': the LogEvent envelope (version 2), then the typed attributes; other attributes stay in 'attributes'.";
        // Lineage is named in the neverwinterdp namespace: keep that name, not the record's new namespace.
        var lineage = full["fields"]!.AsArray().Single(f => (string?)f!["name"] == "lineage")!["type"]!.AsObject();
        lineage["namespace"] = "neverwinterdp";
        foreach (var f in fields) full["fields"]!.AsArray().Add(f!.DeepClone());
        return full.ToJsonString();
    }

    /// <summary>The record name a log type's schema gets: letters, digits and underscores (Avro's rule), others as '_'.</summary>
    public static string AvroName(string logType)
    {
        var chars = logType.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        return char.IsAsciiDigit(chars[0]) ? "_" + new string(chars) : new string(chars);
    }

    /// <summary>
    /// The layout of schema <paramref name="id"/> when it is a typed log type's record (the envelope, then typed
    /// attributes); null with <paramref name="why"/> when it is another schema.
    /// </summary>
    public static TypedLogSchema? TryCompile(int id, string schema, out string? why)
    {
        try
        {
            if (Schema.Parse(schema) is not RecordSchema record) throw new TypedSchemaException("not a record");
            if (record.Fields.Count <= Envelope.Fields.Count) throw new TypedSchemaException("no typed fields after the LogEvent envelope");
            for (var i = 0; i < Envelope.Fields.Count; i++)
            {
                if (record.Fields[i].Name != Envelope.Fields[i].Name || record.Fields[i].Schema.ToString() != Envelope.Fields[i].Schema.ToString())
                    throw new TypedSchemaException($"field {i + 1} is not the envelope's '{Envelope.Fields[i].Name}'");
            }
            var fields = record.Fields.Skip(Envelope.Fields.Count).Select(Describe).ToList();
            why = null;
            return new TypedLogSchema(id, schema, fields);
        }
        catch (Exception e) when (e is TypedSchemaException or AvroException or Newtonsoft.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            why = e.Message;
            return null;
        }
    }

    private static TypedField Describe(Field field)
    {
        if (EnvelopeFields.Contains(field.Name))
            throw new TypedSchemaException($"field '{field.Name}' is a field of the LogEvent envelope; name the attribute otherwise");
        var (type, nullable, nullBranch) = field.Schema switch
        {
            UnionSchema { Count: 2 } u when u.Schemas[0].Tag == Schema.Type.Null && u.Schemas[1].Tag != Schema.Type.Null => (u.Schemas[1], true, 0),
            UnionSchema { Count: 2 } u when u.Schemas[1].Tag == Schema.Type.Null && u.Schemas[0].Tag != Schema.Type.Null => (u.Schemas[0], true, 1),
            UnionSchema u => throw Unsupported(field.Name, u.ToString()),
            var s => (s, false, -1),
        };
        var shape = type switch
        {
            ArraySchema array => Shape(field.Name, TypedKind.Array, array.ItemSchema, "an array's items"),
            MapSchema map => Shape(field.Name, TypedKind.Map, map.ValueSchema, "a map's values"),
            _ => Shape(field.Name, type),
        } with { Nullable = nullable, NullBranch = nullBranch };
        var hasDefault = field.DefaultValue is not null;
        object? defaultValue = null;
        if (hasDefault)
        {
            var token = field.DefaultValue!;
            // Avro: a union's default is of its first branch.
            var defaultIsNull = token.Type == Newtonsoft.Json.Linq.JTokenType.Null;
            if (defaultIsNull && !(nullable && nullBranch == 0))
                throw new TypedSchemaException($"field '{field.Name}': default null needs the type [\"null\", ...] (null first)");
            if (!defaultIsNull)
            {
                if (nullable && nullBranch == 0)
                    throw new TypedSchemaException($"field '{field.Name}': a union's default is of its first branch (null); put the type first to default to a value");
                defaultValue = shape.IsContainer ? ContainerDefault(shape, token) : ScalarDefault(shape, token);
            }
        }
        return shape with { HasDefault = hasDefault, Default = defaultValue };
    }

    /// <summary>The field's shape for a type that is not a union (its kind, a decimal's precision and scale, an enum's symbols).</summary>
    private static TypedField Shape(string name, Schema type)
    {
        var shape = new TypedField(name, KindOf(name, type), false, -1, false, null);
        if (shape.Kind == TypedKind.Decimal) shape = shape with { Precision = DecimalProperty(name, type, "precision"), Scale = DecimalProperty(name, type, "scale") };
        if (shape.Kind == TypedKind.Decimal && (shape.Precision < 1 || shape.Scale < 0 || shape.Scale > shape.Precision))
            throw new TypedSchemaException($"field '{name}': a decimal needs a precision of at least 1 and a scale from 0 to the precision, got precision {shape.Precision}, scale {shape.Scale}");
        if (type is EnumSchema enumeration) shape = shape with { Symbols = enumeration.Symbols.ToArray() };
        return shape;
    }

    /// <summary>An array's or map's shape: its items are one of the other kinds, not null, not a container or record.</summary>
    private static TypedField Shape(string name, TypedKind kind, Schema items, string what)
    {
        var refused = items switch
        {
            ArraySchema => "an array",
            MapSchema => "a map",
            RecordSchema => "a record",
            UnionSchema => "a union",
            FixedSchema => "a fixed",
            _ => null,
        };
        if (refused is not null)
            throw new TypedSchemaException($"field '{name}': {what} may not be {refused}; an array's items and a map's values are int, long, float, double, boolean, string, bytes, an enum, " +
                "timestamp-millis, timestamp-micros, date, decimal or uuid (nested arrays, maps and records, unions and fixed are not taken)");
        return new TypedField(name, kind, false, -1, false, null) { Item = Shape(name, items) };
    }

    /// <summary>
    /// A scalar default as the value <see cref="TryParse(TypedField, string, out object?)"/> gives. A default is in Avro's
    /// JSON encoding (what other readers resolve it as): a timestamp's or date's number, bytes and a decimal's unscaled
    /// bytes as a string of code points 0-255.
    /// </summary>
    private static object? ScalarDefault(TypedField shape, Newtonsoft.Json.Linq.JToken token)
    {
        var kind = shape.Kind;
        var isString = token.Type == Newtonsoft.Json.Linq.JTokenType.String;
        var text = isString ? (string)token! : token.ToString(Newtonsoft.Json.Formatting.None);
        if (kind is TypedKind.TimestampMillis or TypedKind.TimestampMicros or TypedKind.Date && isString) text = "";
        if (kind is TypedKind.Bytes or TypedKind.Decimal)
        {
            if (!isString || text.Any(c => c > 0xFF))
                throw new TypedSchemaException($"field '{shape.Name}': a {shape.TypeName} default is a string of code points 0-255 (Avro's JSON encoding of bytes)");
            var raw = text.Select(c => (byte)c).ToArray();
            text = kind == TypedKind.Bytes ? Convert.ToBase64String(raw)
                : DecimalText(raw.Length == 0 ? System.Numerics.BigInteger.Zero : new System.Numerics.BigInteger(raw, isUnsigned: false, isBigEndian: true), shape.Scale);
        }
        if (!TryParse(shape, text, out var value))
            throw new TypedSchemaException($"field '{shape.Name}': default {token.ToString(Newtonsoft.Json.Formatting.None)} is not {Article(shape)} {shape.TypeName}");
        return value;
    }

    /// <summary>An array's default (a JSON array) or a map's (a JSON object), its items in Avro's JSON encoding.</summary>
    private static TypedValue ContainerDefault(TypedField shape, Newtonsoft.Json.Linq.JToken token)
    {
        var item = shape.Item!;
        var items = new List<TypedValue>();
        List<string>? keys = null;
        switch (token)
        {
            case Newtonsoft.Json.Linq.JArray array when shape.Kind == TypedKind.Array:
                foreach (var element in array) items.Add(ItemValue(item, ScalarDefault(item, element)));
                break;
            case Newtonsoft.Json.Linq.JObject map when shape.Kind == TypedKind.Map:
                keys = [];
                foreach (var property in map.Properties())
                {
                    keys.Add(property.Name);
                    items.Add(ItemValue(item, ScalarDefault(item, property.Value)));
                }
                break;
            default:
                throw new TypedSchemaException($"field '{shape.Name}': default {token.ToString(Newtonsoft.Json.Formatting.None)} is not a JSON {(shape.Kind == TypedKind.Array ? "array" : "object")} ({shape.TypeName})");
        }
        return Container(item, items.ToArray(), keys?.ToArray());
    }

    private static TypedKind KindOf(string name, Schema type) => type switch
    {
        LogicalSchema { LogicalTypeName: "timestamp-millis", BaseSchema.Tag: Schema.Type.Long } => TypedKind.TimestampMillis,
        LogicalSchema { LogicalTypeName: "timestamp-micros", BaseSchema.Tag: Schema.Type.Long } => TypedKind.TimestampMicros,
        LogicalSchema { LogicalTypeName: "date", BaseSchema.Tag: Schema.Type.Int } => TypedKind.Date,
        LogicalSchema { LogicalTypeName: "decimal", BaseSchema.Tag: Schema.Type.Bytes } => TypedKind.Decimal,
        LogicalSchema { LogicalTypeName: "uuid", BaseSchema.Tag: Schema.Type.String } => TypedKind.Uuid,
        LogicalSchema l => throw Unsupported(name, l.ToString()),
        EnumSchema => TypedKind.Enum,
        PrimitiveSchema p => p.Tag switch
        {
            Schema.Type.Int => TypedKind.Int,
            Schema.Type.Long => TypedKind.Long,
            Schema.Type.Float => TypedKind.Float,
            Schema.Type.Double => TypedKind.Double,
            Schema.Type.Boolean => TypedKind.Boolean,
            Schema.Type.String => TypedKind.String,
            Schema.Type.Bytes => TypedKind.Bytes,
            _ => throw Unsupported(name, p.ToString()),
        },
        _ => throw Unsupported(name, type.ToString()),
    };

    private static int DecimalProperty(string name, Schema type, string property)
    {
        var text = type.GetProperty(property);
        if (text is null) return property == "scale" ? 0 : throw new TypedSchemaException($"field '{name}': a decimal needs a precision");
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new TypedSchemaException($"field '{name}': a decimal's {property} must be a whole number, got {text}");
    }

    private static TypedSchemaException Unsupported(string name, string type) =>
        new($"field '{name}' has type {type}; a typed attribute is int, long, float, double, boolean, string, bytes, an enum, " +
            "timestamp-millis or timestamp-micros (long), date (int), decimal (bytes) or uuid (string), " +
            "an array or map of one of them, or a union of one of them with null (records, fixed and unions of other types are not taken)");

    /// <summary>
    /// Why <paramref name="logEvent"/> does not fit this schema (<c>field 'status' must be an int, got "abc"</c>, its first field that does not),
    /// or null when it does. An attribute holds a JSON value's text, so 200 and "200" are both an int.
    /// </summary>
    public TypedFieldProblem? Validate(LogEvent logEvent)
    {
        foreach (var field in _fields)
        {
            if (!logEvent.Attributes.TryGetValue(field.Name, out var text))
            {
                if (!field.HasDefault && !field.Nullable) return new(field.Name, field.Expected, $"field '{field.Name}' is required (expected {field.Expected})");
                continue;
            }
            if (field.Nullable && !IsText(field.Kind) && text == "null") continue;
            if (field.IsContainer)
            {
                if (!TryParseContainer(field, text, out _, out var problem)) return problem;
                continue;
            }
            if (!Fits(field, text))
                return new(field.Name, field.Expected, $"field '{field.Name}' must be {Article(field)} {field.Expected}, got {Quote(text)}{Hint(field)}");
        }
        return null;
    }

    /// <summary>Kinds whose every text is (or may be) a value: a "null" there is that text, not a null.</summary>
    private static bool IsText(TypedKind kind) => kind is TypedKind.String;

    private static string Article(TypedField field) => field.Kind is TypedKind.Int or TypedKind.Enum or TypedKind.Array ? "an" : "a";

    // What the text forms are, for the kinds whose form is not obvious from the type's name.
    private static string Hint(TypedField field) => field.Kind switch
    {
        TypedKind.TimestampMillis => " (an ISO-8601 time with an offset, 2026-12-07T12:00:00.123Z, or epoch milliseconds)",
        TypedKind.TimestampMicros => " (an ISO-8601 time with an offset, 2026-12-07T12:00:00.123456Z, or epoch microseconds)",
        TypedKind.Date => " (YYYY-MM-DD)",
        TypedKind.Uuid => " (8-4-4-4-12 hex digits)",
        TypedKind.Bytes => " (base64)",
        TypedKind.Decimal => $" (at most {field.Precision - field.Scale} digits before the point and {field.Scale} after)",
        _ => "",
    };

    private static string Quote(string text) => text.Length <= 40 ? $"\"{text}\"" : $"\"{text[..40]}...\"";

    /// <summary>What <see cref="TryParse"/> accepts, without boxing the primitives: validation runs per event at ingress.</summary>
    private static bool Fits(TypedField field, string text)
    {
        var invariant = CultureInfo.InvariantCulture;
        return field.Kind switch
        {
            TypedKind.Int => int.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out _),
            TypedKind.Long => long.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out _),
            TypedKind.Float => float.TryParse(text, NumberStyles.Float, invariant, out var f) && float.IsFinite(f),
            TypedKind.Double => double.TryParse(text, NumberStyles.Float, invariant, out var d) && double.IsFinite(d),
            TypedKind.Boolean => text is "true" or "false",
            TypedKind.String => true,
            _ => TryParse(field, text, out _),
        };
    }

    // Epoch bounds of what every store holds: years 1 to 9999 (.NET's DateTime; PostgreSQL, Parquet and Elasticsearch take more).
    private static readonly long MinMicros = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / 10, MaxMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>
    /// An event's attribute text as the field's value: an int, long, float, double, bool or string for the primitives;
    /// for the others the <see cref="TypedValue"/> the decoder would give (so encoding writes what the sinks read).
    /// Timestamps: an ISO-8601 time with an offset (<c>Z</c> or <c>+02:00</c>; a time without one is refused as
    /// ambiguous) or an integer in the field's unit since the epoch. Date: <c>YYYY-MM-DD</c> or an integer of days
    /// since 1970-01-01. Uuid: 8-4-4-4-12 hex digits, any case. Decimal: a plain number (no exponent) of at most
    /// precision - scale digits before the point and scale after (never rounded). Bytes: base64. Enum: a symbol.
    /// </summary>
    private static bool TryParse(TypedField field, string text, out object? value)
    {
        value = null;
        switch (field.Kind)
        {
            case TypedKind.Array or TypedKind.Map:
                if (!TryParseContainer(field, text, out var container, out _)) return false;
                value = container;
                return true;
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                var micros = field.Kind == TypedKind.TimestampMicros;
                long epoch;
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) epoch = n;
                else if (text.Length >= 20 && text[10] is 'T' or 't' && HasOffset(text)
                         && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                {
                    var ticks = time.UtcTicks - DateTime.UnixEpoch.Ticks;
                    if (ticks % (micros ? 10 : TimeSpan.TicksPerMillisecond) != 0) return false; // finer than the field's unit: not rounded
                    epoch = micros ? ticks / 10 : ticks / TimeSpan.TicksPerMillisecond;
                }
                else return false;
                if (!InRange(epoch, micros)) return false;
                value = new TypedValue(true, Integer: epoch, Text: TimestampText(epoch, micros));
                return true;
            case TypedKind.Date:
                int days;
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d)) days = d;
                else if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    days = date.DayNumber - Epoch.DayNumber;
                else return false;
                if (days < DateOnly.MinValue.DayNumber - Epoch.DayNumber || days > DateOnly.MaxValue.DayNumber - Epoch.DayNumber) return false;
                value = new TypedValue(true, Integer: days, Text: DateText(days));
                return true;
            case TypedKind.Uuid:
                if (!Guid.TryParseExact(text, "D", out var guid)) return false;
                value = new TypedValue(true, Text: guid.ToString("D"));
                return true;
            case TypedKind.Enum:
                for (var i = 0; i < field.Symbols.Count; i++)
                {
                    if (field.Symbols[i] != text) continue;
                    value = new TypedValue(true, Integer: i, Text: text);
                    return true;
                }
                return false;
            case TypedKind.Bytes:
                var buffer = new byte[(text.Length + 3) / 4 * 3];
                if (!Convert.TryFromBase64String(text, buffer, out var written)) return false;
                value = new TypedValue(true, Text: text, Binary: buffer[..written]);
                return true;
            case TypedKind.Decimal:
                if (!TryParseDecimal(text, field.Precision, field.Scale, out var unscaled)) return false;
                value = new TypedValue(true, Text: DecimalText(unscaled, field.Scale), Binary: unscaled.ToByteArray(isUnsigned: false, isBigEndian: true));
                return true;
        }
        return TryParse(field.Kind, text, out value);
    }

    /// <summary>
    /// An array's or map's attribute text (the JSON value's text: <c>[200, "404"]</c>, <c>{"a": 1}</c>) as its value,
    /// each item parsed as an attribute of the item's type would be (a JSON string's content, a number's or literal's
    /// text); or the problem naming the item's index or key. Items may not be null, arrays or objects; a key may not repeat.
    /// </summary>
    private static bool TryParseContainer(TypedField field, string text, out TypedValue value, out TypedFieldProblem? problem)
    {
        value = default;
        problem = null;
        var item = field.Item!;
        var array = field.Kind == TypedKind.Array;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            problem = NotContainer(field, text);
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != (array ? JsonValueKind.Array : JsonValueKind.Object))
            {
                problem = NotContainer(field, text);
                return false;
            }
            var items = new List<TypedValue>(array ? root.GetArrayLength() : 4);
            List<string>? keys = array ? null : [];
            HashSet<string>? seen = array ? null : new(StringComparer.Ordinal);
            var index = 0;
            foreach (var (key, element) in array ? root.EnumerateArray().Select(e => ((string?)null, e)) : root.EnumerateObject().Select(p => ((string?)p.Name, p.Value)))
            {
                var at = array ? index.ToString(CultureInfo.InvariantCulture) : key!;
                var where = array ? $"item {index}" : $"key \"{key}\"";
                index++;
                if (!array && !seen!.Add(key!))
                {
                    problem = new TypedFieldProblem(field.Name, field.Expected, $"field '{field.Name}' has key \"{key}\" twice (a {field.TypeName} holds each key once)") { Element = at };
                    return false;
                }
                var itemText = element.ValueKind switch
                {
                    JsonValueKind.String => element.GetString()!,
                    JsonValueKind.Number => element.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => null, // null, an array or an object: no item of ours
                };
                if (itemText is null || !TryParse(item, itemText, out var parsed))
                {
                    var got = itemText is null ? element.GetRawText() : Quote(itemText);
                    if (got.Length > 43) got = got[..40] + "...";
                    problem = new TypedFieldProblem(field.Name, field.Expected,
                        $"field '{field.Name}' {where} must be {Article(item)} {item.TypeName}, got {got}{Hint(item)}") { Element = at };
                    return false;
                }
                items.Add(ItemValue(item, parsed));
                keys?.Add(key!);
            }
            value = Container(item, items.ToArray(), keys?.ToArray());
            return true;
        }
    }

    private static TypedFieldProblem NotContainer(TypedField field, string text) =>
        new(field.Name, field.Expected, $"field '{field.Name}' must be {Article(field)} {field.Expected}, got {Quote(text)} (a JSON {(field.Kind == TypedKind.Array ? "array" : "object")})");

    /// <summary>An item as the decoder gives it (so encoding writes what the sinks read): the primitives unboxed as <see cref="TypedValue"/>.</summary>
    private static TypedValue ItemValue(TypedField item, object? parsed) => parsed switch
    {
        int i => new TypedValue(true, Integer: i),
        long l => new TypedValue(true, Integer: l),
        float f => new TypedValue(true, Real: f),
        double d => new TypedValue(true, Real: d),
        bool b => new TypedValue(true, Integer: b ? 1 : 0),
        string s => new TypedValue(true, Text: s),
        TypedValue v => v,
        _ => throw new InvalidOperationException($"item of {item.TypeName}: {parsed}"),
    };

    /// <summary>An array's or map's value: its items, a map's keys, and the JSON text of the whole (the attribute's text form).</summary>
    private static TypedValue Container(TypedField item, TypedValue[] items, string[]? keys)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + items.Length * 8);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            if (keys is null) json.WriteStartArray();
            else json.WriteStartObject();
            for (var i = 0; i < items.Length; i++)
            {
                if (keys is not null) json.WritePropertyName(keys[i]);
                switch (item.Kind)
                {
                    case TypedKind.Int or TypedKind.Long: json.WriteNumberValue(items[i].Integer); break;
                    case TypedKind.Float: json.WriteRawValue(((float)items[i].Real).ToString("R", CultureInfo.InvariantCulture)); break;
                    case TypedKind.Double: json.WriteRawValue(items[i].Real.ToString("R", CultureInfo.InvariantCulture)); break;
                    case TypedKind.Boolean: json.WriteBooleanValue(items[i].Integer != 0); break;
                    default: json.WriteStringValue(items[i].Text); break;
                }
            }
            if (keys is null) json.WriteEndArray();
            else json.WriteEndObject();
        }
        return new TypedValue(true, Text: System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), Items: items, Keys: keys);
    }

    private static readonly DateOnly Epoch = new(1970, 1, 1);

    private static bool InRange(long epoch, bool micros) =>
        micros ? epoch >= MinMicros && epoch <= MaxMicros : epoch >= MinMicros / 1000 && epoch <= MaxMicros / 1000;

    private static bool HasOffset(string text) =>
        text[^1] is 'Z' or 'z' || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');

    /// <summary>A timestamp's text form: ISO-8601 UTC with 3 (millis) or 6 (micros) fraction digits.</summary>
    public static string TimestampText(long epoch, bool micros) =>
        (DateTime.UnixEpoch + TimeSpan.FromTicks(micros ? epoch * 10 : epoch * TimeSpan.TicksPerMillisecond))
        .ToString(micros ? "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A date's text form, YYYY-MM-DD, from days since 1970-01-01.</summary>
    public static string DateText(long days) => Epoch.AddDays((int)days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A decimal's text form: the unscaled value with <paramref name="scale"/> digits after the point.</summary>
    public static string DecimalText(System.Numerics.BigInteger unscaled, int scale)
    {
        var digits = System.Numerics.BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        var sign = unscaled.Sign < 0 ? "-" : "";
        return scale == 0 ? sign + digits : $"{sign}{digits[..^scale]}.{digits[^scale..]}";
    }

    private static bool TryParseDecimal(string text, int precision, int scale, out System.Numerics.BigInteger unscaled)
    {
        unscaled = default;
        var s = text.AsSpan();
        var negative = s.Length > 0 && s[0] == '-';
        if (s.Length > 0 && s[0] is '-' or '+') s = s[1..];
        var point = s.IndexOf('.');
        var whole = point < 0 ? s : s[..point];
        var fraction = point < 0 ? [] : s[(point + 1)..];
        if (whole.IsEmpty && fraction.IsEmpty) return false;
        if (point >= 0 && fraction.IsEmpty) return false; // "12.": not a number JSON writes
        foreach (var c in whole) if (!char.IsAsciiDigit(c)) return false;
        foreach (var c in fraction) if (!char.IsAsciiDigit(c)) return false;
        whole = whole.TrimStart('0');
        var trimmedFraction = fraction.TrimEnd('0');
        if (trimmedFraction.Length > scale || whole.Length > precision - scale) return false;
        var digits = string.Concat(whole, trimmedFraction) + new string('0', scale - trimmedFraction.Length);
        unscaled = System.Numerics.BigInteger.Parse(digits.Length == 0 ? "0" : digits, CultureInfo.InvariantCulture);
        if (negative) unscaled = -unscaled;
        return true;
    }

    private static bool TryParse(TypedKind kind, string text, out object? value)
    {
        var invariant = CultureInfo.InvariantCulture;
        value = null;
        switch (kind)
        {
            case TypedKind.Int when int.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out var i): value = i; return true;
            case TypedKind.Long when long.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out var l): value = l; return true;
            case TypedKind.Float when float.TryParse(text, NumberStyles.Float, invariant, out var f) && float.IsFinite(f): value = f; return true;
            case TypedKind.Double when double.TryParse(text, NumberStyles.Float, invariant, out var d) && double.IsFinite(d): value = d; return true;
            case TypedKind.Boolean when text is "true" or "false": value = text == "true"; return true;
            case TypedKind.String: value = text; return true;
            default: return false;
        }
    }

    /// <summary>
    /// The Confluent frame of <paramref name="logEvent"/> under this schema; null when an attribute does not fit
    /// (<see cref="Validate"/> says which): the caller writes the plain <c>LogEvent</c> then, so nothing is lost.
    /// </summary>
    public byte[]? TryEncodeFramed(LogEvent logEvent)
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(1024);
        scratch.ResetWrittenCount();
        ConfluentWireFormat.WriteHeader(scratch, Id);
        LogEventAvro.Encode(logEvent, scratch, withSender: true, _keys);
        var w = new AvroBinaryWriter(scratch);
        foreach (var field in _fields)
        {
            object? value;
            if (!logEvent.Attributes.TryGetValue(field.Name, out var text))
            {
                if (!field.HasDefault && !field.Nullable) return null;
                value = field.Default; // null for a nullable field with no default
            }
            else if (field.Nullable && !IsText(field.Kind) && text == "null") value = null;
            else if (!TryParse(field, text, out value)) return null;
            if (!WriteBranch(ref w, field, value is not null)) continue;
            switch (value)
            {
                case int i: w.WriteLong(i); break;
                case long l: w.WriteLong(l); break;
                case float f: w.WriteFloat(f); break;
                case double d: w.WriteDouble(d); break;
                case bool b: w.WriteBoolean(b); break;
                case string s: w.WriteString(s); break;
                case TypedValue { Items: { } items } v: WriteContainer(ref w, field.Item!.Kind, items, v.Keys); break;
                case TypedValue v: WriteItem(ref w, field.Kind, v); break;
                default: return null;
            }
        }
        w.Flush();
        var bytes = scratch.WrittenSpan.ToArray();
        if (scratch.Capacity > MaxScratch) t_scratch = null;
        return bytes;
    }

    /// <summary>
    /// Appends the Avro binary of a record decoded under this schema (no frame), from its decoded values
    /// (<see cref="LogEvent.Typed"/>), not from their text forms: what the writer wrote, byte for byte, unless the
    /// attributes map was changed since.
    /// </summary>
    /// <exception cref="ArgumentException">The event's typed values are not of this schema, or a required field has no value.</exception>
    public void EncodeDecoded(LogEvent logEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        if (logEvent.Typed is not { } typed || (!ReferenceEquals(typed.Schema, this) && (typed.Schema.Id != Id || typed.Schema.Text != Text)))
            throw new ArgumentException($"the event's typed values are not of schema {Id}", nameof(logEvent));
        LogEventAvro.Encode(logEvent, output, withSender: true, _keys);
        var w = new AvroBinaryWriter(output);
        for (var i = 0; i < _fields.Length; i++)
        {
            var field = _fields[i];
            var value = typed.Values[i];
            if (!field.Nullable && !value.HasValue)
                throw new ArgumentException($"required field '{field.Name}' of schema {Id} has no value", nameof(logEvent));
            if (!WriteBranch(ref w, field, value.HasValue)) continue;
            if (field.IsContainer) WriteContainer(ref w, field.Item!.Kind, value.Items ?? [], value.Keys);
            else WriteItem(ref w, field.Kind, value);
        }
        w.Flush();
    }

    /// <summary>A nullable field's union branch (null or the value); false when the value is null, which is then all there is to write.</summary>
    private static bool WriteBranch(ref AvroBinaryWriter w, TypedField field, bool present)
    {
        if (!field.Nullable) return true;
        w.WriteLong(present ? 1 - field.NullBranch : field.NullBranch);
        return present;
    }

    /// <summary>An array's or map's items (a map's with their <paramref name="keys"/>): one block of them all, then the empty block that ends it.</summary>
    private static void WriteContainer(ref AvroBinaryWriter w, TypedKind itemKind, TypedValue[] items, string[]? keys)
    {
        if (items.Length > 0)
        {
            w.WriteLong(items.Length);
            for (var k = 0; k < items.Length; k++)
            {
                if (keys is not null) w.WriteString(keys[k]);
                WriteItem(ref w, itemKind, items[k]);
            }
        }
        w.WriteLong(0);
    }

    /// <summary>A value of a kind other than the primitives (and every array or map item): as the decoder reads it back.</summary>
    private static void WriteItem(ref AvroBinaryWriter w, TypedKind kind, TypedValue v)
    {
        switch (kind)
        {
            case TypedKind.Float: w.WriteFloat((float)v.Real); break;
            case TypedKind.Double: w.WriteDouble(v.Real); break;
            case TypedKind.Boolean: w.WriteBoolean(v.Integer != 0); break;
            case TypedKind.String or TypedKind.Uuid: w.WriteString(v.Text!); break;
            case TypedKind.Bytes or TypedKind.Decimal: w.WriteBytes(v.Binary!); break;
            default: w.WriteLong(v.Integer); break; // int, long, timestamps, date, enum index
        }
    }

    /// <summary>
    /// Decodes one record of this schema (the Avro payload, without the frame): typed fields become attributes in
    /// their string form (null: absent), and travel unboxed in <see cref="LogEvent.Typed"/> for the sinks that store them typed.
    /// </summary>
    /// <exception cref="MalformedRecordException">The bytes are not a record of this schema.</exception>
    public LogEvent Decode(ReadOnlySpan<byte> avro)
    {
        var logEvent = DecodePrefix(avro, out var consumed);
        if (consumed != avro.Length) throw new MalformedRecordException($"Avro record of schema {Id}: {avro.Length - consumed} bytes left over after the record.");
        return logEvent;
    }

    /// <summary>As <see cref="Decode"/> for the record at the start of <paramref name="avro"/>, saying how many bytes it took.</summary>
    public LogEvent DecodePrefix(ReadOnlySpan<byte> avro, out int consumed)
    {
        var r = new AvroBinaryReader(avro);
        var envelope = LogEventAvro.Read(ref r, withSender: true);
        var attributes = new Dictionary<string, string>(envelope.Attributes.Count + Fields.Count, StringComparer.Ordinal);
        foreach (var (key, value) in envelope.Attributes) attributes[key] = value;
        var values = new TypedValue[_fields.Length];
        for (var i = 0; i < _fields.Length; i++)
        {
            var field = _fields[i];
            if (field.Nullable)
            {
                var branch = r.ReadLong(field.Name);
                if (branch == field.NullBranch) continue; // default(TypedValue): null
                if (branch != 1 - field.NullBranch) throw new MalformedRecordException($"Avro field '{field.Name}': union branch {branch}, expected 0 or 1.");
            }
            if (field.IsContainer)
            {
                values[i] = ReadContainer(ref r, field);
                attributes[field.Name] = values[i].Text!;
                continue;
            }
            values[i] = ReadValue(ref r, field, out var text);
            attributes[field.Name] = text;
        }
        consumed = avro.Length - r.Remaining;
        return envelope with { Attributes = attributes, Typed = new TypedValues(this, values) };
    }

    /// <summary>One value of a kind other than array and map (a field's or an item's): unboxed, and its text form.</summary>
    private static TypedValue ReadValue(ref AvroBinaryReader r, TypedField field, out string text)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (field.Kind)
        {
            case TypedKind.Int:
                var n = r.ReadInt(field.Name);
                text = n.ToString(invariant);
                return new TypedValue(true, Integer: n);
            case TypedKind.Long:
                var l = r.ReadLong(field.Name);
                text = l.ToString(invariant);
                return new TypedValue(true, Integer: l);
            case TypedKind.Float:
                var f = r.ReadFloat(field.Name);
                text = f.ToString("R", invariant);
                return new TypedValue(true, Real: f);
            case TypedKind.Double:
                var d = r.ReadDouble(field.Name);
                text = d.ToString("R", invariant);
                return new TypedValue(true, Real: d);
            case TypedKind.Boolean:
                var b = r.ReadBoolean(field.Name);
                text = b ? "true" : "false";
                return new TypedValue(true, Integer: b ? 1 : 0);
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                var epoch = r.ReadLong(field.Name);
                var micros = field.Kind == TypedKind.TimestampMicros;
                if (!InRange(epoch, micros))
                    throw new MalformedRecordException($"Avro field '{field.Name}': {field.TypeName} {epoch} is outside years 1-9999.");
                var stamp = TimestampText(epoch, micros);
                text = stamp;
                return new TypedValue(true, Integer: epoch, Text: stamp);
            case TypedKind.Date:
                var days = r.ReadInt(field.Name);
                if (days < DateOnly.MinValue.DayNumber - Epoch.DayNumber || days > DateOnly.MaxValue.DayNumber - Epoch.DayNumber)
                    throw new MalformedRecordException($"Avro field '{field.Name}': date {days} is outside years 1-9999.");
                var day = DateText(days);
                text = day;
                return new TypedValue(true, Integer: days, Text: day);
            case TypedKind.Enum:
                var index = r.ReadLong(field.Name);
                if (index < 0 || index >= field.Symbols.Count) throw new MalformedRecordException($"Avro field '{field.Name}': enum index {index}, the enum has {field.Symbols.Count} symbols.");
                text = field.Symbols[(int)index];
                return new TypedValue(true, Integer: index, Text: field.Symbols[(int)index]);
            case TypedKind.Bytes:
                var bytes = r.ReadBytes(field.Name);
                var base64 = Convert.ToBase64String(bytes);
                text = base64;
                return new TypedValue(true, Text: base64, Binary: bytes);
            case TypedKind.Decimal:
                var raw = r.ReadBytes(field.Name);
                var unscaled = raw.Length == 0 ? System.Numerics.BigInteger.Zero : new System.Numerics.BigInteger(raw, isUnsigned: false, isBigEndian: true);
                var number = DecimalText(unscaled, field.Scale);
                // A writer other than our ingress may write more digits than the precision: the stores would refuse or round it.
                if (System.Numerics.BigInteger.Abs(unscaled) >= System.Numerics.BigInteger.Pow(10, field.Precision))
                    throw new MalformedRecordException($"Avro field '{field.Name}': decimal {number} has more than {field.Precision} digits.");
                text = number;
                return new TypedValue(true, Text: number, Binary: raw);
            case TypedKind.Uuid:
                var uuidText = r.ReadString(field.Name);
                if (!Guid.TryParseExact(uuidText, "D", out var uuid)) throw new MalformedRecordException($"Avro field '{field.Name}': uuid \"{uuidText}\" is not 8-4-4-4-12 hex digits.");
                var canonical = uuid.ToString("D");
                text = canonical;
                return new TypedValue(true, Text: canonical);
            default:
                text = r.ReadString(field.Name);
                return new TypedValue(true, Text: text);
        }
    }

    /// <summary>An array's or map's blocks, each item read as <see cref="ReadValue"/> reads a field of its kind.</summary>
    private static TypedValue ReadContainer(ref AvroBinaryReader r, TypedField field)
    {
        var item = field.Item!;
        var items = new List<TypedValue>();
        List<string>? keys = field.Kind == TypedKind.Map ? [] : null;
        long count;
        while ((count = r.ReadBlockCount(field.Name)) != 0)
        {
            // Every item takes a byte at least: a lying count ends in "data ends early", not a huge allocation.
            if (count > r.Remaining) throw new MalformedRecordException($"Avro field '{field.Name}': a block of {count} items in {r.Remaining} bytes.");
            for (long k = 0; k < count; k++)
            {
                keys?.Add(r.ReadString(field.Name));
                var value = ReadValue(ref r, item, out _);
                // The JSON text form has no literal for these (our ingress never writes one; another writer may).
                if (item.Kind is TypedKind.Float or TypedKind.Double && !double.IsFinite(value.Real))
                    throw new MalformedRecordException($"Avro field '{field.Name}': item {value.Real.ToString(CultureInfo.InvariantCulture)}, which a {field.TypeName}'s JSON text cannot hold.");
                items.Add(value);
            }
        }
        return Container(item, items.ToArray(), keys?.ToArray());
    }

    /// <summary>Whether <paramref name="name"/> is one of this schema's typed fields.</summary>
    public bool IsTypedField(string name) => _keys.Contains(name);
}
