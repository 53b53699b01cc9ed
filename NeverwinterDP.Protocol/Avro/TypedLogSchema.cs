using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using Avro;

namespace NeverwinterDP.Protocol;

/// <summary>The Avro types a typed attribute may have (alone or in a union with null).</summary>
public enum TypedKind { Int, Long, Float, Double, Boolean, String }

/// <summary>One typed attribute: its Avro type, whether null is allowed (and its union branches), and its default.</summary>
public sealed record TypedField(string Name, TypedKind Kind, bool Nullable, int NullBranch, bool HasDefault, object? Default)
{
    /// <summary>How errors and docs name the type: <c>int</c>, or <c>int or null</c>.</summary>
    public string Expected => Nullable ? $"{Kind.ToString().ToLowerInvariant()} or null" : Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// One decoded typed attribute, unboxed: <see cref="Integer"/> for int, long and boolean (0 or 1), <see cref="Real"/>
/// for float and double, <see cref="Text"/> for string; <see cref="HasValue"/> false for a null.
/// </summary>
public readonly record struct TypedValue(bool HasValue, long Integer = 0, double Real = 0, string? Text = null);

/// <summary>A typed record's values, in the order of <see cref="TypedLogSchema.Fields"/> (what <see cref="LogEvent.Typed"/> holds).</summary>
public sealed class TypedValues(TypedLogSchema schema, TypedValue[] values)
{
    public TypedLogSchema Schema { get; } = schema;

    public IReadOnlyList<TypedValue> Values { get; } = values;
}

/// <summary>Why an event does not fit its type's schema: the field, the type it expects, and a sentence naming both.</summary>
public sealed record TypedFieldProblem(string Field, string Expected, string Message);

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

    private TypedLogSchema(int id, IReadOnlyList<TypedField> fields)
    {
        Id = id;
        Fields = fields;
        _fields = fields.ToArray();
        _keys = new HashSet<string>(fields.Select(f => f.Name), StringComparer.Ordinal);
    }

    /// <summary>The registry's id of this schema: what the Confluent frame of its records carries.</summary>
    public int Id { get; }

    /// <summary>The typed attributes, in the record's order.</summary>
    public IReadOnlyList<TypedField> Fields { get; }

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
            return new TypedLogSchema(id, fields);
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
        var (kind, nullable, nullBranch) = field.Schema switch
        {
            PrimitiveSchema p => (KindOf(field.Name, p), false, -1),
            UnionSchema { Count: 2 } u when u.Schemas[0].Tag == Schema.Type.Null && u.Schemas[1] is PrimitiveSchema p => (KindOf(field.Name, p), true, 0),
            UnionSchema { Count: 2 } u when u.Schemas[1].Tag == Schema.Type.Null && u.Schemas[0] is PrimitiveSchema p => (KindOf(field.Name, p), true, 1),
            var s => throw Unsupported(field.Name, s.ToString()),
        };
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
                if (!TryParse(kind, token.Type == Newtonsoft.Json.Linq.JTokenType.String ? (string)token! : token.ToString(Newtonsoft.Json.Formatting.None), out defaultValue))
                    throw new TypedSchemaException($"field '{field.Name}': default {token.ToString(Newtonsoft.Json.Formatting.None)} is not a {kind.ToString().ToLowerInvariant()}");
            }
        }
        return new TypedField(field.Name, kind, nullable, nullBranch, hasDefault, defaultValue);
    }

    private static TypedKind KindOf(string name, PrimitiveSchema p) => p.Tag switch
    {
        Schema.Type.Int => TypedKind.Int,
        Schema.Type.Long => TypedKind.Long,
        Schema.Type.Float => TypedKind.Float,
        Schema.Type.Double => TypedKind.Double,
        Schema.Type.Boolean => TypedKind.Boolean,
        Schema.Type.String => TypedKind.String,
        _ => throw Unsupported(name, p.ToString()),
    };

    private static TypedSchemaException Unsupported(string name, string type) =>
        new($"field '{name}' has type {type}; a typed attribute is int, long, float, double, boolean or string, or a union of one of them with null");

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
            if (field.Nullable && field.Kind != TypedKind.String && text == "null") continue;
            if (!Fits(field.Kind, text))
                return new(field.Name, field.Expected, $"field '{field.Name}' must be {Article(field.Kind)} {field.Expected}, got {Quote(text)}");
        }
        return null;
    }

    private static string Article(TypedKind kind) => kind == TypedKind.Int ? "an" : "a";

    private static string Quote(string text) => text.Length <= 40 ? $"\"{text}\"" : $"\"{text[..40]}...\"";

    /// <summary>What <see cref="TryParse"/> accepts, without boxing the value: validation runs per event at ingress.</summary>
    private static bool Fits(TypedKind kind, string text)
    {
        var invariant = CultureInfo.InvariantCulture;
        return kind switch
        {
            TypedKind.Int => int.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out _),
            TypedKind.Long => long.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out _),
            TypedKind.Float => float.TryParse(text, NumberStyles.Float, invariant, out var f) && float.IsFinite(f),
            TypedKind.Double => double.TryParse(text, NumberStyles.Float, invariant, out var d) && double.IsFinite(d),
            TypedKind.Boolean => text is "true" or "false",
            _ => true,
        };
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
            else if (field.Nullable && field.Kind != TypedKind.String && text == "null") value = null;
            else if (!TryParse(field.Kind, text, out value)) return null;
            if (field.Nullable)
            {
                if (value is null)
                {
                    w.WriteLong(field.NullBranch);
                    continue;
                }
                w.WriteLong(1 - field.NullBranch);
            }
            switch (value)
            {
                case int i: w.WriteLong(i); break;
                case long l: w.WriteLong(l); break;
                case float f: w.WriteFloat(f); break;
                case double d: w.WriteDouble(d); break;
                case bool b: w.WriteBoolean(b); break;
                case string s: w.WriteString(s); break;
                default: return null;
            }
        }
        w.Flush();
        var bytes = scratch.WrittenSpan.ToArray();
        if (scratch.Capacity > MaxScratch) t_scratch = null;
        return bytes;
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
        var invariant = CultureInfo.InvariantCulture;
        for (var i = 0; i < _fields.Length; i++)
        {
            var field = _fields[i];
            if (field.Nullable)
            {
                var branch = r.ReadLong(field.Name);
                if (branch == field.NullBranch) continue; // default(TypedValue): null
                if (branch != 1 - field.NullBranch) throw new MalformedRecordException($"Avro field '{field.Name}': union branch {branch}, expected 0 or 1.");
            }
            switch (field.Kind)
            {
                case TypedKind.Int:
                    var n = r.ReadInt(field.Name);
                    values[i] = new TypedValue(true, Integer: n);
                    attributes[field.Name] = n.ToString(invariant);
                    break;
                case TypedKind.Long:
                    var l = r.ReadLong(field.Name);
                    values[i] = new TypedValue(true, Integer: l);
                    attributes[field.Name] = l.ToString(invariant);
                    break;
                case TypedKind.Float:
                    var f = r.ReadFloat(field.Name);
                    values[i] = new TypedValue(true, Real: f);
                    attributes[field.Name] = f.ToString("R", invariant);
                    break;
                case TypedKind.Double:
                    var d = r.ReadDouble(field.Name);
                    values[i] = new TypedValue(true, Real: d);
                    attributes[field.Name] = d.ToString("R", invariant);
                    break;
                case TypedKind.Boolean:
                    var b = r.ReadBoolean(field.Name);
                    values[i] = new TypedValue(true, Integer: b ? 1 : 0);
                    attributes[field.Name] = b ? "true" : "false";
                    break;
                default:
                    var text = r.ReadString(field.Name);
                    values[i] = new TypedValue(true, Text: text);
                    attributes[field.Name] = text;
                    break;
            }
        }
        consumed = avro.Length - r.Remaining;
        return envelope with { Attributes = attributes, Typed = new TypedValues(this, values) };
    }

    /// <summary>Whether <paramref name="name"/> is one of this schema's typed fields.</summary>
    public bool IsTypedField(string name) => _keys.Contains(name);
}
