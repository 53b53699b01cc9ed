using System.Data.Common;
using System.Diagnostics;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>
/// What the SQL sinks share: one connection per sink (calls are never concurrent), the table created when
/// missing, one transaction per batch (committed before <see cref="WriteAsync"/> returns, so a delivered
/// record is durable then and <see cref="FlushAsync"/> has nothing left to do), and the outcome of each record:
/// <list type="bullet">
/// <item>a data error (the server refuses a value: NUL in PostgreSQL text, a string too long for its column,
/// invalid JSON ...) makes the sink search the batch by halves for the rows at fault; only those are
/// <see cref="SinkOutcome.Rejected"/>, with the server's message, and the rest is delivered;</item>
/// <item>any other failure (connection lost or refused, timeout, deadlock, server shutting down, a table
/// that does not fit) drops the connection and counts as <see cref="SinkOutcome.Errored"/>: the framework
/// retries, and the insert, which skips keys already present, makes the retry idempotent.</item>
/// </list>
/// A server subclass says how to connect, how to insert a run of rows and which errors are the data's fault.
/// </summary>
public abstract class SqlSink : ISink
{
    /// <summary>How long <see cref="CheckHealthAsync"/> waits for a connection and <c>SELECT 1</c>.</summary>
    public static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(5);

    private DbConnection? _connection;
    private bool _disposed;

    // Per typed log type's schema seen: its columns (made when missing) or why its records cannot be stored. Forgotten
    // with the connection, so a retry after a failure (a column dropped under us, say) looks at the table again.
    private readonly Dictionary<TypedLogSchema, SqlTypedLayout> _layouts = new(ReferenceEqualityComparer.Instance);

    protected SqlSink(SqlSinkOptions options, string name, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Options = options;
        Name = name;
        Dialect = dialect;
        QuotedTable = dialect.QuoteTable(options.Table);
    }

    public string Name { get; }

    public SqlSinkOptions Options { get; }

    protected SqlDialect Dialect { get; }

    /// <summary>The table's name as the statements use it.</summary>
    protected string QuotedTable { get; }

    /// <summary>Fails at construction (the node's start) on a connection string the client library cannot read.</summary>
    protected static string CheckConnectionString(string name, string connectionString, Action<string> parse)
    {
        try
        {
            parse(connectionString);
            return connectionString;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"nwdp.sinks.{name}.connection-string: {e.Message}", e);
        }
    }

    /// <summary>A new, closed connection.</summary>
    protected abstract DbConnection CreateConnection(string connectionString);

    /// <summary>The connection string for <see cref="CheckHealthAsync"/>: the configured one with a short connect timeout.</summary>
    protected abstract string HealthConnectionString(TimeSpan timeout);

    /// <summary>Session settings after a connection opened (strict SQL mode ...).</summary>
    protected virtual Task PrepareSessionAsync(DbConnection connection, CancellationToken cancellation) => Task.CompletedTask;

    /// <summary>Fails (with a message an operator can act on) when the table lacks a column or the unique key on topic, partition, offset.</summary>
    protected abstract Task VerifyTableAsync(DbConnection connection, CancellationToken cancellation);

    /// <summary>Inserts <paramref name="rows"/> inside <paramref name="transaction"/>, skipping keys already present.</summary>
    protected abstract Task InsertAsync(DbConnection connection, DbTransaction transaction, ArraySegment<SinkRecord> rows, CancellationToken cancellation);

    /// <summary>Whether the server refused a value of the rows (not the connection, the table or the server's state).</summary>
    protected abstract bool IsDataError(Exception e);

    /// <summary>A reason to reject a record without sending it (too large for the server's packet), or null.</summary>
    protected virtual string? RefuseBeforeWrite(SinkRecord record) => null;

    /// <summary>The reason a rejected record carries: the server's message.</summary>
    protected virtual string Describe(Exception e) => e.Message;

    public async Task OpenAsync(CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = await ConnectionAsync(cancellation).ConfigureAwait(false);
            if (Options.CreateTable)
            {
                await using var create = Command(connection, null, SqlColumns.CreateTableSql(Dialect, Options.Table));
                await create.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
                await AddMissingColumnsAsync(connection, cancellation).ConfigureAwait(false);
            }
            await VerifyTableAsync(connection, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Gives a table an earlier version made the columns added since (<see cref="SqlColumn.AddedLater"/>), with their
    /// default for the rows already there. Another writer of the same table may add it at the same moment: a failed
    /// <c>ALTER</c> is fine when the column is there afterwards.
    /// </summary>
    private async Task AddMissingColumnsAsync(DbConnection connection, CancellationToken cancellation)
    {
        var missing = await MissingAddedColumnsAsync(connection, cancellation).ConfigureAwait(false);
        foreach (var column in missing)
        {
            try
            {
                await using var alter = Command(connection, null, SqlColumns.AddColumnSql(Dialect, Options.Table, column));
                await alter.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
            }
            catch (DbException)
            {
                var still = await MissingAddedColumnsAsync(connection, cancellation).ConfigureAwait(false);
                if (still.Any(c => c.Name == column.Name)) throw;
            }
        }
    }

    private async Task<List<SqlColumn>> MissingAddedColumnsAsync(DbConnection connection, CancellationToken cancellation)
    {
        var present = await ColumnTypesAsync(connection, cancellation).ConfigureAwait(false);
        return present.Count == 0 ? [] : SqlColumns.All.Where(c => c.AddedLater && !present.ContainsKey(c.Name)).ToList();
    }

    /// <summary>For the message of a table that cannot be written: how a table made before a column was added gets it.</summary>
    protected string MissingColumnsHint =>
        Options.CreateTable ? "" : "; a table made by an earlier version gets the newer columns with create-table = on, or: " +
            string.Join("; ", SqlColumns.All.Where(c => c.AddedLater).Select(c => SqlColumns.AddColumnSql(Dialect, Options.Table, c)));

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var outcomes = new SinkOutcome[batch.Count];
        string?[]? reasons = null;

        // Records refused up front are rejected; the rest are written, remembering their place in the batch.
        var rows = new SinkRecord[batch.Count];
        var places = new int[batch.Count];
        var count = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (RefuseBeforeWrite(batch[i]) is { } refusal)
            {
                outcomes[i] = SinkOutcome.Rejected;
                (reasons ??= new string?[batch.Count])[i] = refusal;
                continue;
            }
            rows[count] = batch[i];
            places[count++] = i;
        }
        if (count == 0) return new SinkWriteResult(outcomes, reasons);

        // A typed log type's records: their columns made first (DDL outside the batch's transaction; MySQL would
        // commit it), and the records of a schema the table cannot take rejected with the reason.
        if (await PrepareTypedAsync(new ArraySegment<SinkRecord>(rows, 0, count), cancellation).ConfigureAwait(false))
        {
            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                if (rows[i].Event.Typed is { } typed && _layouts.TryGetValue(typed.Schema, out var layout) && layout.Refusal is { } refusal)
                {
                    outcomes[places[i]] = SinkOutcome.Rejected;
                    (reasons ??= new string?[batch.Count])[places[i]] = refusal;
                    continue;
                }
                rows[kept] = rows[i];
                places[kept++] = places[i];
            }
            count = kept;
            if (count == 0) return new SinkWriteResult(outcomes, reasons);
        }

        try
        {
            await CommitAsync(new ArraySegment<SinkRecord>(rows, 0, count), cancellation).ConfigureAwait(false);
            return new SinkWriteResult(outcomes, reasons); // Delivered is the default outcome
        }
        catch (Exception e) when (IsDataError(e))
        {
            reasons ??= new string?[batch.Count];
            await SearchRejectedAsync(rows, places, count, e, outcomes, reasons, cancellation).ConfigureAwait(false);
            return new SinkWriteResult(outcomes, reasons);
        }
        catch
        {
            // The connection's state is unknown (lost, timed out, cancelled mid-statement): start over on a new one.
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Nothing to do: <see cref="WriteAsync"/> commits before it returns.</summary>
    public Task FlushAsync(CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Task.CompletedTask;
    }

    public async Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(HealthTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var connection = CreateConnection(HealthConnectionString(HealthTimeout));
            await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
            await using var select = connection.CreateCommand();
            select.CommandText = "SELECT 1";
            select.CommandTimeout = (int)HealthTimeout.TotalSeconds;
            await select.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return new SinkHealth(true, $"SELECT 1 answered in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var what = timeout.IsCancellationRequested ? $"no answer within {HealthTimeout.TotalSeconds:0} s" : $"{e.GetType().Name}: {e.GetBaseException().Message}";
            return new SinkHealth(false, $"{Name}: cannot reach the server: {what}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await DropConnectionAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>A command with the configured timeout.</summary>
    protected DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.CommandTimeout = Options.CommandTimeoutSeconds;
        return command;
    }

    /// <summary>Runs of at most <paramref name="size"/> rows.</summary>
    protected static IEnumerable<ArraySegment<SinkRecord>> Chunks(ArraySegment<SinkRecord> rows, int size)
    {
        for (var at = 0; at < rows.Count; at += size) yield return rows.Slice(at, Math.Min(size, rows.Count - at));
    }

    private async Task<DbConnection> ConnectionAsync(CancellationToken cancellation)
    {
        if (_connection is { State: System.Data.ConnectionState.Open }) return _connection;
        await DropConnectionAsync().ConfigureAwait(false);
        var connection = CreateConnection(Options.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellation).ConfigureAwait(false);
            await PrepareSessionAsync(connection, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        _connection = connection;
        return connection;
    }

    private async Task DropConnectionAsync()
    {
        var connection = _connection;
        _connection = null;
        _layouts.Clear();
        if (connection is null) return;
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A broken connection may fail to close cleanly; it is gone either way.
        }
    }

    /// <summary>
    /// Makes the layout of every typed schema among <paramref name="rows"/> not seen yet: true when there are typed
    /// records. A failure here (connection, a DDL the server refuses) is errored, as any other, and retried.
    /// </summary>
    private async Task<bool> PrepareTypedAsync(ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        if (SqlTypedLayout.Unseen(rows, _layouts, out var typed) is not { } fresh) return typed;
        try
        {
            var connection = await ConnectionAsync(cancellation).ConfigureAwait(false);
            var present = await ColumnTypesAsync(connection, cancellation).ConfigureAwait(false);
            foreach (var schema in fresh) _layouts[schema] = await LayoutAsync(connection, schema, present, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
        return true;
    }

    /// <summary>The table's columns and their <c>data_type</c>.</summary>
    private async Task<Dictionary<string, string>> ColumnTypesAsync(DbConnection connection, CancellationToken cancellation)
    {
        var present = new Dictionary<string, string>(Dialect.ColumnNames);
        await using var query = Command(connection, null, SqlColumns.ColumnsQuery(Dialect, Options.Table));
        await using var reader = await query.ExecuteReaderAsync(cancellation).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellation).ConfigureAwait(false))
        {
            present[reader.GetString(0)] = Convert.ToString(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)!.ToLowerInvariant();
        }
        return present;
    }

    /// <summary>The columns of a typed schema, or why the table cannot take them (<see cref="SqlTypedLayout.DecideAsync"/>, the dialect's types).</summary>
    private Task<SqlTypedLayout> LayoutAsync(DbConnection connection, TypedLogSchema schema, Dictionary<string, string> present, CancellationToken cancellation) =>
        SqlTypedLayout.DecideAsync(schema, present, new TypedColumnStore(
            Options.Table,
            Options.CreateTable,
            Dialect.ColumnNames,
            (s, name) => SqlTypedLayout.NameProblem(s, name) ?? Dialect.TypeProblem(s, s.Fields.First(f => f.Name == name)),
            field => SqlColumns.AddTypedColumnSql(Dialect, Options.Table, field),
            Dialect.Accepts,
            c => ColumnTypesAsync(connection, c),
            async Task<string?> (alter, c) =>
            {
                try
                {
                    await using var command = Command(connection, null, alter);
                    await command.ExecuteNonQueryAsync(c).ConfigureAwait(false);
                    return null;
                }
                catch (DbException e)
                {
                    return Describe(e);
                }
            }), cancellation);

    /// <summary>
    /// The rows by layout: all of them with null (no typed record: the untyped path, nothing allocated), else the
    /// untyped ones (null) and one run per typed schema. Every statement names one layout's columns.
    /// </summary>
    protected IEnumerable<(SqlTypedLayout? Layout, ArraySegment<SinkRecord> Rows)> ByLayout(ArraySegment<SinkRecord> rows)
    {
        var anyTyped = false;
        foreach (var record in rows)
        {
            if (record.Event.Typed is not null)
            {
                anyTyped = true;
                break;
            }
        }
        if (!anyTyped) return [(null, rows)];
        var untyped = new List<SinkRecord>();
        var typed = new Dictionary<SqlTypedLayout, List<SinkRecord>>(ReferenceEqualityComparer.Instance);
        foreach (var record in rows)
        {
            if (record.Event.Typed is not { } values)
            {
                untyped.Add(record);
                continue;
            }
            // Prepared before every commit; refused records were rejected before it.
            if (!_layouts.TryGetValue(values.Schema, out var layout) || layout.Refusal is not null)
                throw new InvalidOperationException($"sink {Name}: no columns for schema id {values.Schema.Id}");
            if (!typed.TryGetValue(layout, out var list)) typed[layout] = list = [];
            list.Add(record);
        }
        var runs = new List<(SqlTypedLayout?, ArraySegment<SinkRecord>)>(typed.Count + 1);
        if (untyped.Count > 0) runs.Add((null, untyped.ToArray()));
        foreach (var (layout, list) in typed) runs.Add((layout, list.ToArray()));
        return runs;
    }

    /// <summary>Writes <paramref name="rows"/> in one transaction; any exception leaves nothing of them written.</summary>
    private async Task CommitAsync(ArraySegment<SinkRecord> rows, CancellationToken cancellation)
    {
        await PrepareTypedAsync(rows, cancellation).ConfigureAwait(false); // again only after a dropped connection
        var connection = await ConnectionAsync(cancellation).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellation).ConfigureAwait(false);
        await InsertAsync(connection, transaction, rows, cancellation).ConfigureAwait(false);
        await transaction.CommitAsync(cancellation).ConfigureAwait(false);
        // Disposing an uncommitted transaction rolls it back (on a live connection).
    }

    /// <summary>
    /// The batch failed on a data error: commit it in halves, halving again where it fails, until every row
    /// is delivered or alone and rejected (<see cref="BatchBisection"/>). A failure that is not a data error
    /// stops the search: what is left is errored (retried by the framework).
    /// </summary>
    private Task SearchRejectedAsync(SinkRecord[] rows, int[] places, int count, Exception failure, SinkOutcome[] outcomes, string?[] reasons, CancellationToken cancellation) =>
        BatchBisection.SplitAsync(0, count, Describe(failure), async (from, to) =>
        {
            try
            {
                await CommitAsync(new ArraySegment<SinkRecord>(rows, from, to - from), cancellation).ConfigureAwait(false);
                return RangeAttempt.Delivered;
            }
            catch (Exception e) when (IsDataError(e))
            {
                return RangeAttempt.Refused(Describe(e));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                await DropConnectionAsync().ConfigureAwait(false);
                return RangeAttempt.Failed($"{e.GetType().Name}: {e.GetBaseException().Message}");
            }
            catch
            {
                await DropConnectionAsync().ConfigureAwait(false);
                throw;
            }
        }, (from, to, outcome, reason) =>
        {
            for (var i = from; i < to; i++)
            {
                outcomes[places[i]] = outcome;
                reasons[places[i]] = reason;
            }
        });
}
