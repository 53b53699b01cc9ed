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
    /// <summary>The Elasticsearch field type of an Avro type: int → integer, long → long, float → float, double → double, boolean → boolean, string → keyword.</summary>
    public static string FieldType(TypedKind kind) => kind switch
    {
        TypedKind.Int => "integer",
        TypedKind.Long => "long",
        TypedKind.Float => "float",
        TypedKind.Double => "double",
        TypedKind.Boolean => "boolean",
        _ => "keyword",
    };

    /// <summary>The body of <c>PUT /&lt;index&gt;/_mapping</c> for <paramref name="fields"/>: <c>{"properties":{"attributes":{"properties":{...}}}}</c>.</summary>
    public static byte[] Body(IEnumerable<TypedField> fields, bool underMappings = false)
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
                w.WriteString("type", FieldType(field.Kind));
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
