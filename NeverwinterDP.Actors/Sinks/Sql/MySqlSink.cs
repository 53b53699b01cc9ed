using System.Data.Common;
using System.Text;
using MySqlConnector;

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
    // A statement may use this share of max_allowed_packet (escaping can grow a value; the rest is the SQL).
    private const double PacketShare = 0.5;

    private readonly string _insertHead;
    private readonly string _rowPlaceholders;
    private readonly string _insertTail;
    private readonly Dictionary<int, string> _statements = new();
    private long _maxPacket = 16 * 1024 * 1024;

    public MySqlSink(SqlSinkOptions options, string name = "mysql")
        : base(options, name, MySqlDialect.Instance)
    {
        _insertHead = $"INSERT INTO {QuotedTable} ({SqlColumns.ColumnList(Dialect)}) VALUES ";
        _rowPlaceholders = "(" + string.Join(",", SqlColumns.All.Select(_ => "?")) + ")";
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
        _maxPacket = Convert.ToInt64(await session.ExecuteScalarAsync(cancellation).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
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
                throw new InvalidOperationException($"sink {Name}: table {Options.Table} cannot be written (it needs the columns {SqlColumns.ColumnList(Dialect)}): {e.Message}", e);
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
        if (Convert.ToInt64(await key.ExecuteScalarAsync(cancellation).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            throw new InvalidOperationException($"sink {Name}: table {Options.Table} has no unique key on (topic, partition, offset): a replay would store rows twice");
        }
    }

    protected override async Task InsertAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        var budget = (long)(_maxPacket * PacketShare);
        var start = 0;
        while (start < rows.Count)
        {
            // As many rows as max-rows-per-statement and the packet allow (at least one: a single row too large was refused before).
            var count = 0;
            long bytes = 0;
            while (start + count < rows.Count && count < Options.MaxRowsPerStatement)
            {
                var size = RowBytes(rows[start + count]);
                if (count > 0 && bytes + size > budget) break;
                bytes += size;
                count++;
            }
            await using var insert = Command(connection, transaction, Statement(count));
            var parameters = insert.Parameters;
            for (var i = start; i < start + count; i++)
            {
                var row = rows[i];
                foreach (var column in SqlColumns.All)
                {
                    parameters.Add(column.Long is { } value ? new MySqlParameter { Value = value(row) } : new MySqlParameter { Value = column.Text!(row) });
                }
            }
            await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
            start += count;
        }
    }

    protected override string? RefuseBeforeWrite(SinkRecord record)
    {
        var size = RowBytes(record);
        return size > _maxPacket * PacketShare
            ? $"the row is about {size} bytes, more than half the server's max_allowed_packet ({_maxPacket} bytes)"
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

    private string Statement(int rows)
    {
        if (_statements.TryGetValue(rows, out var sql)) return sql;
        var text = new StringBuilder(_insertHead.Length + rows * (_rowPlaceholders.Length + 1) + _insertTail.Length).Append(_insertHead);
        for (var i = 0; i < rows; i++) text.Append(i == 0 ? "" : ",").Append(_rowPlaceholders);
        sql = text.Append(_insertTail).ToString();
        // Full chunks repeat; the odd sizes of last chunks and the search for rejected rows are not kept.
        if (rows == Options.MaxRowsPerStatement) _statements[rows] = sql;
        return sql;
    }

    private static long RowBytes(SinkRecord record)
    {
        long bytes = 0;
        foreach (var column in SqlColumns.All)
        {
            bytes += column.Text is { } text ? Encoding.UTF8.GetByteCount(text(record)) + 4 : 21;
        }
        return bytes;
    }
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

    public override string TableSuffix => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
}
