using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Avro;

namespace NeverwinterDP.Protocol;

/// <summary>A JSON value that is not the Avro JSON encoding of its schema: <see cref="Path"/> names where (e.g. <c>lineage.source_seq</c>).</summary>
public sealed class AvroJsonException(string path, string message) : Exception(path.Length == 0 ? message : $"field '{path}': {message}")
{
    /// <summary>The field at fault, dotted (<c>a.b</c>), with <c>[i]</c> for array items and <c>["k"]</c> for map values; empty for the value itself.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; } = message;

    /// <summary>The same problem seen from the enclosing value: <paramref name="segment"/> (a field name, <c>[i]</c> or <c>["k"]</c>) before the path.</summary>
    internal AvroJsonException Under(string segment) =>
        new(Path.Length == 0 ? segment : Path[0] == '[' ? segment + Path : segment + "." + Path, Problem);
}

/// <summary>
/// Avro's JSON encoding (the specification's "JSON Encoding": a union as <c>null</c> or <c>{"branch": value}</c>, bytes
/// and fixed as strings of code points 0-255, records as objects) turned into Avro binary for a schema, checking every
/// value on the way: what Confluent's REST Proxy does with <c>application/vnd.kafka.avro.v2+json</c> records. Unlike
/// Apache.Avro's JsonDecoder it names the field at fault, and a record field that is missing takes its default when it
/// has one (as a reader's schema would); unknown keys of a record are refused, so a misspelt field is not lost silently.
/// </summary>
public static class AvroJson
{
    /// <summary>The Avro binary encoding of <paramref name="value"/>, which must be <paramref name="schema"/>'s JSON encoding.</summary>
    /// <exception cref="AvroJsonException">It is not; the path and the problem are named.</exception>
    public static byte[] ToBinary(Schema schema, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var output = new ArrayBufferWriter<byte>(256);
        Write(schema, value, output, unionWrapped: true);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes one value. <paramref name="unionWrapped"/> is false for a field's default, where a union's value is of its
    /// first branch and written bare (the specification's rule for defaults). A problem's path is built only when one is
    /// thrown, each enclosing value adding its segment (<see cref="AvroJsonException.Under"/>), so a good record costs no strings.
    /// </summary>
    private static void Write(Schema schema, JsonElement value, ArrayBufferWriter<byte> output, bool unionWrapped)
    {
        switch (schema)
        {
            case LogicalSchema logical:
                Write(logical.BaseSchema, value, output, unionWrapped);
                return;
            case UnionSchema union:
                WriteUnion(union, value, output, unionWrapped);
                return;
            case RecordSchema record:
                WriteRecord(record, value, output);
                return;
            case EnumSchema enumeration:
                if (value.ValueKind != JsonValueKind.String || !enumeration.Contains(value.GetString()!))
                    throw Expected($"one of the symbols {string.Join(", ", enumeration.Symbols)} of enum {enumeration.Fullname}", value);
                WriteLong(output, enumeration.Ordinal(value.GetString()!));
                return;
            case ArraySchema array:
                if (value.ValueKind != JsonValueKind.Array) throw Expected("an array", value);
                var length = value.GetArrayLength();
                if (length > 0)
                {
                    WriteLong(output, length);
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        try
                        {
                            Write(array.ItemSchema, item, output, unionWrapped: true);
                        }
                        catch (AvroJsonException e)
                        {
                            throw e.Under($"[{i}]");
                        }
                        i++;
                    }
                }
                WriteLong(output, 0);
                return;
            case MapSchema map:
                if (value.ValueKind != JsonValueKind.Object) throw Expected("an object (a map)", value);
                var count = 0;
                foreach (var _ in value.EnumerateObject()) count++;
                if (count > 0)
                {
                    WriteLong(output, count);
                    foreach (var entry in value.EnumerateObject())
                    {
                        WriteString(output, entry.Name);
                        try
                        {
                            Write(map.ValueSchema, entry.Value, output, unionWrapped: true);
                        }
                        catch (AvroJsonException e)
                        {
                            throw e.Under($"[{JsonSerializer.Serialize(entry.Name)}]");
                        }
                    }
                }
                WriteLong(output, 0);
                return;
            case FixedSchema fixedSchema:
                var fixedBytes = Latin1Bytes(value, $"a string of {fixedSchema.Size} bytes (fixed {fixedSchema.Fullname})");
                if (fixedBytes.Length != fixedSchema.Size) throw new AvroJsonException("", $"expected {fixedSchema.Size} bytes (fixed {fixedSchema.Fullname}), got {fixedBytes.Length}");
                output.Write(fixedBytes);
                return;
            case PrimitiveSchema primitive:
                WritePrimitive(primitive.Tag, value, output);
                return;
            default:
                throw new AvroJsonException("", $"schema type {schema.Tag} is not supported");
        }
    }

    private static void WritePrimitive(Schema.Type tag, JsonElement value, ArrayBufferWriter<byte> output)
    {
        switch (tag)
        {
            case Schema.Type.Null:
                if (value.ValueKind != JsonValueKind.Null) throw Expected("null", value);
                return;
            case Schema.Type.Boolean:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Expected("a boolean", value);
                output.Write([value.GetBoolean() ? (byte)1 : (byte)0]);
                return;
            case Schema.Type.Int:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var i)) throw Expected("an int", value);
                WriteLong(output, i);
                return;
            case Schema.Type.Long:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var l)) throw Expected("a long", value);
                WriteLong(output, l);
                return;
            case Schema.Type.Float:
                if (value.ValueKind != JsonValueKind.Number || !float.IsFinite((float)value.GetDouble())) throw Expected("a float", value);
                BinaryPrimitives.WriteSingleLittleEndian(output.GetSpan(4), (float)value.GetDouble());
                output.Advance(4);
                return;
            case Schema.Type.Double:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d)) throw Expected("a double", value);
                BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), d);
                output.Advance(8);
                return;
            case Schema.Type.String:
                if (value.ValueKind != JsonValueKind.String) throw Expected("a string", value);
                WriteString(output, value.GetString()!);
                return;
            case Schema.Type.Bytes:
                var bytes = Latin1Bytes(value, "bytes (a string of code points 0-255)");
                WriteLong(output, bytes.Length);
                output.Write(bytes);
                return;
            default:
                throw new AvroJsonException("", $"schema type {tag} is not supported");
        }
    }

    private static void WriteRecord(RecordSchema record, JsonElement value, ArrayBufferWriter<byte> output)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Expected($"an object (record {record.Fullname})", value);
        var seen = 0;
        foreach (var field in record.Fields)
        {
            try
            {
                if (value.TryGetProperty(field.Name, out var given))
                {
                    seen++;
                    Write(field.Schema, given, output, unionWrapped: true);
                }
                else if (field.DefaultValue is not null)
                    output.Write(DefaultBytes.GetValue(field, EncodeDefault));
                else
                    throw new AvroJsonException("", "missing, and the field has no default");
            }
            catch (AvroJsonException e)
            {
                throw e.Under(field.Name);
            }
        }
        if (seen < CountProperties(value))
        {
            foreach (var property in value.EnumerateObject())
            {
                if (!record.Contains(property.Name))
                    throw new AvroJsonException(property.Name, $"record {record.Fullname} has no such field");
            }
        }
    }

    /// <summary>A field's default as Avro binary, encoded once per field (defaults are left out of most records).</summary>
    private static readonly ConditionalWeakTable<Field, byte[]> DefaultBytes = new();

    private static byte[] EncodeDefault(Field field)
    {
        using var parsed = JsonDocument.Parse(field.DefaultValue.ToString(Newtonsoft.Json.Formatting.None));
        var output = new ArrayBufferWriter<byte>(16);
        Write(field.Schema, parsed.RootElement, output, unionWrapped: false); // a bad default: the caller adds the field's name
        return output.WrittenSpan.ToArray();
    }

    private static void WriteUnion(UnionSchema union, JsonElement value, ArrayBufferWriter<byte> output, bool unionWrapped)
    {
        if (!unionWrapped)
        {
            // A default: of the first branch, bare.
            WriteLong(output, 0);
            Write(union.Schemas[0], value, output, unionWrapped: false);
            return;
        }
        if (value.ValueKind == JsonValueKind.Null)
        {
            var nullBranch = IndexOf(union, "null");
            if (nullBranch < 0) throw Expected($"one of {Branches(union)} as {{\"branch\": value}}", value);
            WriteLong(output, nullBranch);
            return;
        }
        if (value.ValueKind != JsonValueKind.Object || CountProperties(value) != 1)
            throw Expected($"{{\"branch\": value}} with a branch of {Branches(union)}", value);
        var only = value.EnumerateObject().First();
        var branch = IndexOf(union, only.Name);
        if (branch < 0 || only.Name == "null") throw new AvroJsonException("", $"'{only.Name}' is not a branch of the union {Branches(union)}");
        WriteLong(output, branch);
        Write(union.Schemas[branch], only.Value, output, unionWrapped: true);
    }

    /// <summary>How a branch is named in the JSON encoding: a named type by its full name, any other by its type's name.</summary>
    private static string BranchName(Schema schema) => schema switch
    {
        LogicalSchema logical => BranchName(logical.BaseSchema),
        NamedSchema named => named.Fullname,
        _ => schema.Tag switch
        {
            Schema.Type.Array => "array",
            Schema.Type.Map => "map",
            _ => schema.Tag.ToString().ToLowerInvariant(),
        },
    };

    private static int IndexOf(UnionSchema union, string name)
    {
        for (var i = 0; i < union.Count; i++)
        {
            if (BranchName(union.Schemas[i]) == name) return i;
        }
        return -1;
    }

    private static string Branches(UnionSchema union) => "[" + string.Join(", ", union.Schemas.Select(BranchName)) + "]";

    private static int CountProperties(JsonElement value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateObject()) count++;
        return count;
    }

    private static byte[] Latin1Bytes(JsonElement value, string expected)
    {
        if (value.ValueKind != JsonValueKind.String) throw Expected(expected, value);
        var text = value.GetString()!;
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] > 0xFF) throw new AvroJsonException("", $"expected {expected}, got code point U+{(int)text[i]:X4} at position {i}");
            bytes[i] = (byte)text[i];
        }
        return bytes;
    }

    private static void WriteLong(ArrayBufferWriter<byte> output, long value) => output.Advance(AvroBinaryWriter.WriteVarLong(output.GetSpan(10), value));

    private static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteLong(output, bytes.Length);
        output.Write(bytes);
    }

    private static AvroJsonException Expected(string expected, JsonElement got)
    {
        var text = got.GetRawText();
        if (text.Length > 64) text = text[..61] + "...";
        return new AvroJsonException("", $"expected {expected}, got {text}");
    }
}
