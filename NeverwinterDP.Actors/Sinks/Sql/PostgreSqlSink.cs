using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>
/// Writes records to a PostgreSQL table (kind <c>postgresql</c>, Npgsql); see <see cref="SqlSink"/> for the
/// batching, the idempotence and how failures are classified. Rows go in <c>INSERT ... SELECT * FROM unnest(...)
/// ON CONFLICT (topic, partition, offset) DO NOTHING</c>. Attributes are <c>jsonb</c>, strings <c>text</c>.
/// </summary>
public sealed class PostgreSqlSink : SqlSink
{
    private readonly string _insert;

    public PostgreSqlSink(SqlSinkOptions options, string name = "postgresql")
        : base(options, name, PostgreSqlDialect.Instance)
    {
        CheckConnectionString(name, options.ConnectionString, cs => _ = new NpgsqlConnectionStringBuilder(cs));
        var columns = SqlColumns.ColumnList(Dialect);
        var conflict = $"ON CONFLICT ({SqlColumns.ColumnList(Dialect, SqlColumns.Key)}) DO NOTHING";
        var arrays = string.Join(", ", SqlColumns.All.Select((c, i) => $"${i + 1}::{Dialect.TypeOf(c.Kind)}[]"));
        _insert = $"INSERT INTO {QuotedTable} ({columns}) SELECT * FROM unnest({arrays}) {conflict}";
    }

    /// <summary>The insert of a typed log type's rows: the table's columns, then the typed ones, as arrays too.</summary>
    private string InsertOf(SqlTypedLayout layout)
    {
        if (layout.Statement is { } built) return built;
        var names = SqlColumns.All.Select(c => c.Name).Concat(layout.Columns.Select(c => c.Name));
        // A decimal goes as text (exact at any precision, which .NET's decimal is not) and is cast by the server. An
        // array goes as its array literal in a text[] (unnest cannot take an array of arrays), cast per row below.
        var types = SqlColumns.All.Select(c => Dialect.TypeOf(c.Kind)).Concat(layout.Columns.Select(c => c.Kind switch
        {
            TypedKind.Decimal => "text[]::numeric",
            TypedKind.Array => "text",
            _ => Dialect.TypeOf(c.Kind),
        }));
        var arrays = string.Join(", ", types.Select((t, i) => $"${i + 1}::{t}[]"));
        var conflict = $"ON CONFLICT ({SqlColumns.ColumnList(Dialect, SqlColumns.Key)}) DO NOTHING";
        var select = "*";
        if (layout.Columns.Any(c => c.Kind == TypedKind.Array))
        {
            var all = SqlColumns.All.Count;
            var aliases = string.Join(", ", Enumerable.Range(1, all + layout.Columns.Count).Select(i => $"c{i}"));
            select = string.Join(", ", Enumerable.Range(1, all).Select(i => $"c{i}").Concat(layout.Columns.Select((c, i) =>
                c.Kind == TypedKind.Array ? $"c{all + i + 1}::{Dialect.TypeOf(c.Item!.Value)}[]" : $"c{all + i + 1}")));
            return layout.Statement = $"INSERT INTO {QuotedTable} ({SqlColumns.ColumnList(Dialect, names)}) SELECT {select} FROM unnest({arrays}) AS u({aliases}) {conflict}";
        }
        return layout.Statement = $"INSERT INTO {QuotedTable} ({SqlColumns.ColumnList(Dialect, names)}) SELECT {select} FROM unnest({arrays}) {conflict}";
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
            throw new InvalidOperationException($"sink {Name}: table {Options.Table} cannot be written (it needs the columns {columns} and a unique key on topic, partition, offset{MissingColumnsHint}): {e.Message}", e);
        }
    }

    // One array per column, unnested into rows by the server: a statement of one parameter per column whatever the
    // number of rows. Measured against binary COPY into a temporary table plus INSERT ... SELECT ... ON CONFLICT,
    // this took 1.3 s of client CPU per 300k events against 2.3-3.7 s, and no more server CPU.
    protected override async Task InsertAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        foreach (var (layout, run) in ByLayout(rows))
        {
            foreach (var chunk in Chunks(run, Options.MaxRowsPerStatement))
            {
                await using var insert = (NpgsqlCommand)Command(connection, transaction, layout is null ? _insert : InsertOf(layout));
                foreach (var column in SqlColumns.All) insert.Parameters.Add(ArrayOf(column, chunk));
                if (layout is not null)
                {
                    foreach (var column in layout.Columns) insert.Parameters.Add(TypedArrayOf(column, chunk));
                }
                await insert.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
            }
        }
    }

    // The decoded values as they are (no text round trip), null where the record has none.
    private static NpgsqlParameter TypedArrayOf(SqlTypedColumn column, ArraySegment<SinkRecord> rows)
    {
        TypedValue Value(int i) => rows[i].Event.Typed!.Values[column.Field];
        switch (column.Kind)
        {
            case TypedKind.Int:
                var ints = new int?[rows.Count];
                for (var i = 0; i < ints.Length; i++) ints[i] = Value(i) is { HasValue: true } v ? (int)v.Integer : null;
                return new NpgsqlParameter<int?[]> { TypedValue = ints, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer };
            case TypedKind.Long:
                var longs = new long?[rows.Count];
                for (var i = 0; i < longs.Length; i++) longs[i] = Value(i) is { HasValue: true } v ? v.Integer : null;
                return new NpgsqlParameter<long?[]> { TypedValue = longs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint };
            case TypedKind.Float:
                var floats = new float?[rows.Count];
                for (var i = 0; i < floats.Length; i++) floats[i] = Value(i) is { HasValue: true } v ? (float)v.Real : null;
                return new NpgsqlParameter<float?[]> { TypedValue = floats, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Real };
            case TypedKind.Double:
                var doubles = new double?[rows.Count];
                for (var i = 0; i < doubles.Length; i++) doubles[i] = Value(i) is { HasValue: true } v ? v.Real : null;
                return new NpgsqlParameter<double?[]> { TypedValue = doubles, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double };
            case TypedKind.Boolean:
                var booleans = new bool?[rows.Count];
                for (var i = 0; i < booleans.Length; i++) booleans[i] = Value(i) is { HasValue: true } v ? v.Integer != 0 : null;
                return new NpgsqlParameter<bool?[]> { TypedValue = booleans, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean };
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                var ticks = column.Kind == TypedKind.TimestampMicros ? 10 : TimeSpan.TicksPerMillisecond;
                var times = new DateTime?[rows.Count];
                for (var i = 0; i < times.Length; i++) times[i] = Value(i) is { HasValue: true } v ? DateTime.UnixEpoch.AddTicks(v.Integer * ticks) : null;
                return new NpgsqlParameter<DateTime?[]> { TypedValue = times, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz };
            case TypedKind.Date:
                var dates = new DateOnly?[rows.Count];
                for (var i = 0; i < dates.Length; i++) dates[i] = Value(i) is { HasValue: true } v ? UnixDay.AddDays((int)v.Integer) : null;
                return new NpgsqlParameter<DateOnly?[]> { TypedValue = dates, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date };
            case TypedKind.Uuid:
                var uuids = new Guid?[rows.Count];
                for (var i = 0; i < uuids.Length; i++) uuids[i] = Value(i) is { HasValue: true } v ? Guid.ParseExact(v.Text!, "D") : null;
                return new NpgsqlParameter<Guid?[]> { TypedValue = uuids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };
            case TypedKind.Bytes:
                var blobs = new byte[]?[rows.Count];
                for (var i = 0; i < blobs.Length; i++) blobs[i] = Value(i) is { HasValue: true } v ? v.Binary : null;
                return new NpgsqlParameter<byte[]?[]> { TypedValue = blobs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea };
            case TypedKind.Array:
                var literals = new string?[rows.Count];
                for (var i = 0; i < literals.Length; i++) literals[i] = Value(i) is { HasValue: true } v ? ArrayLiteral(column.Item!.Value, v) : null;
                return new NpgsqlParameter<string?[]> { TypedValue = literals, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
            case TypedKind.Map:
                var maps = new string?[rows.Count];
                for (var i = 0; i < maps.Length; i++) maps[i] = Value(i) is { HasValue: true } v ? v.Text : null;
                return new NpgsqlParameter<string?[]> { TypedValue = maps, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb };
            default: // string, enum (the symbol), decimal (its exact text, cast to numeric by the statement)
                var texts = new string?[rows.Count];
                for (var i = 0; i < texts.Length; i++) texts[i] = Value(i) is { HasValue: true } v ? v.Text : null;
                return new NpgsqlParameter<string?[]> { TypedValue = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
        }
    }

    private static readonly DateOnly UnixDay = new(1970, 1, 1);

    /// <summary>
    /// An array's PostgreSQL literal, <c>{"200","404"}</c>, cast to the column's <c>T[]</c> by the statement: every item
    /// quoted (any type's input takes that), in its exact text form (a float's shortest round-trip text, a time in UTC,
    /// a decimal's digits, <c>\x..</c> for bytes).
    /// </summary>
    public static string ArrayLiteral(TypedKind item, TypedValue array)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var literal = new System.Text.StringBuilder("{");
        var items = array.Items!;
        for (var i = 0; i < items.Length; i++)
        {
            if (i > 0) literal.Append(',');
            var v = items[i];
            var text = item switch
            {
                TypedKind.Int or TypedKind.Long => v.Integer.ToString(invariant),
                TypedKind.Float => ((float)v.Real).ToString("R", invariant),
                TypedKind.Double => v.Real.ToString("R", invariant),
                TypedKind.Boolean => v.Integer != 0 ? "true" : "false",
                TypedKind.Bytes => "\\x" + Convert.ToHexString(v.Binary!),
                _ => v.Text!, // string, enum, uuid, decimal, timestamps (ISO-8601 UTC), date
            };
            literal.Append('"');
            foreach (var c in text)
            {
                if (c is '"' or '\\') literal.Append('\\');
                literal.Append(c);
            }
            literal.Append('"');
        }
        return literal.Append('}').ToString();
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

    public override string TypeOf(TypedKind kind) => kind switch
    {
        TypedKind.Int => "integer",
        TypedKind.Long => "bigint",
        TypedKind.Float => "real",
        TypedKind.Double => "double precision",
        TypedKind.Boolean => "boolean",
        TypedKind.Bytes => "bytea",
        TypedKind.TimestampMillis or TypedKind.TimestampMicros => "timestamptz",
        TypedKind.Date => "date",
        TypedKind.Decimal => "numeric",
        TypedKind.Uuid => "uuid",
        TypedKind.Map => "jsonb",
        _ => "text", // string, enum; an array's type is its items' (TypeOf(TypedField))
    };

    /// <summary>An array is its items' type as a PostgreSQL array (<c>integer[]</c>, <c>numeric(9,2)[]</c>); a map is <c>jsonb</c>.</summary>
    public override string TypeOf(TypedField field) =>
        field.Kind == TypedKind.Array ? base.TypeOf(field.Item!) + "[]" : base.TypeOf(field);

    // information_schema says ARRAY for every array: its udt_name (_int4, _text, ...) tells which.
    public override string DataTypeColumn => "CASE WHEN data_type = 'ARRAY' THEN udt_name::text ELSE data_type::text END";

    public override bool Accepts(TypedField field, string dataType) => field.Kind switch
    {
        TypedKind.Array => dataType.StartsWith('_') && Accepts(field.Item!.Kind, ElementType(dataType[1..])),
        TypedKind.Map => dataType is "jsonb" or "json",
        _ => Accepts(field.Kind, dataType),
    };

    // An array's udt_name names its element by the internal name: as data_type would say it.
    private static string ElementType(string udt) => udt switch
    {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "varchar" => "character varying",
        "timestamptz" => "timestamp with time zone",
        _ => udt, // text, bytea, date, numeric, uuid
    };

    public override bool Accepts(TypedKind kind, string dataType) => kind switch
    {
        TypedKind.Int or TypedKind.Long => dataType is "integer" or "bigint" or "smallint",
        TypedKind.Float => dataType is "real" or "double precision",
        TypedKind.Double => dataType is "double precision",
        TypedKind.Boolean => dataType is "boolean",
        TypedKind.Bytes => dataType is "bytea",
        TypedKind.TimestampMillis or TypedKind.TimestampMicros => dataType is "timestamp with time zone",
        TypedKind.Date => dataType is "date",
        TypedKind.Decimal => dataType is "numeric", // its precision is the column's: a value beyond it is refused (22003) and dead-lettered
        TypedKind.Uuid => dataType is "uuid",
        _ => dataType is "text" or "character varying",
    };

    public override StringComparer ColumnNames => StringComparer.Ordinal;

    public override string CurrentSchema => "current_schema()";
}
