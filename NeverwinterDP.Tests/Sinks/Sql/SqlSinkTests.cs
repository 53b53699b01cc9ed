using System.Diagnostics;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Sql;

/// <summary>What the SQL sinks do beyond the compliance suite, against each real server; each test has its own table.</summary>
public abstract class SqlSinkTests(SqlTestServer server) : IAsyncLifetime
{
    private const string Topic = "nwdp.logs.sql";
    private static readonly SinkRetryOptions FastRetry = new() { MinBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) };
    private readonly string _table = SqlTestServer.NewTableName();

    public Task InitializeAsync() => server.DropAsync(_table);

    public Task DisposeAsync() => server.DropAsync(_table);

    private SqlSinkOptions Options(string? connectionString = null) => new() { ConnectionString = connectionString ?? server.ConnectionString, Table = _table };

    private static LogEvent Event(long offset) => new()
    {
        Ts = 1_764_300_000_000 + offset,
        SystemTs = 1_764_300_000_100 + offset,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Version = "2",
        Level = "info",
        Message = $"order {offset} placed",
        Attributes = new Dictionary<string, string> { ["user"] = "4711" },
        Lineage = new Lineage("node-1", offset + 1),
    };

    private static List<SinkRecord> Records(long from, int count) =>
        Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, 0, from + i, Event(from + i))).ToList();

    private async Task AssertStoredOnceAsync(long from, int count)
    {
        var stored = (await server.ReadAsync(_table)).OrderBy(s => s.Offset).ToList();
        Assert.Equal(count, stored.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => from + i), stored.Select(s => s.Offset));
        Assert.All(stored, s => Assert.Equal($"order {s.Offset} placed", s.Message));
    }

    [Fact]
    public async Task Creates_the_table_when_missing_and_reuses_it_when_present()
    {
        Assert.False(await server.TableExistsAsync(_table));
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True(await server.TableExistsAsync(_table));
            Assert.True((await sink.WriteAsync(Records(0, 10), CancellationToken.None)).IsAllDelivered);
        }

        // A second sink (a restart) finds the table with its rows, creating nothing, and goes on.
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(10, 10), CancellationToken.None)).IsAllDelivered);
        }
        await AssertStoredOnceAsync(0, 20);
    }

    [Fact]
    public async Task Stores_every_field_of_the_event()
    {
        // Everything a literal could trip on: quotes, backslashes, placeholders, control characters, astral plane.
        var e = Event(7) with
        {
            Message = "it's a \\ \"test\" ? @p :p $1 `t` \r\n\t \u001a ü 🎉 '); DROP TABLE x; --",
            Attributes = new Dictionary<string, string> { ["user"] = "4711", ["quote\"d"] = "é ü \\ \n ' ?" },

            Lineage = new Lineage("node-1", 8, "billing-key"),
        };
        await using var sink = server.CreateSink(Options(), "sql");
        await sink.OpenAsync(CancellationToken.None);
        Assert.True((await sink.WriteAsync([new SinkRecord(Topic, 3, 7, e)], CancellationToken.None)).IsAllDelivered);

        await using var connection = server.Connect();
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT ts, system_ts, host, ip, process, type, version, level, message, attributes, ingress_node, source_seq, topic, {server.Quote("partition")}, {server.Quote("offset")}, sender FROM {server.Quote(_table)}";
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(e.Ts, reader.GetInt64(0));
        Assert.Equal(e.SystemTs, reader.GetInt64(1));
        Assert.Equal([e.Host, e.Ip, e.Process, e.Type, e.Version, e.Level, e.Message], Enumerable.Range(2, 7).Select(reader.GetString));
        Assert.Equal(e.Attributes, JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(9)));
        Assert.Equal(e.Lineage.IngressNode, reader.GetString(10));
        Assert.Equal(e.Lineage.SourceSeq, reader.GetInt64(11));
        Assert.Equal((Topic, 3, 7L), (reader.GetString(12), reader.GetInt32(13), reader.GetInt64(14)));
        Assert.Equal("billing-key", reader.GetString(15));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task A_table_made_before_the_sender_column_gets_it_at_open_and_keeps_its_rows()
    {
        // A table as the first release made it: every column but sender.
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(0, 5), CancellationToken.None)).IsAllDelivered);
        }
        await server.ScalarAsync($"ALTER TABLE {server.Quote(_table)} DROP COLUMN sender");

        // Left to a DBA (create-table = off), the sink refuses it and says what to run.
        await using (var sink = server.CreateSink(Options() with { CreateTable = false }, "sql"))
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.OpenAsync(CancellationToken.None));
            Assert.Contains("ADD COLUMN " + server.Quote("sender"), refused.Message, StringComparison.Ordinal);
        }

        // create-table = on adds it; the old rows get '' and new ones their key's name.
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            var keyed = Records(5, 5).Select(r => r with { Event = r.Event with { Lineage = r.Event.Lineage with { Sender = "edge" } } }).ToList();
            Assert.True((await sink.WriteAsync(keyed, CancellationToken.None)).IsAllDelivered);
        }
        await AssertStoredOnceAsync(0, 10);
        await using var connection = server.Connect();
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT {server.Quote("offset")}, sender FROM {server.Quote(_table)} ORDER BY {server.Quote("offset")}";
        await using var reader = await select.ExecuteReaderAsync();
        var senders = new List<string>();
        while (await reader.ReadAsync()) senders.Add(reader.GetString(1));
        Assert.Equal(["", "", "", "", "", "edge", "edge", "edge", "edge", "edge"], senders);
    }

    [Fact]
    public async Task Without_create_table_a_missing_table_fails_at_open_naming_it()
    {
        await using var sink = server.CreateSink(Options() with { CreateTable = false }, "sql");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.OpenAsync(CancellationToken.None));

        Assert.Contains(_table, e.Message, StringComparison.Ordinal);
        Assert.False(await server.TableExistsAsync(_table));
    }

    [Fact]
    public async Task A_table_without_the_unique_key_is_refused_at_open()
    {
        // The sink's own columns, but no key: a replay would duplicate, so the sink must not write there.
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
        }
        await server.ScalarAsync($"CREATE TABLE {server.Quote(_table + "_nokey")} AS SELECT * FROM {server.Quote(_table)}");
        try
        {
            await using var sink = server.CreateSink(Options() with { Table = _table + "_nokey", CreateTable = false }, "sql");
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.OpenAsync(CancellationToken.None));
            Assert.Contains("unique", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await server.DropAsync(_table + "_nokey");
        }
    }

    [Fact]
    public async Task Rejects_only_the_bad_rows_of_a_large_batch_with_the_servers_message()
    {
        var batch = Records(0, 5000);
        int[] bad = [0, 1234, 1235, 4999];
        foreach (var i in bad) batch[i] = batch[i] with { Event = server.Rejectable(batch[i].Event) };
        await using var sink = server.CreateSink(Options() with { MaxRowsPerStatement = 700 }, "sql");
        await sink.OpenAsync(CancellationToken.None);

        var result = await sink.WriteAsync(batch, CancellationToken.None);

        Assert.Equal(bad, Enumerable.Range(0, batch.Count).Where(i => result.Outcomes[i] != SinkOutcome.Delivered));
        Assert.All(bad, i => Assert.Equal(SinkOutcome.Rejected, result.Outcomes[i]));
        Assert.All(bad, i => Assert.Matches("^(PostgreSQL|MySQL) [0-9A-Z]+: ", result.Reasons![i]!));
        var stored = await server.ReadAsync(_table);
        Assert.Equal(Enumerable.Range(0, 5000).Except(bad).Select(i => (long)i), stored.Select(s => s.Offset).Order());
    }

    [Fact]
    public async Task A_replay_after_a_crash_mid_batch_stores_each_record_once()
    {
        // A first life: one batch committed, the next cut off mid-write (the process dies), offsets never committed.
        var sink = server.CreateSink(Options() with { MaxRowsPerStatement = 500 }, "sql");
        await sink.OpenAsync(CancellationToken.None);
        Assert.True((await sink.WriteAsync(Records(0, 500), CancellationToken.None)).IsAllDelivered);
        using (var crash = new CancellationTokenSource(TimeSpan.FromMilliseconds(40)))
        {
            try
            {
                await sink.WriteAsync(Records(500, 20_000), crash.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await sink.DisposeAsync();

        // A batch is one transaction: none of it or all of it, never a part.
        var count = (await server.ReadAsync(_table)).Count;
        Assert.True(count is 500 or 20_500, $"{count} rows: a batch was stored in part");

        // The next life reads everything again from the last committed offset.
        await using var again = server.CreateSink(Options(), "sql");
        await again.OpenAsync(CancellationToken.None);
        foreach (var chunk in Records(0, 20_500).Chunk(5000))
        {
            Assert.True((await again.WriteAsync(chunk, CancellationToken.None)).IsAllDelivered);
        }
        await AssertStoredOnceAsync(0, 20_500);
    }

    [Fact]
    public async Task Writes_during_an_outage_error_and_are_retried_until_the_server_is_back()
    {
        var dir = Path.Combine("/tmp", "nwdp-px-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            await using var proxy = new SocketProxy(server.ProxySocketPath(dir), server.ServerSocketPath);
            await using var sink = server.CreateSink(Options(server.WithSocketDirectory(dir)), "sql-outage");
            await sink.OpenAsync(CancellationToken.None);
            var deadLetters = new RecordingDeadLetters();
            var delivery = new SinkDelivery(sink, FastRetry, deadLetters);
            Assert.Equal(1000, (await delivery.DeliverAsync(Records(0, 1000), CancellationToken.None)).Delivered);

            proxy.Cut();
            Assert.False((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
            var during = delivery.DeliverAsync(Records(1000, 1000), CancellationToken.None);
            var waited = Stopwatch.StartNew();
            while (delivery.Metrics.Retries < 3 && !during.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
            Assert.False(during.IsCompleted, "a write succeeded while the server was out of reach");
            Assert.True(delivery.Metrics.Retries >= 3, "the errored write was retried");

            proxy.Restore();
            var report = await during.WaitAsync(TimeSpan.FromSeconds(30));
            await delivery.FlushAsync(CancellationToken.None);

            Assert.Equal(1000, report.Delivered);
            Assert.Empty(deadLetters.Letters);
            Assert.True((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
            await AssertStoredOnceAsync(0, 2000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
    // A typed log type (docs/schemas.md): version 1, then 2, which adds an optional field and promotes status to long.
    private const string WebV1 = TypedWebSchemas.V1;
    private const string WebV2 = TypedWebSchemas.V2;

    // Ids are process-wide (TypedLogSchemas): each test its own.
    private static TypedLogSchema TypedSchema(string attributes) => TypedWebSchemas.Compile(attributes);

    // As the pump hands it over: encoded by ingress, decoded from its frame.
    private static SinkRecord TypedRecord(TypedLogSchema schema, long offset, Dictionary<string, string> attributes) =>
        TypedWebSchemas.Record(schema, Topic, offset, Event(offset) with { Attributes = attributes });

    private async Task<Dictionary<string, string>> ColumnTypesAsync()
    {
        await using var connection = server.Connect();
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{_table}'";
        await using var reader = await select.ExecuteReaderAsync();
        var types = new Dictionary<string, string>();
        while (await reader.ReadAsync()) types[reader.GetString(0)] = Convert.ToString(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)!.ToLowerInvariant();
        return types;
    }

    [Fact]
    public async Task A_typed_log_type_gets_typed_columns_a_new_field_adds_one_and_a_value_that_does_not_fit_is_dead_lettered()
    {
        var pg = server == SqlTestServer.PostgreSql;
        var v1 = TypedSchema(WebV1);
        var deadLetters = new RecordingDeadLetters();
        await using var sink = server.CreateSink(Options(), "sql");
        await sink.OpenAsync(CancellationToken.None);
        var delivery = new SinkDelivery(sink, FastRetry, deadLetters);
        var batch = Records(0, 2); // untyped rows in the same batch keep today's layout
        batch.Add(TypedRecord(v1, 2, new() { ["status"] = "200", ["bytes"] = "1534", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }));
        batch.Add(TypedRecord(v1, 3, new() { ["status"] = "404", ["bytes"] = "3000000000", ["latency_ms"] = "1", ["ratio"] = "1" }));
        var first = await delivery.DeliverAsync(batch, CancellationToken.None);
        Assert.True(first.Delivered == 4, string.Join("; ", deadLetters.Letters.Select(l => l.Reason)));

        var types = await ColumnTypesAsync();
        Assert.Equal(pg ? ["integer", "bigint", "double precision", "real", "boolean", "text"] : ["int", "bigint", "double", "float", "tinyint", "longtext"],
            new[] { "status", "bytes", "latency_ms", "ratio", "cached", "user" }.Select(c => types[c]));

        await using (var connection = server.Connect())
        {
            await connection.OpenAsync();
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT {server.Quote("offset")}, status, bytes, latency_ms, ratio, cached, {server.Quote("user")}, attributes FROM {server.Quote(_table)} ORDER BY {server.Quote("offset")}";
            await using var reader = await select.ExecuteReaderAsync();
            var rows = new List<object?[]>();
            while (await reader.ReadAsync())
            {
                var row = new object?[8];
                reader.GetValues(row!);
                rows.Add(row.Select(v => v is DBNull ? null : v).ToArray());
            }
            Assert.Equal(4, rows.Count);
            Assert.All(rows.Take(2), r => Assert.All(r[1..7], Assert.Null)); // untyped: no typed values
            Assert.Equal(200, Assert.IsType<int>(rows[2][1])); // an int, not "200"
            Assert.Equal(3_000_000_000L, Assert.IsType<long>(rows[3][2]));
            Assert.Equal(12.5, Assert.IsType<double>(rows[2][3]));
            Assert.Equal(0.25f, Assert.IsType<float>(rows[2][4]));
            Assert.True(Convert.ToBoolean(rows[2][5], System.Globalization.CultureInfo.InvariantCulture));
            Assert.False(Convert.ToBoolean(rows[3][5], System.Globalization.CultureInfo.InvariantCulture)); // the field's default
            Assert.Equal("ann", rows[2][6]);
            Assert.Null(rows[3][6]);
            // Typed fields have their columns; the other attributes stay in the JSON object.
            Assert.Equal(new Dictionary<string, string> { ["path"] = "/a" }, JsonSerializer.Deserialize<Dictionary<string, string>>((string)rows[2][7]!));
            Assert.Equal(new Dictionary<string, string> { ["user"] = "4711" }, JsonSerializer.Deserialize<Dictionary<string, string>>((string)rows[0][7]!));
        }

        // Version 2 adds region: two writers of the table (this sink and a second, as two nodes) meet it at once, and
        // both add the column or find it added. 3,000,000,000 fits the long field, not the integer column: dead-lettered.
        var v2 = TypedSchema(WebV2);
        await using var other = server.CreateSink(Options(), "sql-2");
        await other.OpenAsync(CancellationToken.None);
        var otherLetters = new RecordingDeadLetters();
        var reports = await Task.WhenAll(
            delivery.DeliverAsync([TypedRecord(v2, 10, new() { ["status"] = "201", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "eu" }),
                TypedRecord(v2, 11, new() { ["status"] = "3000000000", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" })], CancellationToken.None),
            new SinkDelivery(other, FastRetry, otherLetters).DeliverAsync([TypedRecord(v2, 12, new() { ["status"] = "202", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "us" })], CancellationToken.None));
        Assert.Equal([1, 1], reports.Select(r => r.Delivered));
        Assert.Empty(otherLetters.Letters);
        var letter = Assert.Single(deadLetters.Letters);
        Assert.Equal(11, letter.Record.Offset);
        Assert.Contains(pg ? "22003" : "1264", letter.Reason, StringComparison.Ordinal); // numeric value out of range

        types = await ColumnTypesAsync();
        Assert.Equal(pg ? "text" : "longtext", types["region"]);
        Assert.Equal(pg ? "integer" : "int", types["status"]); // a column keeps its type
        Assert.Equal("eu", await server.ScalarAsync($"SELECT region FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 10"));
        Assert.Equal("us", await server.ScalarAsync($"SELECT region FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 12"));
        Assert.Equal(202, Convert.ToInt32(await server.ScalarAsync($"SELECT status FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 12"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(6L, Convert.ToInt64(await server.ScalarAsync($"SELECT COUNT(*) FROM {server.Quote(_table)}"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_typed_field_the_table_cannot_take_dead_letters_its_schemas_records_with_the_reason()
    {
        var v1 = TypedSchema(WebV1);
        var good = new Dictionary<string, string> { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" };

        // A DBA's table (create-table = off) without the typed columns: the reason is the ALTER to run.
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(0, 1), CancellationToken.None)).IsAllDelivered);
        }
        await using (var sink = server.CreateSink(Options() with { CreateTable = false }, "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            var result = await sink.WriteAsync([TypedRecord(v1, 1, good), .. Records(2, 1)], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
            Assert.Contains($"ADD COLUMN {server.Quote("status")}", result.Reasons![0], StringComparison.Ordinal);
        }

        // Another log type made status a text column: this type's int cannot go there.
        await server.ScalarAsync($"ALTER TABLE {server.Quote(_table)} ADD COLUMN status {(server == SqlTestServer.PostgreSql ? "text" : "LONGTEXT")} NULL");
        await using (var sink = server.CreateSink(Options(), "sql"))
        {
            await sink.OpenAsync(CancellationToken.None);
            var result = await sink.WriteAsync([TypedRecord(v1, 3, good)], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected], result.Outcomes);
            Assert.Contains("column status", result.Reasons![0], StringComparison.Ordinal);
            Assert.Contains("cannot hold typed field 'status' (int", result.Reasons![0], StringComparison.Ordinal);
        }
        Assert.Equal(2L, Convert.ToInt64(await server.ScalarAsync($"SELECT COUNT(*) FROM {server.Quote(_table)}"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Logical_types_enum_and_bytes_get_typed_columns_and_a_decimal_beyond_its_column_is_dead_lettered()
    {
        var pg = server == SqlTestServer.PostgreSql;
        var orders = TypedWebSchemas.Compile(TypedWebSchemas.Logical);
        var deadLetters = new RecordingDeadLetters();
        await using var sink = server.CreateSink(Options(), "sql");
        await sink.OpenAsync(CancellationToken.None);
        var delivery = new SinkDelivery(sink, FastRetry, deadLetters);
        var nulls = TypedWebSchemas.LogicalValues();
        nulls.Remove("at_us");
        nulls.Remove("blob");
        var report = await delivery.DeliverAsync([TypedRecord(orders, 1, TypedWebSchemas.LogicalValues()), TypedRecord(orders, 2, nulls)], CancellationToken.None);
        Assert.True(report.Delivered == 2, string.Join("; ", deadLetters.Letters.Select(l => l.Reason)));

        var types = await ColumnTypesAsync();
        Assert.Equal(pg ? ["timestamp with time zone", "timestamp with time zone", "date", "numeric", "uuid", "text", "bytea"] : ["datetime", "datetime", "date", "decimal", "char", "longtext", "longblob"],
            new[] { "at", "at_us", "day", "price", "order_id", "state", "blob" }.Select(c => types[c]));

        await using (var connection = server.Connect())
        {
            await connection.OpenAsync();
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT {string.Join(", ", new[] { "at", "at_us", "day", "price", "order_id", "state", "blob" }.Select(server.Quote))} FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1";
            await using var reader = await select.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            var at = reader.GetDateTime(0);
            Assert.Equal(TypedWebSchemas.At, at.Kind == DateTimeKind.Local ? at.ToUniversalTime() : DateTime.SpecifyKind(at, DateTimeKind.Utc)); // UTC, to the millisecond
            var atMicros = reader.GetDateTime(1);
            Assert.Equal(TypedWebSchemas.AtMicros, atMicros.Kind == DateTimeKind.Local ? atMicros.ToUniversalTime() : DateTime.SpecifyKind(atMicros, DateTimeKind.Utc));
            Assert.Equal(new DateTime(2026, 12, 7), reader.GetDateTime(2));
            Assert.Equal(-1234.50m, reader.GetDecimal(3));
            Assert.Equal(TypedWebSchemas.OrderId, Convert.ToString(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("PAID", reader.GetString(5));
            Assert.Equal(TypedWebSchemas.Blob, (byte[])reader.GetValue(6));
        }
        Assert.IsType<DBNull>(await server.ScalarAsync($"SELECT {server.Quote("blob")} FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 2"));
        Assert.Equal("2026-12-07 12:00:00.123", Convert.ToString(await server.ScalarAsync(pg
            ? $"SELECT to_char(\"at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"
            : $"SELECT DATE_FORMAT(`at`, '%Y-%m-%d %H:%i:%s.%f') FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"), System.Globalization.CultureInfo.InvariantCulture)![..23]);

        // Another log type with a wider price: the numeric(9,2) column keeps its precision, and a value beyond it is
        // refused by the server and dead-lettered, that record alone.
        var wide = TypedWebSchemas.Compile(TypedWebSchemas.Logical.Replace("\"precision\":9", "\"precision\":12", StringComparison.Ordinal));
        var big = TypedWebSchemas.LogicalValues();
        big["price"] = "1234567890.5";
        report = await delivery.DeliverAsync([TypedRecord(wide, 3, big), TypedRecord(wide, 4, TypedWebSchemas.LogicalValues())], CancellationToken.None);
        Assert.Equal(1, report.Delivered);
        var letter = Assert.Single(deadLetters.Letters);
        Assert.Equal(3, letter.Record.Offset);
        Assert.Contains(pg ? "22003" : "1264", letter.Reason, StringComparison.Ordinal);
        Assert.Equal(3L, Convert.ToInt64(await server.ScalarAsync($"SELECT COUNT(*) FROM {server.Quote(_table)}"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Arrays_and_maps_get_typed_columns_and_a_compatible_evolution_adds_a_column()
    {
        var pg = server == SqlTestServer.PostgreSql;
        var basket = TypedWebSchemas.Compile(TypedWebSchemas.Basket);
        var deadLetters = new RecordingDeadLetters();
        await using var sink = server.CreateSink(Options(), "sql");
        await sink.OpenAsync(CancellationToken.None);
        var delivery = new SinkDelivery(sink, FastRetry, deadLetters);
        var empty = new Dictionary<string, string> { ["codes"] = "[]", ["counts"] = "{}" }; // tags null, seen its default []
        var report = await delivery.DeliverAsync([TypedRecord(basket, 1, TypedWebSchemas.BasketValues()), TypedRecord(basket, 2, empty), .. Records(3, 1)], CancellationToken.None);
        Assert.True(report.Delivered == 3, string.Join("; ", deadLetters.Letters.Select(l => l.Reason)));

        // PostgreSQL: T[] of the items' type, jsonb for a map; MySQL/MariaDB: JSON (MariaDB's is a longtext with a json_valid check).
        var types = await ColumnTypesAsync();
        var json = types["codes"] is "json" ? "json" : "longtext";
        var made = new List<string>();
        foreach (var column in new[] { "codes", "tags", "counts", "seen" })
        {
            made.Add(pg
                ? (string)(await server.ScalarAsync($"SELECT pg_typeof({server.Quote(column)})::text FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"))!
                : types[column]);
        }
        Assert.Equal(pg ? ["integer[]", "text[]", "jsonb", "timestamp with time zone[]"] : [json, json, json, json], made);

        await using (var connection = server.Connect())
        {
            await connection.OpenAsync();
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT codes, tags, counts, seen FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1";
            await using var reader = await select.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            if (pg)
            {
                Assert.Equal([200, 404, -1], (int[])reader.GetValue(0));
                Assert.Equal(TypedWebSchemas.Tags, (string[])reader.GetValue(1)); // quotes, backslash, comma, braces and "NULL" as they were
                Assert.Equal(TypedWebSchemas.At, ((DateTime[])reader.GetValue(3)).Single().ToUniversalTime()); // to the millisecond
            }
            else
            {
                Assert.Equal([200, 404, -1], JsonSerializer.Deserialize<int[]>(reader.GetString(0))!);
                Assert.Equal(TypedWebSchemas.Tags, JsonSerializer.Deserialize<string[]>(reader.GetString(1))!);
                Assert.Equal(["2026-12-07T12:00:00.123Z"], JsonSerializer.Deserialize<string[]>(reader.GetString(3))!);
            }
            Assert.Equal(new Dictionary<string, long> { ["apples"] = 3, ["pears"] = 12 }, JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(2)));
        }
        // The server reads into them: an array's item, a map's key.
        Assert.Equal(404L, Convert.ToInt64(await server.ScalarAsync(pg
            ? $"SELECT codes[2] FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"
            : $"SELECT JSON_EXTRACT(codes, '$[1]') FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(12L, Convert.ToInt64(await server.ScalarAsync(pg
            ? $"SELECT (counts->>'pears')::bigint FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"
            : $"SELECT JSON_EXTRACT(counts, '$.pears') FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsType<DBNull>(await server.ScalarAsync($"SELECT tags FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 2")); // a null optional
        Assert.Equal(0L, Convert.ToInt64(await server.ScalarAsync(pg
            ? $"SELECT cardinality(codes) FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 2"
            : $"SELECT JSON_LENGTH(codes) FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 2"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsType<DBNull>(await server.ScalarAsync($"SELECT codes FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 3")); // untyped row

        // Version 2 promotes codes to longs (Avro: array<int> → array<long>) and adds a map: its column is added. The
        // integer[] column keeps its type, so a long beyond it is refused by PostgreSQL and dead-lettered; JSON holds any number.
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.BasketV2);
        var wide = TypedWebSchemas.BasketValues();
        wide["codes"] = "[3000000000]";
        var notes = TypedWebSchemas.BasketValues();
        notes["notes"] = """{"gift": "yes", "wrap": "red \"bow\""}""";
        report = await delivery.DeliverAsync([TypedRecord(v2, 10, notes), TypedRecord(v2, 11, wide)], CancellationToken.None);
        Assert.Equal(pg ? 1 : 2, report.Delivered);
        if (pg) Assert.Contains("22003", Assert.Single(deadLetters.Letters).Reason, StringComparison.Ordinal);
        else
        {
            var codes = (string)(await server.ScalarAsync($"SELECT codes FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 11"))!;
            Assert.Equal([3_000_000_000L], JsonSerializer.Deserialize<long[]>(codes)!);
        }
        types = await ColumnTypesAsync();
        Assert.Equal(pg ? "jsonb" : json, types["notes"]);
        Assert.Equal(new Dictionary<string, string> { ["gift"] = "yes", ["wrap"] = "red \"bow\"" },
            JsonSerializer.Deserialize<Dictionary<string, string>>((string)(await server.ScalarAsync($"SELECT notes FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 10"))!));
    }

    [Fact]
    public async Task Arrays_of_decimals_bytes_dates_uuids_enums_and_doubles_are_stored_exactly()
    {
        var pg = server == SqlTestServer.PostgreSql;
        var items = TypedWebSchemas.Compile(TypedWebSchemas.LogicalItems);
        var deadLetters = new RecordingDeadLetters();
        await using var sink = server.CreateSink(Options(), "sql");
        await sink.OpenAsync(CancellationToken.None);
        var report = await new SinkDelivery(sink, FastRetry, deadLetters).DeliverAsync([TypedRecord(items, 1, TypedWebSchemas.LogicalItemValues())], CancellationToken.None);
        Assert.True(report.Delivered == 1, string.Join("; ", deadLetters.Letters.Select(l => l.Reason)));

        var columns = new[] { "prices", "blobs", "days", "ids", "states", "ratios", "dues" };
        await using var connection = server.Connect();
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT {string.Join(", ", columns)} FROM {server.Quote(_table)} WHERE {server.Quote("offset")} = 1";
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        byte[] quoteBackslash = [0x22, 0x5C];
        if (pg)
        {
            Assert.Equal([-1234.50m, 0.25m], (decimal[])reader.GetValue(0));
            Assert.Equal([TypedWebSchemas.Blob, quoteBackslash], (byte[][])reader.GetValue(1)); // a quote, a backslash, 0xFF: through the literal
            Assert.Equal([new DateOnly(2026, 12, 7), new DateOnly(1970, 1, 1)], (DateOnly[])reader.GetValue(2));
            Assert.Equal([Guid.Parse(TypedWebSchemas.OrderId)], (Guid[])reader.GetValue(3));
            Assert.Equal(["PAID", "NEW"], (string[])reader.GetValue(4));
            Assert.Equal([0.1, 1e300, -2.5], (double[])reader.GetValue(5));
        }
        else
        {
            Assert.Equal(["-1234.50", "0.25"], JsonSerializer.Deserialize<string[]>(reader.GetString(0))!); // exact, as text
            Assert.Equal([TypedWebSchemas.Blob, quoteBackslash], JsonSerializer.Deserialize<string[]>(reader.GetString(1))!.Select(Convert.FromBase64String));
            Assert.Equal(["2026-12-07", "1970-01-01"], JsonSerializer.Deserialize<string[]>(reader.GetString(2))!);
            Assert.Equal([TypedWebSchemas.OrderId], JsonSerializer.Deserialize<string[]>(reader.GetString(3))!);
            Assert.Equal(["PAID", "NEW"], JsonSerializer.Deserialize<string[]>(reader.GetString(4))!);
            Assert.Equal([0.1, 1e300, -2.5], JsonSerializer.Deserialize<double[]>(reader.GetString(5))!);
        }
        Assert.Equal(new Dictionary<string, string> { ["tea"] = "3.50" }, JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6)));
    }
}

[Trait("Category", TestCategories.Integration)]
public sealed class PostgreSqlSinkTests() : SqlSinkTests(SqlTestServer.PostgreSql);

[Trait("Category", TestCategories.Integration)]
public sealed class MariaDbSinkTests() : SqlSinkTests(SqlTestServer.MariaDb);
