using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>What a column holds; each dialect names the SQL type (<see cref="SqlDialect"/>).</summary>
public enum SqlColumnKind
{
    /// <summary>A 64-bit integer (epoch milliseconds, offsets, sequence numbers).</summary>
    BigInt,

    /// <summary>A 32-bit integer (the partition).</summary>
    Int,

    /// <summary>A short string: host, ip, level, topic ... (MySQL: VARCHAR(255)).</summary>
    ShortText,

    /// <summary>A string of any length: the message.</summary>
    Text,

    /// <summary>A JSON object as text: the attributes (PostgreSQL: jsonb).</summary>
    Json,
}

/// <summary>
/// One column of the table and how a record fills it: <see cref="Long"/> for integers, <see cref="Text"/> otherwise.
/// <see cref="AddedLater"/>: a column later versions added; tables made before it get it with a default
/// (<see cref="SqlColumns.AddColumnSql"/>), so it is declared <c>DEFAULT ''</c> in new tables too.
/// </summary>
public sealed record SqlColumn(string Name, SqlColumnKind Kind, Func<SinkRecord, long>? Long = null, Func<SinkRecord, string>? Text = null, bool AddedLater = false);

/// <summary>
/// The table every SQL sink writes: one column per <see cref="Protocol.LogEvent"/> field plus where the record
/// came from (topic, partition, offset), which is the table's primary key, so a replayed record is a no-op.
/// </summary>
public static class SqlColumns
{
    /// <summary>The columns in table order (also the order of every INSERT and COPY).</summary>
    public static IReadOnlyList<SqlColumn> All { get; } =
    [
        new("ts", SqlColumnKind.BigInt, Long: r => r.Event.Ts),
        new("system_ts", SqlColumnKind.BigInt, Long: r => r.Event.SystemTs),
        new("host", SqlColumnKind.ShortText, Text: r => r.Event.Host ?? ""),
        new("ip", SqlColumnKind.ShortText, Text: r => r.Event.Ip ?? ""),
        new("process", SqlColumnKind.ShortText, Text: r => r.Event.Process ?? ""),
        new("type", SqlColumnKind.ShortText, Text: r => r.Event.Type ?? ""),
        new("version", SqlColumnKind.ShortText, Text: r => r.Event.Version ?? ""),
        new("level", SqlColumnKind.ShortText, Text: r => r.Event.Level ?? ""),
        new("message", SqlColumnKind.Text, Text: r => r.Event.Message ?? ""),
        // A typed log type's typed fields have columns of their own (SqlTypedLayout): they leave this object.
        new("attributes", SqlColumnKind.Json, Text: r => AttributesJson(r.Event.Attributes, r.Event.Typed?.Schema)),
        new("ingress_node", SqlColumnKind.ShortText, Text: r => r.Event.Lineage.IngressNode ?? ""),
        new("source_seq", SqlColumnKind.BigInt, Long: r => r.Event.Lineage.SourceSeq),
        // The name of the API key the events came in with ('' without one); added after the first release.
        new("sender", SqlColumnKind.ShortText, Text: r => r.Event.Lineage.Sender ?? "", AddedLater: true),
        new("topic", SqlColumnKind.ShortText, Text: r => r.Topic),
        new("partition", SqlColumnKind.Int, Long: r => r.Partition),
        new("offset", SqlColumnKind.BigInt, Long: r => r.Offset),
    ];

    /// <summary>The key that makes writes idempotent.</summary>
    public static IReadOnlyList<string> Key { get; } = ["topic", "partition", "offset"];

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _jsonBuffer;

    /// <summary>The attributes as a JSON object of strings (<c>{}</c> when there are none), without the typed fields of <paramref name="typed"/>.</summary>
    public static string AttributesJson(IReadOnlyDictionary<string, string>? attributes, TypedLogSchema? typed = null)
    {
        if (attributes is null || attributes.Count == 0) return "{}";
        var buffer = _jsonBuffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in attributes)
            {
                if (typed is null || !typed.IsTypedField(key)) writer.WriteString(key, value);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary><c>CREATE TABLE IF NOT EXISTS</c> in the dialect: every column NOT NULL, the key as primary key.</summary>
    public static string CreateTableSql(SqlDialect dialect, string table) =>
        $"CREATE TABLE IF NOT EXISTS {dialect.QuoteTable(table)} (" +
        string.Join(", ", All.Select(c => Declaration(dialect, c))) +
        $", PRIMARY KEY ({ColumnList(dialect, Key)})){dialect.TableSuffix}";

    /// <summary>The <c>ALTER TABLE</c> that gives a table made by an earlier version a column added since (<see cref="SqlColumn.AddedLater"/>).</summary>
    public static string AddColumnSql(SqlDialect dialect, string table, SqlColumn column) =>
        $"ALTER TABLE {dialect.QuoteTable(table)} ADD COLUMN {Declaration(dialect, column)}";

    /// <summary>The <c>ALTER TABLE</c> that adds a typed field's column: nullable (rows of other types, and rows written before, have none).</summary>
    public static string AddTypedColumnSql(SqlDialect dialect, string table, TypedField field) =>
        $"ALTER TABLE {dialect.QuoteTable(table)} ADD COLUMN {dialect.Quote(field.Name)} {dialect.TypeOf(field)} NULL";

    /// <summary>
    /// The query listing the table's columns by name and <c>data_type</c> (one per row) from <c>information_schema.columns</c>, which
    /// PostgreSQL, MySQL and MariaDB all have. The table name is checked by the options (letters, digits,
    /// underscores), so it is safe as a literal.
    /// </summary>
    public static string ColumnsQuery(SqlDialect dialect, string table)
    {
        var parts = table.Split('.');
        var schema = parts.Length == 2 ? $"'{parts[0]}'" : dialect.CurrentSchema;
        return $"SELECT column_name, {dialect.DataTypeColumn} FROM information_schema.columns WHERE table_schema = {schema} AND table_name = '{parts[^1]}'";
    }

    private static string Declaration(SqlDialect dialect, SqlColumn c) =>
        $"{dialect.Quote(c.Name)} {dialect.TypeOf(c.Kind)} NOT NULL" + (c.AddedLater ? " DEFAULT ''" : "");

    /// <summary>The quoted, comma-separated names.</summary>
    public static string ColumnList(SqlDialect dialect, IEnumerable<string> names) => string.Join(", ", names.Select(dialect.Quote));

    /// <summary>Every column, quoted, in table order.</summary>
    public static string ColumnList(SqlDialect dialect) => ColumnList(dialect, All.Select(c => c.Name));
}

/// <summary>What differs in the table's DDL between servers: identifier quotes, column types, table options.</summary>
public abstract record SqlDialect
{
    public abstract string Quote(string identifier);

    public abstract string TypeOf(SqlColumnKind kind);

    /// <summary>The column type a typed field of this Avro kind gets (docs/schemas.md, "Type mappings").</summary>
    public abstract string TypeOf(TypedKind kind);

    /// <summary>The column type of a typed field: <see cref="TypeOf(TypedKind)"/>, a decimal with its precision and scale.</summary>
    public virtual string TypeOf(TypedField field) =>
        field.Kind == TypedKind.Decimal ? $"{TypeOf(field.Kind)}({field.Precision},{field.Scale})" : TypeOf(field.Kind);

    /// <summary>Why this server cannot have a column for <paramref name="field"/>'s type (a decimal beyond its precision), or null.</summary>
    public virtual string? TypeProblem(TypedLogSchema schema, TypedField field) => null;

    /// <summary>
    /// Whether a column already there, of <c>information_schema.columns.data_type</c> <paramref name="dataType"/>, takes
    /// values of <paramref name="kind"/>: the same type or a wider one of the same family (an int → long promotion
    /// writes into the integer column it had; a value beyond it is refused by the server and dead-lettered).
    /// </summary>
    public abstract bool Accepts(TypedKind kind, string dataType);

    /// <summary>As <see cref="Accepts(TypedKind, string)"/> for a field (an array's or map's column depends on its items too).</summary>
    public virtual bool Accepts(TypedField field, string dataType) => Accepts(field.Kind, dataType);

    /// <summary>What <see cref="SqlColumns.ColumnsQuery"/> reads as a column's type from <c>information_schema.columns</c>.</summary>
    public virtual string DataTypeColumn => "data_type";

    /// <summary>Whether column names differ only in case (MySQL, MariaDB) or are compared exactly (quoted, PostgreSQL).</summary>
    public abstract StringComparer ColumnNames { get; }

    /// <summary>The SQL expression of the session's schema (database), where an unqualified table lives.</summary>
    public abstract string CurrentSchema { get; }

    /// <summary>Appended after the closing parenthesis of CREATE TABLE (engine, character set).</summary>
    public virtual string TableSuffix => "";

    /// <summary>A [schema.]table name quoted part by part (the options allow only letters, digits and underscores).</summary>
    public string QuoteTable(string table) => string.Join(".", table.Split('.').Select(Quote));
}
