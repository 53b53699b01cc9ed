using System.Globalization;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.ClickHouse;

/// <summary>A typed log type's fields in columns of their own (docs/schemas.md, "Type mappings"), on the real server.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ClickHouseTypedColumnsTests : IAsyncLifetime
{
    private const string Topic = "nwdp.logs.web";
    private static readonly long TenOClock = TypedWebSchemas.TenOClock;

    // Version 1, then 2, which adds an optional field and promotes status to long (as the SQL sinks' tests).
    private const string WebV1 = TypedWebSchemas.V1;
    private const string WebV2 = TypedWebSchemas.V2;

    private static readonly string[] V1Columns = ["status", "bytes", "latency_ms", "ratio", "cached", "user"];

    private readonly string _table = ClickHouseServer.UniqueTable("typed");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClickHouseServer.QueryAsync($"DROP TABLE IF EXISTS `{_table}`");

    private ClickHouseSink Sink(bool createTable = true, string name = "clickhouse") =>
        new(new ClickHouseSinkOptions { Url = ClickHouseServer.Url, Table = _table, CreateTable = createTable }, name);

    private static LogEvent Event(long offset, IReadOnlyDictionary<string, string>? attributes = null) => TypedWebSchemas.Event(offset, attributes: attributes);

    private static List<SinkRecord> Records(long from, int count) =>
        Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, 0, from + i, Event(from + i))).ToList();

    // Ids are process-wide (TypedLogSchemas): each test its own.
    private static TypedLogSchema TypedSchema(string attributes) => TypedWebSchemas.Compile(attributes);

    // As the pump hands it over: encoded by ingress, decoded from its frame.
    private static SinkRecord TypedRecord(TypedLogSchema schema, long offset, Dictionary<string, string> attributes) =>
        TypedWebSchemas.Record(schema, Topic, offset, Event(offset, attributes));

    private async Task<Dictionary<string, string>> ColumnTypesAsync() =>
        (await ClickHouseServer.RowsAsync($"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{_table}'"))
        .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("type").GetString()!);

    private async Task<List<JsonElement>> RowsAsync(string columns) =>
        await ClickHouseServer.RowsAsync($"SELECT {columns} FROM `{_table}` FINAL ORDER BY offset");

    [Fact]
    public async Task A_typed_log_type_gets_typed_columns_a_new_field_adds_one_and_a_value_that_does_not_fit_is_dead_lettered()
    {
        var v1 = TypedSchema(WebV1);
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var batch = Records(0, 2); // plain rows in the same batch (the same INSERT) keep today's layout
        batch.Add(TypedRecord(v1, 2, new() { ["status"] = "200", ["bytes"] = "1534", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }));
        batch.Add(TypedRecord(v1, 3, new() { ["status"] = "-404", ["bytes"] = "3000000000", ["latency_ms"] = "1e300", ["ratio"] = "1" }));
        var first = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(first.IsAllDelivered, string.Join("; ", first.Reasons ?? []));

        var types = await ColumnTypesAsync();
        Assert.Equal(["Nullable(Int32)", "Nullable(Int64)", "Nullable(Float64)", "Nullable(Float32)", "Nullable(UInt8)", "Nullable(String)"], V1Columns.Select(c => types[c]));

        var rows = await RowsAsync("offset, status, bytes, latency_ms, ratio, cached, user, attributes.key, attributes.value, message, host");
        Assert.Equal(4, rows.Count);
        Assert.All(rows.Take(2), r => Assert.All(V1Columns, c => Assert.Equal(JsonValueKind.Null, r.GetProperty(c).ValueKind))); // plain: no typed values
        // Numbers as numbers (Int64 quoted, as ClickHouse prints it), not the attribute's text.
        Assert.Equal(200, rows[2].GetProperty("status").GetInt32());
        Assert.Equal(-404, rows[3].GetProperty("status").GetInt32());
        Assert.Equal(3_000_000_000L, ClickHouseServer.Int64(rows[3].GetProperty("bytes")));
        Assert.Equal(12.5, rows[2].GetProperty("latency_ms").GetDouble());
        Assert.Equal(1e300, rows[3].GetProperty("latency_ms").GetDouble());
        Assert.Equal(0.25f, rows[2].GetProperty("ratio").GetSingle());
        Assert.Equal(1, rows[2].GetProperty("cached").GetInt32());
        Assert.Equal(0, rows[3].GetProperty("cached").GetInt32()); // the field's default
        Assert.Equal("ann", rows[2].GetProperty("user").GetString());
        Assert.Equal(JsonValueKind.Null, rows[3].GetProperty("user").ValueKind);
        // Typed fields leave the attributes; the other keys stay there as strings. Plain rows keep all theirs.
        Assert.Equal(["path"], rows[2].GetProperty("attributes.key").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["/a"], rows[2].GetProperty("attributes.value").EnumerateArray().Select(k => k.GetString()));
        Assert.Empty(rows[3].GetProperty("attributes.key").EnumerateArray());
        Assert.Equal(["path", "user"], rows[0].GetProperty("attributes.key").EnumerateArray().Select(k => k.GetString()).Order());
        Assert.Equal(["/plain", "4711"], rows[0].GetProperty("attributes.value").EnumerateArray().Select(k => k.GetString()).Order());
        Assert.Equal(("message 2", "web-01"), (rows[2].GetProperty("message").GetString(), rows[2].GetProperty("host").GetString()));

        // Version 2 adds region: two writers of the table (this sink and a second, as two nodes) meet it at once, and
        // both add the column or find it added. 3,000,000,000 fits the long field, not the Int32 column: dead-lettered.
        var v2 = TypedSchema(WebV2);
        await using var other = Sink(name: "clickhouse-2");
        await other.OpenAsync(CancellationToken.None);
        var results = await Task.WhenAll(
            sink.WriteAsync([TypedRecord(v2, 10, new() { ["status"] = "201", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "eu" }),
                TypedRecord(v2, 11, new() { ["status"] = "3000000000", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" })], CancellationToken.None),
            other.WriteAsync([TypedRecord(v2, 12, new() { ["status"] = "202", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "us" })], CancellationToken.None));
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected], results[0].Outcomes);
        Assert.Contains("typed field 'status' is 3000000000, beyond the Int32 column status", results[0].Reasons![1], StringComparison.Ordinal);
        Assert.Contains("MODIFY COLUMN `status` Nullable(Int64)", results[0].Reasons![1], StringComparison.Ordinal);
        Assert.True(results[1].IsAllDelivered, string.Join("; ", results[1].Reasons ?? []));

        types = await ColumnTypesAsync();
        Assert.Equal("Nullable(String)", types["region"]);
        Assert.Equal("Nullable(Int32)", types["status"]); // a column keeps its type
        rows = await RowsAsync("offset, status, region");
        Assert.Equal([(0L, null, null), (1L, null, null), (2L, 200, null), (3L, -404, null), (10L, 201, "eu"), (12L, 202, "us")],
            rows.Select(r => (ClickHouseServer.Int64(r.GetProperty("offset")),
                r.GetProperty("status").ValueKind == JsonValueKind.Null ? (int?)null : r.GetProperty("status").GetInt32(),
                r.GetProperty("region").GetString())));
    }

    [Fact]
    public async Task A_typed_field_the_table_cannot_take_dead_letters_its_schemas_records_with_the_reason()
    {
        var v1 = TypedSchema(WebV1);
        var good = new Dictionary<string, string> { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" };
        await using (var sink = Sink())
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(0, 1), CancellationToken.None)).IsAllDelivered);
        }

        // A DBA's table (create-table = off) without the typed columns: the reason is the ALTER to run.
        await using (var sink = Sink(createTable: false))
        {
            await sink.OpenAsync(CancellationToken.None);
            var result = await sink.WriteAsync([TypedRecord(v1, 1, good), .. Records(2, 1)], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
            Assert.Contains("create-table = off", result.Reasons![0], StringComparison.Ordinal);
            Assert.Contains($"ALTER TABLE `default`.`{_table}` ADD COLUMN `status` Nullable(Int32)", result.Reasons![0], StringComparison.Ordinal);
        }
        Assert.DoesNotContain("status", (await ColumnTypesAsync()).Keys);

        // Another log type made status a String column: this type's int cannot go there.
        await ClickHouseServer.QueryAsync($"ALTER TABLE `{_table}` ADD COLUMN status Nullable(String)");
        await using (var sink = Sink())
        {
            await sink.OpenAsync(CancellationToken.None);
            var result = await sink.WriteAsync([TypedRecord(v1, 3, good)], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected], result.Outcomes);
            Assert.Contains("column status of table", result.Reasons![0], StringComparison.Ordinal);
            Assert.Contains("is Nullable(String), which cannot hold typed field 'status' (int", result.Reasons![0], StringComparison.Ordinal);

            // A field named as a column every row has (not an envelope name, so the registry took it).
            var own = TypedSchema("""{"type":"record","name":"Web","fields":[{"name":"date","type":"string"}]}""");
            result = await sink.WriteAsync([TypedRecord(own, 4, new() { ["date"] = "yesterday" })], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected], result.Outcomes);
            Assert.Contains("typed field 'date'", result.Reasons![0], StringComparison.Ordinal);
            Assert.Contains("has the name of a column every row has", result.Reasons![0], StringComparison.Ordinal);

            // A NaN from a writer other than our ingress: JSONEachRow has no literal for it; that record alone.
            var floats = TypedSchema("""{"type":"record","name":"Web","fields":[{"name":"score","type":"double"}]}""");
            var nan = new SinkRecord(Topic, 0, 5, Event(5, LogEvent.NoAttributes) with { Typed = new TypedValues(floats, [new TypedValue(true, Real: double.NaN)]) });
            result = await sink.WriteAsync([nan, TypedRecord(floats, 6, new() { ["score"] = "0.5" })], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
            Assert.Contains("typed field 'score' is NaN", result.Reasons![0], StringComparison.Ordinal);
        }
        var rows = await RowsAsync("offset, score");
        Assert.Equal([(0L, null), (2L, null), (6L, 0.5)],
            rows.Select(r => (ClickHouseServer.Int64(r.GetProperty("offset")), r.GetProperty("score").ValueKind == JsonValueKind.Null ? (double?)null : r.GetProperty("score").GetDouble())));
    }

    [Fact]
    public void A_plain_row_is_written_as_before_and_a_typed_row_names_its_columns()
    {
        var plain = new SinkRecord(Topic, 1, 7, Event(7));
        var body = new System.Buffers.ArrayBufferWriter<byte>();
        ClickHouseRows.Write(plain, body);
        var text = System.Text.Encoding.UTF8.GetString(body.WrittenSpan);
        Assert.Contains("\"attributes.key\":[\"user\",\"path\"],\"attributes.value\":[\"4711\",\"/plain\"]", text, StringComparison.Ordinal);
        Assert.EndsWith(",\"lineage_sender\":\"\"}\n", text, StringComparison.Ordinal);

        var v1 = TypedSchema(WebV1);
        var typed = TypedRecord(v1, 8, new() { ["status"] = "200", ["bytes"] = "-1", ["latency_ms"] = "0.1", ["ratio"] = "0.1", ["path"] = "/a" });
        var layout = Actors.Sinks.Sql.SqlTypedLayout.Writable(v1, v1.Fields.Select((f, i) => new Actors.Sinks.Sql.SqlTypedColumn(f.Name, f.Kind, i)).ToList());
        body.Clear();
        ClickHouseRows.Write(typed, body, layout.Columns);
        text = System.Text.Encoding.UTF8.GetString(body.WrittenSpan);
        Assert.Contains("\"attributes.key\":[\"path\"],\"attributes.value\":[\"/a\"]", text, StringComparison.Ordinal);
        Assert.EndsWith(",\"lineage_sender\":\"\",\"status\":200,\"bytes\":-1,\"latency_ms\":0.1,\"ratio\":0.1,\"cached\":false,\"user\":null}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logical_types_enum_and_bytes_get_typed_columns_and_a_date_before_1970_is_dead_lettered()
    {
        var orders = TypedSchema(TypedWebSchemas.Logical);
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var nulls = TypedWebSchemas.LogicalValues();
        nulls.Remove("at_us");
        nulls.Remove("blob");
        var early = TypedWebSchemas.LogicalValues();
        early["day"] = "1969-12-31"; // ClickHouse's Date starts at 1970-01-01: it would store it wrapped around
        var result = await sink.WriteAsync([TypedRecord(orders, 1, TypedWebSchemas.LogicalValues()), TypedRecord(orders, 2, nulls), TypedRecord(orders, 3, early)], CancellationToken.None);
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("typed field 'day' is 1969-12-31, outside the dates ClickHouse's Date holds", result.Reasons![2], StringComparison.Ordinal);

        var types = await ColumnTypesAsync();
        var dateTime64 = types["at"].Contains("DateTime64", StringComparison.Ordinal); // 20.1 on; 18.x: Int64 of epoch units
        Assert.Equal(
            [dateTime64 ? "Nullable(DateTime64(3, 'UTC'))" : "Nullable(Int64)", dateTime64 ? "Nullable(DateTime64(6, 'UTC'))" : "Nullable(Int64)",
             "Nullable(Date)", "Nullable(Decimal(9, 2))", "Nullable(UUID)", "Nullable(String)", "Nullable(String)"],
            new[] { "at", "at_us", "day", "price", "order_id", "state", "blob" }.Select(c => types[c]));

        var rows = await RowsAsync("offset, toString(at) AS at, toString(at_us) AS at_us, toString(day) AS day, toString(price) AS price, toString(order_id) AS order_id, state, hex(blob) AS blob, attributes.key");
        Assert.Equal(2, rows.Count);
        var row = rows[0];
        var epochMillis = new DateTimeOffset(TypedWebSchemas.At).ToUnixTimeMilliseconds();
        Assert.Equal(dateTime64 ? "2026-12-07 12:00:00.123" : epochMillis.ToString(System.Globalization.CultureInfo.InvariantCulture), row.GetProperty("at").GetString());
        Assert.Equal(dateTime64 ? "2026-12-07 12:00:00.123456" : (epochMillis * 1000 + 456).ToString(System.Globalization.CultureInfo.InvariantCulture), row.GetProperty("at_us").GetString());
        Assert.Equal("2026-12-07", row.GetProperty("day").GetString());
        Assert.Equal("-1234.50", row.GetProperty("price").GetString());
        Assert.Equal(TypedWebSchemas.OrderId, row.GetProperty("order_id").GetString());
        Assert.Equal("PAID", row.GetProperty("state").GetString());
        Assert.Equal(Convert.ToHexString(TypedWebSchemas.Blob), row.GetProperty("blob").GetString()); // the bytes themselves, 0xFF included
        Assert.Equal(["path"], row.GetProperty("attributes.key").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("at_us").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("blob").ValueKind);
    }

    [Fact]
    public async Task Arrays_get_array_columns_maps_their_JSON_text_and_a_long_beyond_an_Int32_item_is_dead_lettered()
    {
        var basket = TypedSchema(TypedWebSchemas.Basket);
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var empty = new Dictionary<string, string> { ["codes"] = "[]", ["counts"] = "{}" }; // tags null, seen its default []
        var result = await sink.WriteAsync([TypedRecord(basket, 1, TypedWebSchemas.BasketValues()), TypedRecord(basket, 2, empty), .. Records(3, 1)], CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons ?? []));

        var types = await ColumnTypesAsync();
        var dateTime64 = types["seen"].Contains("DateTime64", StringComparison.Ordinal);
        Assert.Equal(["Array(Int32)", "Array(String)", "Nullable(String)", dateTime64 ? "Array(DateTime64(3, 'UTC'))" : "Array(Int64)"],
            new[] { "codes", "tags", "counts", "seen" }.Select(c => types[c]));

        var rows = await RowsAsync("offset, codes, tags, counts, arrayMap(x -> toString(x), seen) AS seen, codes[2] AS second, visitParamExtractInt(counts, 'pears') AS pears");
        Assert.Equal(3, rows.Count);
        Assert.Equal([200, 404, -1], rows[0].GetProperty("codes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(TypedWebSchemas.Tags, rows[0].GetProperty("tags").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(new Dictionary<string, long> { ["apples"] = 3, ["pears"] = 12 }, JsonSerializer.Deserialize<Dictionary<string, long>>(rows[0].GetProperty("counts").GetString()!));
        var epochMillis = new DateTimeOffset(TypedWebSchemas.At).ToUnixTimeMilliseconds();
        Assert.Equal(dateTime64 ? "2026-12-07 12:00:00.123" : epochMillis.ToString(CultureInfo.InvariantCulture), rows[0].GetProperty("seen").EnumerateArray().Single().GetString());
        Assert.Equal(404, rows[0].GetProperty("second").GetInt32()); // the server reads into them
        Assert.Equal(12, ClickHouseServer.Int64(rows[0].GetProperty("pears")));
        Assert.Empty(rows[1].GetProperty("tags").EnumerateArray()); // a null array reads empty: ClickHouse has no Nullable(Array)
        Assert.Empty(rows[1].GetProperty("codes").EnumerateArray());
        Assert.Equal("{}", rows[1].GetProperty("counts").GetString());
        Assert.Empty(rows[2].GetProperty("codes").EnumerateArray()); // a plain row
        Assert.Equal(JsonValueKind.Null, rows[2].GetProperty("counts").ValueKind);

        // Version 2 promotes codes to longs and adds a map: its column is added; a long beyond the Array(Int32) column is
        // dead-lettered (ClickHouse would store it wrapped around), naming the item and the statement that widens it.
        var v2 = TypedSchema(TypedWebSchemas.BasketV2);
        var notes = TypedWebSchemas.BasketValues();
        notes["notes"] = """{"gift": "yes"}""";
        var wide = TypedWebSchemas.BasketValues();
        wide["codes"] = "[1, 3000000000]";
        result = await sink.WriteAsync([TypedRecord(v2, 10, notes), TypedRecord(v2, 11, wide)], CancellationToken.None);
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("typed field 'codes' item 1 is 3000000000, beyond the Int32 column codes", result.Reasons![1], StringComparison.Ordinal);
        Assert.Contains("MODIFY COLUMN `codes` Array(Int64)", result.Reasons![1], StringComparison.Ordinal);
        Assert.Equal("Nullable(String)", (await ColumnTypesAsync())["notes"]);
        Assert.Equal("""{"gift":"yes"}""", (await RowsAsync("notes")).Select(r => r.GetProperty("notes")).Single(n => n.ValueKind == JsonValueKind.String).GetString());
    }

    [Fact]
    public async Task Arrays_of_decimals_bytes_dates_uuids_enums_and_doubles_are_stored_exactly()
    {
        var items = TypedSchema(TypedWebSchemas.LogicalItems);
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync([TypedRecord(items, 1, TypedWebSchemas.LogicalItemValues())], CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons ?? []));

        var types = await ColumnTypesAsync();
        Assert.Equal(["Array(Decimal(6, 2))", "Array(String)", "Array(Date)", "Array(UUID)", "Array(String)", "Array(Float64)", "Nullable(String)"],
            new[] { "prices", "blobs", "days", "ids", "states", "ratios", "dues" }.Select(c => types[c]));
        var row = Assert.Single(await RowsAsync(
            "arrayMap(x -> toString(x), prices) AS prices, arrayMap(x -> hex(x), blobs) AS blobs, arrayMap(x -> toUInt16(x), days) AS days, " +
            "arrayMap(x -> toString(x), ids) AS ids, states, arrayMap(x -> toString(x), ratios) AS ratios, dues"));
        string[] Strings(string column) => row.GetProperty(column).EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["-1234.50", "0.25"], Strings("prices"));
        Assert.Equal([Convert.ToHexString(TypedWebSchemas.Blob), "225C"], Strings("blobs")); // the bytes themselves, 0xFF and a quote included
        // Days since 1970-01-01 (18.x prints day 0, the zero date, as 0000-00-00).
        Assert.Equal([new DateOnly(2026, 12, 7).DayNumber - new DateOnly(1970, 1, 1).DayNumber, 0], row.GetProperty("days").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([TypedWebSchemas.OrderId], Strings("ids"));
        Assert.Equal(["PAID", "NEW"], Strings("states"));
        Assert.Equal([0.1, 1e300, -2.5], Strings("ratios").Select(r => double.Parse(r, CultureInfo.InvariantCulture)));
        Assert.Equal("""{"tea":"3.50"}""", row.GetProperty("dues").GetString());
    }
}
