using System.Text.Json.Nodes;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// The reader schema (<c>avro.schema.literal</c>) of an Avro-format Hive table with typed columns: the LogEvent reader
/// schema (<see cref="HiveCatalog.AvroReaderSchema"/>), then one field per typed column, <c>["null", T]</c> with default
/// null, T the Avro type of the newest field that made or widened the column, and the typed records' names as
/// aliases. Avro's schema resolution then reads every file of the table with it: a plain LogEvent file (the typed
/// fields read null), and each typed schema's files (a field the reader lacks is skipped, a field the writer lacks reads
/// null, an int reads as the long a later version made). A column's Avro type is set by the first field that makes it
/// and changed only to one that reads every value written before (a wider number, an enum with more symbols).
/// </summary>
internal static class HiveAvroLiteral
{
    /// <summary>The namespace a typed schema's record and its named types (enums) have unless they name their own.</summary>
    private const string Namespace = "neverwinterdp.logs";

    private static readonly HashSet<string> Primitives = new(StringComparer.Ordinal) { "null", "boolean", "int", "long", "float", "double", "bytes", "string" };

    /// <summary>The Avro type of each typed field of <paramref name="schema"/> (its non-null branch), named types in full and defined in place.</summary>
    public static Dictionary<string, JsonNode> FieldTypes(TypedLogSchema schema)
    {
        var record = JsonNode.Parse(schema.Text)!.AsObject();
        var named = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var types = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var fields = record["fields"]!.AsArray();
        foreach (var field in fields.Skip(fields.Count - schema.Fields.Count))
        {
            var type = field!["type"]!;
            if (type is JsonArray union) type = union.First(b => !(b is JsonValue v && v.TryGetValue<string>(out var s) && s == "null"))!;
            types[(string)field["name"]!] = Resolve(type.DeepClone(), named);
        }
        return types;
    }

    /// <summary>The writer record's full name of a typed schema (what the table's literal lists as an alias).</summary>
    public static string RecordName(TypedLogSchema schema)
    {
        var record = JsonNode.Parse(schema.Text)!;
        return $"{(string?)record["namespace"] ?? Namespace}.{(string)record["name"]!}";
    }

    // Named types in full ("neverwinterdp.logs.State"), a reference by name replaced by the definition.
    private static JsonNode Resolve(JsonNode type, Dictionary<string, JsonNode> named)
    {
        if (type is JsonValue value && value.TryGetValue<string>(out var name))
        {
            if (Primitives.Contains(name)) return type;
            var full = name.Contains('.') ? name : $"{Namespace}.{name}";
            return named.TryGetValue(full, out var definition) ? definition.DeepClone() : type;
        }
        if (type is not JsonObject o) return type;
        switch ((string?)o["type"])
        {
            case "enum":
                var enumName = (string)o["name"]!;
                var fullName = enumName.Contains('.') ? enumName : $"{(string?)o["namespace"] ?? Namespace}.{enumName}";
                o["name"] = fullName;
                o.Remove("namespace");
                o.Remove("doc");
                named[fullName] = o.DeepClone();
                return o;
            case "array":
                o["items"] = Resolve(o["items"]!.DeepClone(), named);
                return o;
            case "map":
                o["values"] = Resolve(o["values"]!.DeepClone(), named);
                return o;
            default:
                return o;
        }
    }

    /// <summary>How a column of Avro type <paramref name="column"/> takes a field of type <paramref name="field"/>.</summary>
    public enum Fit { Holds, Widens, Refused }

    public static Fit FitOf(JsonNode column, JsonNode field)
    {
        if (JsonNode.DeepEquals(column, field)) return Fit.Holds;
        if (Rank(column) is { } c && Rank(field) is { } f) return f <= c ? Fit.Holds : Fit.Widens;
        if (column is JsonObject co && field is JsonObject fo && (string?)co["type"] == (string?)fo["type"])
        {
            switch ((string?)co["type"])
            {
                case "enum" when (string?)co["name"] == (string?)fo["name"]:
                    var columnSymbols = co["symbols"]!.AsArray().Select(s => (string)s!).ToHashSet(StringComparer.Ordinal);
                    var fieldSymbols = fo["symbols"]!.AsArray().Select(s => (string)s!).ToHashSet(StringComparer.Ordinal);
                    return fieldSymbols.IsSubsetOf(columnSymbols) ? Fit.Holds : columnSymbols.IsSubsetOf(fieldSymbols) ? Fit.Widens : Fit.Refused;
                case "array":
                    return FitOf(co["items"]!, fo["items"]!);
                case "map":
                    return FitOf(co["values"]!, fo["values"]!);
            }
        }
        return Fit.Refused;
    }

    // The numbers Avro promotes (int → long → float → double), without a logical type.
    private static int? Rank(JsonNode type)
    {
        var name = type is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : type is JsonObject o && o["logicalType"] is null ? (string?)o["type"] : null;
        return name switch { "int" => 0, "long" => 1, "float" => 2, "double" => 3, _ => null };
    }

    /// <summary>The table's reader schema: the LogEvent reader schema, the typed columns in table order, the typed records' names as aliases.</summary>
    public static string Build(IEnumerable<HiveColumn> columns, IReadOnlyDictionary<string, JsonNode> types, IEnumerable<string> aliases)
    {
        var schema = JsonNode.Parse(HiveCatalog.AvroReaderSchema)!.AsObject();
        var fields = schema["fields"]!.AsArray();
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            fields.Add(new JsonObject
            {
                ["name"] = column.Name,
                ["type"] = new JsonArray("null", Define(types[column.Name].DeepClone(), defined)),
                ["default"] = null,
            });
        }
        var names = aliases.Order(StringComparer.Ordinal).ToList();
        if (names.Count > 0) schema["aliases"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray());
        return schema.ToJsonString();
    }

    // A named type is defined once in a schema: its later uses are its full name.
    private static JsonNode Define(JsonNode type, HashSet<string> defined)
    {
        if (type is not JsonObject o) return type;
        switch ((string?)o["type"])
        {
            case "enum":
                var name = (string)o["name"]!;
                return defined.Add(name) ? o : JsonValue.Create(name)!;
            case "array":
                o["items"] = Define(o["items"]!.DeepClone(), defined);
                return o;
            case "map":
                o["values"] = Define(o["values"]!.DeepClone(), defined);
                return o;
            default:
                return o;
        }
    }

    /// <summary>
    /// The typed columns a literal this class built declares (after the LogEvent reader's fields): each column with its Hive
    /// type, its Avro type, and the aliases; null when the text is no such literal.
    /// </summary>
    public static (List<HiveColumn> Columns, Dictionary<string, JsonNode> Types, List<string> Aliases)? Parse(string literal)
    {
        JsonObject schema;
        try
        {
            schema = JsonNode.Parse(literal)!.AsObject();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
        var fixedCount = JsonNode.Parse(HiveCatalog.AvroReaderSchema)!["fields"]!.AsArray().Count;
        var fields = schema["fields"]?.AsArray();
        if (fields is null || fields.Count <= fixedCount) return ([], [], Aliases(schema));
        var typed = fields.Skip(fixedCount).Select(f => f!.DeepClone()).ToList();
        // The Hive types, as a typed log type's schema of the same fields compiles them.
        var attributes = new JsonObject { ["type"] = "record", ["name"] = "Columns", ["namespace"] = Namespace, ["fields"] = new JsonArray(typed.ToArray()) };
        var compiled = TypedLogSchema.TryCompile(0, TypedLogSchema.Wrap("columns", attributes.ToJsonString()), out _);
        if (compiled is null) return null;
        var named = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var types = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var field in JsonNode.Parse(attributes.ToJsonString())!["fields"]!.AsArray())
        {
            var type = field!["type"]!.AsArray().First(b => !(b is JsonValue v && v.TryGetValue<string>(out var s) && s == "null"))!;
            types[(string)field["name"]!] = Resolve(type.DeepClone(), named);
        }
        return (compiled.Fields.Select(f => new HiveColumn(f.Name, HiveTypes.Of(f))).ToList(), types, Aliases(schema));
    }

    private static List<string> Aliases(JsonObject schema) => schema["aliases"]?.AsArray().Select(a => (string)a!).ToList() ?? [];
}
