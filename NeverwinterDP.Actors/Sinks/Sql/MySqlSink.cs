using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using MySqlConnector;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>
/// Writes records to a MySQL or MariaDB table (kinds <c>mysql</c> and <c>mariadb</c>, MySqlConnector); see
/// <see cref="SqlSink"/> for the batching, the idempotence and how failures are classified. Rows go in
/// multi-row <c>INSERT ... ON DUPLICATE KEY UPDATE</c> with a no-op update, so a replayed key is skipped while
/// a bad value still fails (<c>INSERT IGNORE</c> would turn it into a warning and store a truncated value).
/// The session runs in strict SQL mode for the same reason.
/// </summary>
public sealed class MySqlSink : SqlSink
{
    private readonly string _insertHead;
    private readonly string _insertTail;
    private long _maxPacket = 16 * 1024 * 1024;

    public MySqlSink(SqlSinkOptions options, string name = "mysql")
        : base(options, name, MySqlDialect.Instance)
    {
        CheckConnectionString(name, options.ConnectionString, cs => _ = new MySqlConnectionStringBuilder(cs));
        _insertHead = $"INSERT INTO {QuotedTable} ({SqlColumns.ColumnList(Dialect)}) VALUES ";
        var offset = Dialect.Quote("offset");
        _insertTail = $" ON DUPLICATE KEY UPDATE {offset} = {offset}";
    }

    protected override DbConnection CreateConnection(string connectionString) => new MySqlConnection(connectionString);

    protected override string HealthConnectionString(TimeSpan timeout) =>
        new MySqlConnectionStringBuilder(Options.ConnectionString) { ConnectionTimeout = (uint)timeout.TotalSeconds }.ConnectionString;

    protected override async Task PrepareSessionAsync(DbConnection connection, CancellationToken cancellation)
    {
        // Strict: a value that does not fit is an error (rejected), never silently truncated.
        await using var session = Command(connection, null, "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'; SELECT @@max_allowed_packet");
        _maxPacket = Convert.ToInt64(await session.ExecuteScalarAsync(cancellation).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    protected override async Task VerifyTableAsync(DbConnection connection, CancellationToken cancellation)
    {
        var parts = Options.TableParts;
        await using (var columns = Command(connection, null, $"SELECT {SqlColumns.ColumnList(Dialect)} FROM {QuotedTable} WHERE 1 = 0"))
        {
            try
            {
                await (await columns.ExecuteReaderAsync(cancellation).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (MySqlException e)
            {
                throw new InvalidOperationException($"sink {Name}: table {Options.Table} cannot be written (it needs the columns {SqlColumns.ColumnList(Dialect)}{MissingColumnsHint}): {e.Message}", e);
            }
        }
        await using var key = Command(connection, null, """
            SELECT COUNT(*) FROM (
              SELECT index_name FROM information_schema.statistics
              WHERE table_schema = COALESCE(@schema, DATABASE()) AND table_name = @table AND non_unique = 0
              GROUP BY index_name
              HAVING COUNT(*) = 3 AND SUM(column_name IN ('topic', 'partition', 'offset')) = 3) k
            """);
        key.Parameters.Add(new MySqlParameter("@schema", parts.Count == 2 ? parts[0] : null));
        key.Parameters.Add(new MySqlParameter("@table", parts[^1]));
        if (Convert.ToInt64(await key.ExecuteScalarAsync(cancellation).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0)
        {
            throw new InvalidOperationException($"sink {Name}: table {Options.Table} has no unique key on (topic, partition, offset): a replay would store rows twice");
        }
    }

    // Rows are written as literals in the statement text (escaped as the session's sql_mode, set above,
    // expects): a MySqlParameter object per column and boxed values per row cost three times the client CPU.
    protected override async Task InsertAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        foreach (var (layout, run) in ByLayout(rows))
        {
            await InsertAsync(connection, transaction, layout is null ? _insertHead : HeadOf(layout), layout, run, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>The head of a typed log type's insert: the table's columns, then the typed ones.</summary>
    private string HeadOf(SqlTypedLayout layout) =>
        layout.Statement ??= $"INSERT INTO {QuotedTable} ({SqlColumns.ColumnList(Dialect, SqlColumns.All.Select(c => c.Name).Concat(layout.Columns.Select(c => c.Name)))}) VALUES ";

    private async Task InsertAsync(DbConnection connection, DbTransaction transaction, string head, SqlTypedLayout? layout, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        // UTF-8 needs at most 3 bytes a char: a statement of this many chars fits in max_allowed_packet.
        var budget = (_maxPacket - 4096) / 3;
        var sql = new StringBuilder(head.Length + Math.Min(rows.Count, Options.MaxRowsPerStatement) * 256);
        var row = new StringBuilder(256);
        var inStatement = 0;
        foreach (var record in rows)
        {
            row.Clear();
            AppendRow(row, record, layout);
            if (inStatement > 0 && (inStatement == Options.MaxRowsPerStatement || sql.Length + row.Length + _insertTail.Length > budget))
            {
                await ExecuteAsync(connection, transaction, sql, cancellation).ConfigureAwait(false);
                inStatement = 0;
            }
            if (inStatement == 0) sql.Clear().Append(head);
            else sql.Append(',');
            sql.Append(row);
            inStatement++;
        }
        if (inStatement > 0) await ExecuteAsync(connection, transaction, sql, cancellation).ConfigureAwait(false);
    }

    private async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, StringBuilder sql, CancellationToken cancellation)
    {
        await using var insert = Command(connection, transaction, sql.Append(_insertTail).ToString());
        await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }

    private static void AppendRow(StringBuilder sql, SinkRecord record, SqlTypedLayout? layout = null)
    {
        sql.Append('(');
        var first = true;
        foreach (var column in SqlColumns.All)
        {
            if (!first) sql.Append(',');
            first = false;
            if (column.Long is { } number) sql.Append(CultureInfo.InvariantCulture, $"{number(record)}");
            else AppendQuoted(sql, column.Text!(record));
        }
        if (layout is not null)
        {
            // The decoded values as literals (finite numbers: RefuseBeforeWrite turned the others away).
            var values = record.Event.Typed!.Values;
            foreach (var column in layout.Columns)
            {
                sql.Append(',');
                var value = values[column.Field];
                if (!value.HasValue)
                {
                    sql.Append("NULL");
                    continue;
                }
                switch (column.Kind)
                {
                    case TypedKind.Int or TypedKind.Long: sql.Append(CultureInfo.InvariantCulture, $"{value.Integer}"); break;
                    case TypedKind.Float: sql.Append(((float)value.Real).ToString("R", CultureInfo.InvariantCulture)); break;
                    case TypedKind.Double: sql.Append(value.Real.ToString("R", CultureInfo.InvariantCulture)); break;
                    case TypedKind.Boolean: sql.Append(value.Integer != 0 ? "TRUE" : "FALSE"); break;
                    case TypedKind.Decimal: sql.Append(value.Text); break; // the exact number, digits and a point only
                    case TypedKind.Bytes: sql.Append("X'").Append(Convert.ToHexString(value.Binary!)).Append('\''); break;
                    case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                        // DATETIME(3|6) in UTC: the value's UTC wall-clock time, whatever the session's time zone.
                        var time = DateTime.UnixEpoch.AddTicks(value.Integer * (column.Kind == TypedKind.TimestampMicros ? 10 : TimeSpan.TicksPerMillisecond));
                        sql.Append('\'').Append(time.ToString(column.Kind == TypedKind.TimestampMicros ? "yyyy-MM-dd HH:mm:ss.ffffff" : "yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append('\'');
                        break;
                    default: AppendQuoted(sql, value.Text!); break; // string, enum, uuid, date (YYYY-MM-DD), an array's or map's JSON text
                }
            }
        }
        sql.Append(')');
    }

    private static readonly SearchValues<char> Escaped = SearchValues.Create("\0'\\\n\r\x1a");

    /// <summary>A string literal as mysql_real_escape_string writes it (valid without NO_BACKSLASH_ESCAPES, which the session turns off).</summary>
    private static void AppendQuoted(StringBuilder sql, string value)
    {
        sql.Append('\'');
        var rest = value.AsSpan();
        int at;
        while ((at = rest.IndexOfAny(Escaped)) >= 0)
        {
            sql.Append(rest[..at]).Append(rest[at] switch
            {
                '\0' => "\\0",
                '\'' => "\\'",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                _ => "\\Z",
            });
            rest = rest[(at + 1)..];
        }
        sql.Append(rest).Append('\'');
    }

    protected override string? RefuseBeforeWrite(SinkRecord record)
    {
        // MySQL's FLOAT and DOUBLE have no NaN or infinity (nor a literal for them); our ingress never writes one, another writer may.
        if (record.Event.Typed is { } typed)
        {
            for (var i = 0; i < typed.Values.Count; i++)
            {
                var field = typed.Schema.Fields[i];
                if (field.Kind is TypedKind.Float or TypedKind.Double && typed.Values[i] is { HasValue: true } v && !double.IsFinite(v.Real))
                    return $"typed field '{field.Name}' is {v.Real.ToString(CultureInfo.InvariantCulture)}, which MySQL and MariaDB cannot store";
            }
        }
        // Cheap bound first (escaping doubles a char at most, UTF-8 triples it); exact only for large rows.
        long chars = 0;
        foreach (var column in SqlColumns.All)
        {
            if (column.Kind is SqlColumnKind.Text) chars += column.Text!(record).Length;
        }
        chars += 4096 + record.Event.Attributes.Sum(a => (long)a.Key.Length + a.Value.Length);
        if (chars * 6 < _maxPacket - 4096) return null;
        var row = new StringBuilder();
        AppendRow(row, record);
        var bytes = Encoding.UTF8.GetByteCount(row.ToString()) + _insertHead.Length + _insertTail.Length
            + (record.Event.Typed is { } t ? t.Values.Sum(v => (long)(v.Text?.Length ?? 24)) * 6 : 0); // typed values: not in the row above
        return bytes > _maxPacket - 1024
            ? $"the row is {bytes} bytes as SQL, more than the server's max_allowed_packet ({_maxPacket} bytes)"
            : null;
    }

    /// <summary>
    /// The server refused a value: too long (1406), a bad string or number (1366, 1292, 1264, 1367, 1300),
    /// NULL (1048), invalid JSON (MySQL 3140; MariaDB's JSON is a CHECK: 4025; MySQL CHECK 3819). Everything
    /// else (connection, 1205 lock wait timeout, 1213 deadlock, 1053 shutdown, 1927 killed, ...) is retried.
    /// </summary>
    protected override bool IsDataError(Exception e) =>
        e is MySqlException { Number: 1406 or 1366 or 1292 or 1264 or 1367 or 1300 or 1048 or 3140 or 4025 or 3819 };

    protected override string Describe(Exception e) => e is MySqlException m ? $"MySQL {m.Number}: {m.Message}" : e.Message;

}

/// <summary>MySQL / MariaDB: backquoted identifiers, VARCHAR(255) for short strings, InnoDB, utf8mb4 compared as bytes (topics are case-sensitive).</summary>
public sealed record MySqlDialect : SqlDialect
{
    public static MySqlDialect Instance { get; } = new();

    public override string Quote(string identifier) => $"`{identifier.Replace("`", "``", StringComparison.Ordinal)}`";

    public override string TypeOf(SqlColumnKind kind) => kind switch
    {
        SqlColumnKind.BigInt => "BIGINT",
        SqlColumnKind.Int => "INT",
        SqlColumnKind.ShortText => "VARCHAR(255)",
        SqlColumnKind.Json => "JSON",
        _ => "LONGTEXT",
    };

    public override string TypeOf(TypedKind kind) => kind switch
    {
        TypedKind.Int => "INT",
        TypedKind.Long => "BIGINT",
        TypedKind.Float => "FLOAT",
        TypedKind.Double => "DOUBLE",
        TypedKind.Boolean => "BOOLEAN",
        TypedKind.Bytes => "LONGBLOB",
        TypedKind.TimestampMillis => "DATETIME(3)",
        TypedKind.TimestampMicros => "DATETIME(6)",
        TypedKind.Date => "DATE",
        TypedKind.Decimal => "DECIMAL",
        TypedKind.Uuid => "CHAR(36)",
        TypedKind.Array or TypedKind.Map => "JSON", // MariaDB: LONGTEXT with a json_valid check
        _ => "LONGTEXT", // string, enum
    };

    /// <summary>MySQL's and MariaDB's DECIMAL holds 65 digits, 30 after the point.</summary>
    public override string? TypeProblem(TypedLogSchema schema, TypedField field) =>
        field.Kind == TypedKind.Decimal && (field.Precision > 65 || field.Scale > 30)
            ? $"typed field '{field.Name}' is {field.TypeName} (schema id {schema.Id}): MySQL and MariaDB hold decimals of at most 65 digits, 30 after the point"
            : null;

    // BOOLEAN is TINYINT(1): information_schema says tinyint.
    public override bool Accepts(TypedKind kind, string dataType) => kind switch
    {
        TypedKind.Int or TypedKind.Long => dataType is "int" or "bigint" or "mediumint" or "smallint",
        TypedKind.Float => dataType is "float" or "double",
        TypedKind.Double => dataType is "double",
        TypedKind.Boolean => dataType is "tinyint",
        TypedKind.Bytes => dataType is "longblob" or "mediumblob" or "blob" or "varbinary",
        TypedKind.TimestampMillis or TypedKind.TimestampMicros => dataType is "datetime" or "timestamp",
        TypedKind.Date => dataType is "date",
        TypedKind.Decimal => dataType is "decimal", // its precision is the column's: a value beyond it is refused (1264) and dead-lettered
        TypedKind.Uuid => dataType is "char" or "varchar" or "uuid" or "longtext" or "text",
        TypedKind.Array or TypedKind.Map => dataType is "json" or "longtext", // MariaDB's JSON is a longtext
        _ => dataType is "longtext" or "mediumtext" or "text" or "varchar",
    };

    public override StringComparer ColumnNames => StringComparer.OrdinalIgnoreCase;

    public override string CurrentSchema => "DATABASE()";

    public override string TableSuffix => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
}
