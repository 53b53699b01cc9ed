using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.ClickHouse;

/// <summary>
/// The table's columns and one <c>JSONEachRow</c> line per record, written by hand: every string goes to the
/// server as it is, lone UTF-16 surrogates included (as <c>\uXXXX</c> escapes), so it is the server that
/// accepts or refuses a value, and a refusal is one row's (System.Text.Json would fail or alter the text here).
/// </summary>
internal static class ClickHouseRows
{
    /// <summary>Day 0 and the last day ClickHouse's Date holds in every version (18.x stops at 2105).</summary>
    private const long MaxDateMs = 4_291_747_199_999; // 2105-12-31T23:59:59.999Z

    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(
        Enumerable.Range(0, 0x20).Select(c => (char)c).Concat(['"', '\\']).Concat(Enumerable.Range(0xD800, 0x800).Select(c => (char)c)).ToArray());

    /// <summary>The column list of <c>CREATE TABLE</c>, valid on ClickHouse 18.16 and current releases.</summary>
    public const string Columns =
        "`date` Date, `ts` Int64, `system_ts` Int64, `host` String, `ip` String, `process` String, `type` String, " +
        "`version` String, `level` String, `message` String, `attributes` Nested(`key` String, `value` String), " +
        "`lineage_ingress_node` String, `lineage_source_seq` Int64, `topic` String, `partition` Int32, `offset` Int64, " +
        SenderColumn;

    /// <summary>The name of the API key the event came in with ('' without one): added after the first release, last.</summary>
    public const string SenderColumn = "`lineage_sender` String DEFAULT ''";

    /// <summary>The table's own columns: a typed field may not take one of these names.</summary>
    public static IReadOnlyList<string> OwnColumns { get; } =
    [
        "date", "ts", "system_ts", "host", "ip", "process", "type", "version", "level", "message", "attributes",
        "lineage_ingress_node", "lineage_source_seq", "topic", "partition", "offset", "lineage_sender",
    ];

    /// <summary>The column type a typed field of this Avro kind gets (docs/schemas.md, "Type mappings"): nullable, as rows of other types have none.</summary>
    /// <remarks>
    /// Timestamps are <c>DateTime64(3|6, 'UTC')</c> on servers that have it (<paramref name="dateTime64"/>: 20.1 on),
    /// else <c>Int64</c> holding the epoch milliseconds or microseconds (18.x has only whole-second DateTime).
    /// </remarks>
    public static string TypeOf(TypedKind kind, bool dateTime64 = false) => kind switch
    {
        TypedKind.Int => "Nullable(Int32)",
        TypedKind.Long => "Nullable(Int64)",
        TypedKind.Float => "Nullable(Float32)",
        TypedKind.Double => "Nullable(Float64)",
        TypedKind.Boolean => "Nullable(UInt8)", // 18.x has no Bool; current releases' Bool is a UInt8 too
        TypedKind.TimestampMillis => dateTime64 ? "Nullable(DateTime64(3, 'UTC'))" : "Nullable(Int64)",
        TypedKind.TimestampMicros => dateTime64 ? "Nullable(DateTime64(6, 'UTC'))" : "Nullable(Int64)",
        TypedKind.Date => "Nullable(Date)",
        TypedKind.Decimal => "Nullable(Decimal)", // with the field's precision and scale: TypeOf(TypedField)
        TypedKind.Uuid => "Nullable(UUID)",
        _ => "Nullable(String)", // string, enum (the symbol), bytes (the bytes themselves: a String holds any)
    };

    /// <remarks>
    /// An array is <c>Array(T)</c> of its items' type, not nullable (ClickHouse has no <c>Nullable(Array)</c>): a null
    /// array and the rows of other types read <c>[]</c>. A map is the JSON text of the whole in a <c>Nullable(String)</c>
    /// (<c>JSONExtract*</c> reads it): <c>Map(String, T)</c> exists only from 21.x (experimental before 21.8).
    /// </remarks>
    public static string TypeOf(TypedField field, bool dateTime64 = false) => field.Kind switch
    {
        TypedKind.Decimal => $"Nullable(Decimal({field.Precision}, {field.Scale}))",
        TypedKind.Array => $"Array({Unwrap(TypeOf(field.Item!, dateTime64), "Nullable(")})",
        TypedKind.Map => "Nullable(String)",
        _ => TypeOf(field.Kind, dateTime64),
    };

    /// <summary>As <see cref="Accepts(TypedKind, string)"/> for a field: an array needs an <c>Array</c> of a type its items fit.</summary>
    public static bool Accepts(TypedField field, string type) => field.Kind switch
    {
        TypedKind.Array => type.StartsWith("Array(", StringComparison.Ordinal) && type.EndsWith(')') && Accepts(field.Item!.Kind, type["Array(".Length..^1]),
        TypedKind.Map => Accepts(TypedKind.String, type),
        _ => Accepts(field.Kind, type),
    };

    /// <summary>ClickHouse's Date: days since 1970-01-01 as a UInt16, so 1970-01-01 to 2149-06-06.</summary>
    public const long MaxDateDay = ushort.MaxValue;

    /// <summary>Decimal128 holds 38 digits (Decimal256, 76, only from 21.x).</summary>
    public const int MaxDecimalPrecision = 38;

    /// <summary>
    /// Whether a column already there, of <c>system.columns.type</c> <paramref name="type"/>, takes values of
    /// <paramref name="kind"/>: the same type or a wider one, nullable or not (an int → long promotion writes into the
    /// Int32 column it had; a value beyond it is refused by the sink, since ClickHouse would store it wrapped).
    /// </summary>
    public static bool Accepts(TypedKind kind, string type)
    {
        var inner = Unwrap(Unwrap(type, "LowCardinality("), "Nullable(");
        return kind switch
        {
            TypedKind.Int or TypedKind.Long => inner is "Int32" or "Int64",
            TypedKind.Float => inner is "Float32" or "Float64",
            TypedKind.Double => inner is "Float64",
            TypedKind.Boolean => inner is "UInt8" or "Bool",
            TypedKind.TimestampMillis => inner is "Int64" || inner.StartsWith("DateTime64(3", StringComparison.Ordinal),
            TypedKind.TimestampMicros => inner is "Int64" || inner.StartsWith("DateTime64(6", StringComparison.Ordinal),
            TypedKind.Date => inner is "Date" or "Date32",
            TypedKind.Decimal => inner.StartsWith("Decimal", StringComparison.Ordinal), // its precision is the column's: checked per value by ClickHouse
            TypedKind.Uuid => inner is "UUID" or "String",
            _ => inner is "String",
        };
    }

    /// <summary>Whether a column of <paramref name="type"/> is 32 bits wide (a long field's values must fit).</summary>
    public static bool IsInt32(string type) => Unwrap(Unwrap(type, "Array("), "Nullable(") is "Int32";

    private static string Unwrap(string type, string wrapper) =>
        type.StartsWith(wrapper, StringComparison.Ordinal) && type.EndsWith(')') ? type[wrapper.Length..^1] : type;

    /// <summary>Why a typed field cannot be a column of its own (its name is a column every row has), or null. Names are case-sensitive in ClickHouse.</summary>
    public static string? NameProblem(TypedLogSchema schema, string name)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (OwnColumns.Contains(name, StringComparer.Ordinal))
            return $"typed field '{name}' (schema id {schema.Id}) has the name of a column every row has; rename the field in the log type's schema";
        return schema.Fields.FirstOrDefault(f => f.Name == name) is { Kind: TypedKind.Decimal, Precision: > MaxDecimalPrecision } field
            ? $"typed field '{name}' is {field.TypeName} (schema id {schema.Id}): ClickHouse's Decimal holds at most {MaxDecimalPrecision} digits"
            : null;
    }

    /// <summary>Whether the row can be sent at all; false with a reason for what no ClickHouse Date can hold.</summary>
    public static bool CanWrite(SinkRecord record, out string? reason)
    {
        reason = record.Event is null ? "the record has no event"
            : record.Event.SystemTs is < 0 or > MaxDateMs ? $"system_ts {record.Event.SystemTs} is outside 1970-2105, the range of the date column (ClickHouse Date)"
            : null;
        return reason is null;
    }

    /// <summary>
    /// Appends one JSON object and a newline. A typed record (<paramref name="typed"/>: its columns) leaves its typed
    /// fields out of the attributes and writes each in its column as a JSON number, boolean, string or null.
    /// </summary>
    public static void Write(SinkRecord record, ArrayBufferWriter<byte> output, IReadOnlyList<SqlTypedColumn>? typed = null)
    {
        var e = record.Event;
        var skip = typed is null ? null : e.Typed?.Schema;
        Raw(output, "{\"date\":\"");
        Raw(output, DateTime.UnixEpoch.AddMilliseconds(e.SystemTs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Raw(output, "\",\"ts\":");
        Number(output, e.Ts);
        Raw(output, ",\"system_ts\":");
        Number(output, e.SystemTs);
        Field(output, "host", e.Host);
        Field(output, "ip", e.Ip);
        Field(output, "process", e.Process);
        Field(output, "type", e.Type);
        Field(output, "version", e.Version);
        Field(output, "level", e.Level);
        Field(output, "message", e.Message);
        Raw(output, ",\"attributes.key\":[");
        var first = true;
        foreach (var key in e.Attributes.Keys)
        {
            if (skip is not null && skip.IsTypedField(key)) continue;
            if (!first) Raw(output, ",");
            String(output, key);
            first = false;
        }
        Raw(output, "],\"attributes.value\":[");
        first = true;
        foreach (var (key, value) in e.Attributes)
        {
            if (skip is not null && skip.IsTypedField(key)) continue;
            if (!first) Raw(output, ",");
            String(output, value);
            first = false;
        }
        Raw(output, "]");
        Field(output, "lineage_ingress_node", e.Lineage.IngressNode ?? "");
        Raw(output, ",\"lineage_source_seq\":");
        Number(output, e.Lineage.SourceSeq);
        Field(output, "topic", record.Topic);
        Raw(output, ",\"partition\":");
        Number(output, record.Partition);
        Raw(output, ",\"offset\":");
        Number(output, record.Offset);
        Field(output, "lineage_sender", e.Lineage.Sender ?? "");
        if (typed is not null) Typed(output, e.Typed!, typed);
        Raw(output, "}\n");
    }

    // The decoded values as JSON literals (finite numbers: the sink turned the others away).
    private static void Typed(ArrayBufferWriter<byte> output, TypedValues values, IReadOnlyList<SqlTypedColumn> columns)
    {
        foreach (var column in columns)
        {
            Raw(output, ",\"");
            Raw(output, column.Name); // an Avro name: letters, digits, underscores
            Raw(output, "\":");
            var value = values.Values[column.Field];
            if (!value.HasValue)
            {
                Raw(output, column.Kind == TypedKind.Array ? "[]" : "null"); // an Array column is not nullable
                continue;
            }
            if (column.Kind == TypedKind.Array)
            {
                Raw(output, "[");
                var items = value.Items!;
                for (var i = 0; i < items.Length; i++)
                {
                    if (i > 0) Raw(output, ",");
                    Value(output, column.Item!.Value, column.DateTime64, items[i]);
                }
                Raw(output, "]");
                continue;
            }
            Value(output, column.Kind, column.DateTime64, value);
        }
    }

    // One value (a column's or an array's item) as a JSON literal.
    private static void Value(ArrayBufferWriter<byte> output, TypedKind kind, bool dateTime64, TypedValue value)
    {
        switch (kind)
        {
            case TypedKind.Int or TypedKind.Long: Number(output, value.Integer); break;
            case TypedKind.Float: Formatted(output, (float)value.Real); break;
            case TypedKind.Double: Formatted(output, value.Real); break;
            case TypedKind.Boolean: Raw(output, value.Integer != 0 ? "true" : "false"); break;
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros when !dateTime64: Number(output, value.Integer); break;
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                // DateTime64 parses 'YYYY-MM-DD hh:mm:ss.fff' in the column's time zone (UTC).
                String(output, value.Text!.Replace('T', ' ').TrimEnd('Z'));
                break;
            case TypedKind.Decimal: Raw(output, value.Text!); break; // digits and a point: a JSON number, parsed exactly
            case TypedKind.Bytes: Binary(output, value.Binary!); break;
            default: String(output, value.Text!); break; // string, enum, uuid, date (YYYY-MM-DD), a map's JSON text
        }
    }

    // The shortest text that reads back as the same value ("R").
    private static void Formatted<T>(ArrayBufferWriter<byte> output, T value) where T : IUtf8SpanFormattable
    {
        value.TryFormat(output.GetSpan(40), out var written, "R", CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    private static void Field(ArrayBufferWriter<byte> output, string name, string value)
    {
        Raw(output, ",\"");
        Raw(output, name);
        Raw(output, "\":");
        String(output, value);
    }

    private static void String(ArrayBufferWriter<byte> output, string text)
    {
        Raw(output, "\"");
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var i = rest.IndexOfAny(NeedsEscape);
            var run = i < 0 ? rest : rest[..i];
            if (!run.IsEmpty)
            {
                var written = Encoding.UTF8.GetBytes(run, output.GetSpan(Encoding.UTF8.GetMaxByteCount(run.Length)));
                output.Advance(written);
            }
            if (i < 0) break;
            var c = rest[i];
            switch (c)
            {
                case '"': Raw(output, "\\\""); break;
                case '\\': Raw(output, "\\\\"); break;
                case '\n': Raw(output, "\\n"); break;
                case '\r': Raw(output, "\\r"); break;
                case '\t': Raw(output, "\\t"); break;
                default:
                    // Control characters and every surrogate (pairs too: the server joins \uD83D\uDE00 again).
                    Raw(output, "\\u");
                    Raw(output, ((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
            rest = rest[(i + 1)..];
        }
        Raw(output, "\"");
    }

    private static void Number(ArrayBufferWriter<byte> output, long value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    /// <summary>
    /// Bytes as a JSON string of those very bytes: ClickHouse's JSON input copies a string's bytes as they come (no
    /// UTF-8 check), so only the quote, the backslash and control bytes are escaped (\u00XX below 0x20 is one byte).
    /// </summary>
    private static void Binary(ArrayBufferWriter<byte> output, byte[] bytes)
    {
        Raw(output, "\"");
        foreach (var b in bytes)
        {
            if (b == '"') Raw(output, "\\\"");
            else if (b == '\\') Raw(output, "\\\\");
            else if (b < 0x20) Raw(output, $"\\u00{b:x2}");
            else
            {
                output.GetSpan(1)[0] = b;
                output.Advance(1);
            }
        }
        Raw(output, "\"");
    }

    private static void Raw(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++) span[i] = (byte)ascii[i];
        output.Advance(ascii.Length);
    }
}
