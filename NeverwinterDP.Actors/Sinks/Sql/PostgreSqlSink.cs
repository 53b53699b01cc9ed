using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>How <see cref="PostgreSqlSink"/> sends rows (both skip keys already present).</summary>
public enum PostgreSqlWriteMethod
{
    /// <summary><c>INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING</c>: one statement per max-rows-per-statement rows.</summary>
    Unnest,

    /// <summary>Binary <c>COPY</c> into a temporary table, then <c>INSERT ... SELECT ... ON CONFLICT DO NOTHING</c>.</summary>
    Copy,
}

/// <summary>
/// Writes records to a PostgreSQL table (kind <c>postgresql</c>, Npgsql); see <see cref="SqlSink"/> for the
/// batching, the idempotence and how failures are classified. Attributes are <c>jsonb</c>, strings <c>text</c>.
/// </summary>
public sealed class PostgreSqlSink : SqlSink
{
    private readonly PostgreSqlWriteMethod _method;
    private readonly string _insert;
    private readonly string _copy;
    private readonly string _copyInsert;
    private readonly string _stage;

    public PostgreSqlSink(SqlSinkOptions options, string name = "postgresql", PostgreSqlWriteMethod method = PostgreSqlWriteMethod.Unnest)
        : base(options, name, PostgreSqlDialect.Instance)
    {
        _method = method;
        var columns = SqlColumns.ColumnList(Dialect);
        var conflict = $"ON CONFLICT ({SqlColumns.ColumnList(Dialect, SqlColumns.Key)}) DO NOTHING";
        var arrays = string.Join(", ", SqlColumns.All.Select((c, i) => $"${i + 1}::{Dialect.TypeOf(c.Kind)}[]"));
        _insert = $"INSERT INTO {QuotedTable} ({columns}) SELECT * FROM unnest({arrays}) {conflict}";
        _stage = $"CREATE TEMP TABLE IF NOT EXISTS nwdp_stage (LIKE {QuotedTable} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
        _copy = $"COPY pg_temp.nwdp_stage ({columns}) FROM STDIN (FORMAT BINARY)";
        _copyInsert = $"INSERT INTO {QuotedTable} ({columns}) SELECT {columns} FROM pg_temp.nwdp_stage {conflict}";
    }

    protected override DbConnection CreateConnection(string connectionString) => new NpgsqlConnection(connectionString);

    protected override string HealthConnectionString(TimeSpan timeout) =>
        new NpgsqlConnectionStringBuilder(Options.ConnectionString) { Timeout = (int)timeout.TotalSeconds }.ConnectionString;

    // A zero-row insert with the real conflict target: PostgreSQL checks every column and the unique key.
    protected override async Task VerifyTableAsync(DbConnection connection, CancellationToken cancellation)
    {
        var columns = SqlColumns.ColumnList(Dialect);
        await using var probe = Command(connection, null,
            $"INSERT INTO {QuotedTable} ({columns}) SELECT {columns} FROM {QuotedTable} WHERE false ON CONFLICT ({SqlColumns.ColumnList(Dialect, SqlColumns.Key)}) DO NOTHING");
        try
        {
            await probe.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException($"sink {Name}: table {Options.Table} cannot be written (it needs the columns {columns} and a unique key on topic, partition, offset): {e.Message}", e);
        }
    }

    protected override Task InsertAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation) =>
        _method == PostgreSqlWriteMethod.Copy
            ? CopyAsync((NpgsqlConnection)connection, transaction, rows, cancellation)
            : UnnestAsync(connection, transaction, rows, cancellation);

    private async Task UnnestAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        foreach (var chunk in Chunks(rows, Options.MaxRowsPerStatement))
        {
            await using var insert = (NpgsqlCommand)Command(connection, transaction, _insert);
            foreach (var column in SqlColumns.All) insert.Parameters.Add(ArrayOf(column, chunk));
            await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
        }
    }

    private static NpgsqlParameter ArrayOf(SqlColumn column, ArraySegment<SinkRecord> rows)
    {
        switch (column.Kind)
        {
            case SqlColumnKind.BigInt:
                var longs = new long[rows.Count];
                for (var i = 0; i < longs.Length; i++) longs[i] = column.Long!(rows[i]);
                return new NpgsqlParameter<long[]> { TypedValue = longs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint };
            case SqlColumnKind.Int:
                var ints = new int[rows.Count];
                for (var i = 0; i < ints.Length; i++) ints[i] = (int)column.Long!(rows[i]);
                return new NpgsqlParameter<int[]> { TypedValue = ints, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer };
            default:
                var texts = new string[rows.Count];
                for (var i = 0; i < texts.Length; i++) texts[i] = column.Text!(rows[i]);
                var type = column.Kind == SqlColumnKind.Json ? NpgsqlDbType.Jsonb : NpgsqlDbType.Text;
                return new NpgsqlParameter<string[]> { TypedValue = texts, NpgsqlDbType = NpgsqlDbType.Array | type };
        }
    }

    private async Task CopyAsync(NpgsqlConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        // One staging table per session, emptied by every commit. Asked for in every transaction, as a
        // rollback (a data error) undoes its creation too.
        await using (var stage = Command(connection, transaction, _stage))
        {
            await stage.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
        }
        await using (var importer = await connection.BeginBinaryImportAsync(_copy, cancellation).ConfigureAwait(false))
        {
            importer.Timeout = Options.CommandTimeout;
            foreach (var row in rows)
            {
                await importer.StartRowAsync(cancellation).ConfigureAwait(false);
                foreach (var column in SqlColumns.All)
                {
                    switch (column.Kind)
                    {
                        case SqlColumnKind.BigInt:
                            await importer.WriteAsync(column.Long!(row), NpgsqlDbType.Bigint, cancellation).ConfigureAwait(false);
                            break;
                        case SqlColumnKind.Int:
                            await importer.WriteAsync((int)column.Long!(row), NpgsqlDbType.Integer, cancellation).ConfigureAwait(false);
                            break;
                        case SqlColumnKind.Json:
                            await importer.WriteAsync(column.Text!(row), NpgsqlDbType.Jsonb, cancellation).ConfigureAwait(false);
                            break;
                        default:
                            await importer.WriteAsync(column.Text!(row), NpgsqlDbType.Text, cancellation).ConfigureAwait(false);
                            break;
                    }
                }
            }
            await importer.CompleteAsync(cancellation).ConfigureAwait(false);
        }
        await using var insert = Command(connection, transaction, _copyInsert);
        await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// SQLSTATE class 22 (data exception: 22021 bad byte such as NUL, 22001 too long, 22P02 bad text
    /// representation such as invalid JSON), class 23 but a unique violation (a check or not-null constraint
    /// a DBA added), 54000 (a value beyond a limit, e.g. a jsonb string too long). Everything else, including
    /// 08 (connection), 40001/40P01 (serialization, deadlock), 57P0x (shutdown), 53 (resources), 42 (the table
    /// changed under us), is retried.
    /// </summary>
    protected override bool IsDataError(Exception e) =>
        e is PostgresException { SqlState: var state }
        && (state.StartsWith("22", StringComparison.Ordinal)
            || (state.StartsWith("23", StringComparison.Ordinal) && state != PostgresErrorCodes.UniqueViolation)
            || state == PostgresErrorCodes.ProgramLimitExceeded);

    protected override string Describe(Exception e) =>
        e is PostgresException pg ? $"PostgreSQL {pg.SqlState}: {pg.MessageText}" + (pg.Detail is { Length: > 0 } d ? $" ({d})" : "") : e.Message;
}

/// <summary>PostgreSQL: double-quoted identifiers, text everywhere, jsonb attributes.</summary>
public sealed record PostgreSqlDialect : SqlDialect
{
    public static PostgreSqlDialect Instance { get; } = new();

    public override string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    public override string TypeOf(SqlColumnKind kind) => kind switch
    {
        SqlColumnKind.BigInt => "bigint",
        SqlColumnKind.Int => "integer",
        SqlColumnKind.Json => "jsonb",
        _ => "text",
    };
}
