using System.Buffers;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>
/// The explicit mapping of a typed log type's fields (docs/schemas.md), so Elasticsearch does not guess them from
/// the first value (a double would become float, an int long, a string text): each field under
/// <c>attributes.&lt;name&gt;</c>, where <see cref="BulkBody"/> writes its value.
/// </summary>
internal static class TypedMapping
{
    /// <summary>
    /// The Elasticsearch field type of an Avro type: int → integer, long → long, float → float, double → double,
    /// boolean → boolean, string, enum and uuid → keyword, bytes → binary (base64), timestamp-millis → date,
    /// timestamp-micros → date_nanos (both written as ISO-8601 UTC text), date → date (<c>strict_date</c>), decimal →
    /// scaled_float (factor 10^scale) up to 15 digits, which a double holds exactly, else keyword (the exact text).
    /// </summary>
    public static string FieldType(TypedKind kind) => kind switch
    {
        TypedKind.Int => "integer",
        TypedKind.Long => "long",
        TypedKind.Float => "float",
        TypedKind.Double => "double",
        TypedKind.Boolean => "boolean",
        TypedKind.Bytes => "binary",
        TypedKind.TimestampMillis or TypedKind.Date => "date",
        TypedKind.TimestampMicros => "date_nanos",
        TypedKind.Decimal => "scaled_float",
        _ => "keyword",
    };

    /// <summary>The widest decimal mapped as a number: a scaled_float is a long of units, read back through a double (15 exact digits).</summary>
    public const int MaxScaledFloatDigits = 15;

    /// <summary>
    /// A field's type: <see cref="FieldType(TypedKind)"/>, a wide decimal as keyword; an array its items' type (every
    /// Elasticsearch field takes an array of its values); a map <c>flattened</c> (<c>flat_object</c> on OpenSearch):
    /// one field for all its keys, so arbitrary keys do not add a mapped field each (the index's field limit, 1,000 by default).
    /// </summary>
    public static string FieldType(TypedField field, bool openSearch = false) => field.Kind switch
    {
        TypedKind.Decimal when field.Precision > MaxScaledFloatDigits => "keyword",
        TypedKind.Array => FieldType(field.Item!),
        TypedKind.Map => openSearch ? "flat_object" : "flattened",
        _ => FieldType(field.Kind),
    };

    /// <summary>Whether the field's value goes into the document as a bare JSON number (a decimal mapped scaled_float).</summary>
    public static bool IsNumber(TypedField field) => field.Kind == TypedKind.Decimal && field.Precision <= MaxScaledFloatDigits;

    private static void WriteField(Utf8JsonWriter w, TypedField field, bool openSearch)
    {
        var type = FieldType(field, openSearch);
        if (field.Kind == TypedKind.Array) field = field.Item!; // its items' parameters
        w.WriteString("type", type);
        if (type == "scaled_float") w.WriteNumber("scaling_factor", Math.Pow(10, field.Scale));
        else if (field.Kind == TypedKind.Date) w.WriteString("format", "strict_date");
        else if (type is "date" or "date_nanos") w.WriteString("format", "strict_date_optional_time");
    }

    /// <summary>The body of <c>PUT /&lt;index&gt;/_mapping</c> for <paramref name="fields"/>: <c>{"properties":{"attributes":{"properties":{...}}}}</c>.</summary>
    public static byte[] Body(IEnumerable<TypedField> fields, bool underMappings = false, bool openSearch = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (underMappings) w.WriteStartObject("mappings"); // PUT /<index> takes the same under "mappings"
            w.WriteStartObject("properties");
            w.WriteStartObject("attributes");
            w.WriteStartObject("properties");
            foreach (var field in fields)
            {
                w.WriteStartObject(field.Name);
                WriteField(w, field, openSearch);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            if (underMappings) w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Why a typed record cannot be a document (a NaN or infinite float/double: Elasticsearch stores finite numbers only), or null.</summary>
    public static string? Unstorable(TypedValues typed)
    {
        var fields = typed.Schema.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var kind = fields[i].Kind;
            var value = typed.Values[i];
            if (value.HasValue && kind is TypedKind.Float or TypedKind.Double && !double.IsFinite(value.Real))
                return $"typed field '{fields[i].Name}' is {value.Real.ToString(System.Globalization.CultureInfo.InvariantCulture)}; Elasticsearch stores only finite numbers";
        }
        return null;
    }
}
