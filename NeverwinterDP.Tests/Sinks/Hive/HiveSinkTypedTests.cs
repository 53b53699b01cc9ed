using System.Globalization;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Hive;

/// <summary>
/// Typed log types in the Hive sink's Parquet files (docs/schemas.md, "Type mappings to the stores"), read back by
/// DuckDB: one optional column per typed field after the fixed columns, the typed values out of the attributes map,
/// the matching Hive types in create_table.sql, and an evolved schema as a new column in new files and an ALTER line.
/// </summary>
public class HiveSinkTypedTests : IDisposable
{
    private const string Topic = "nwdp.logs.mixed";
    private const string Table = "nwdp_logs_mixed";

    /// <summary>2024-03-05T10:00:00Z.</summary>
    private static readonly long TenOClock = TypedWebSchemas.TenOClock;

    private static readonly string[] V1Columns = ["status", "bytes", "latency_ms", "ratio", "cached", "user"];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root => Path.Combine(_dir.Path, "hive");

    private string CreateTableSql => File.ReadAllText(Path.Combine(Root, Table, "_ddl", "create_table.sql"));

    private HiveSink Sink(string? root = null, HiveFormat format = HiveFormat.Parquet) =>
        new(new HiveSinkOptions { Directory = root ?? Root, Format = format });

    private static LogEvent Event(long offset, string type = "web", IReadOnlyDictionary<string, string>? attributes = null) => TypedWebSchemas.Event(offset, type, attributes);

    private static SinkRecord Plain(long offset, string type = "web") => new(Topic, 0, offset, Event(offset, type));

    private static SinkRecord Typed(TypedLogSchema schema, long offset, Dictionary<string, string> attributes, string type = "web") =>
        TypedWebSchemas.Record(schema, Topic, offset, Event(offset, type, attributes));

    private static async Task WriteAndFlush(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons?.Where(r => r is not null) ?? []));
        await sink.FlushAsync(CancellationToken.None);
    }

    private List<string> FilesOf(string type, string? root = null) =>
        Directory.GetFiles(Path.Combine(root ?? Root, Table, "type=" + type), "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    private static List<(string Name, string Type)> Describe(string file) =>
        DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(file)}, hive_partitioning = false)").Select(r => ((string)r[0]!, (string)r[1]!)).ToList();

    [Fact]
    public async Task Typed_fields_are_optional_parquet_columns_of_their_types_after_the_fixed_ones_and_leave_the_attributes()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var batch = new List<SinkRecord>
        {
            Plain(0, type: "api"), // an untyped type of the same topic
            Typed(v1, 1, new() { ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }),
            Typed(v1, 2, new() { ["status"] = "-404", ["bytes"] = "1", ["latency_ms"] = "1e300", ["ratio"] = "1" }), // user null, cached its default
            Plain(3), // a web event written untyped (before the schema was registered): nulls in the typed columns
            Plain(4, type: "api"),
        };
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, batch);
        }

        var web = Assert.Single(FilesOf("web"));
        var columns = Describe(web);
        Assert.Equal(15 + V1Columns.Length, columns.Count);
        Assert.Equal("lineage_sender", columns[14].Name); // after the fixed columns, in the schema's order
        Assert.Equal(
            [("status", "INTEGER"), ("bytes", "BIGINT"), ("latency_ms", "DOUBLE"), ("ratio", "FLOAT"), ("cached", "BOOLEAN"), ("user", "VARCHAR")],
            columns[15..]);
        // The Parquet types themselves, all optional.
        var physical = DuckDb.Query($"SELECT name, type, repetition_type FROM parquet_schema({DuckDb.Literal(web)})")
            .Where(r => V1Columns.Contains((string)r[0]!)).ToDictionary(r => (string)r[0]!, r => ((string)r[1]!, (string)r[2]!));
        Assert.Equal(
            [("INT32", "OPTIONAL"), ("INT64", "OPTIONAL"), ("DOUBLE", "OPTIONAL"), ("FLOAT", "OPTIONAL"), ("BOOLEAN", "OPTIONAL"), ("BYTE_ARRAY", "OPTIONAL")],
            V1Columns.Select(c => physical[c]));

        var rows = DuckDb.Query(
            "SELECT \"offset\", status, bytes, latency_ms, ratio, cached, \"user\", typeof(status), typeof(ratio), to_json(attributes)::VARCHAR, message " +
            $"FROM read_parquet({DuckDb.Literal(web)}) ORDER BY \"offset\"");
        Assert.Equal(3, rows.Count);
        Assert.Equal([1L, 200, 3_000_000_000L, 12.5, 0.25f, true, "ann", "INTEGER", "FLOAT"], rows[0][..9]);
        Assert.Equal([2L, -404, 1L, 1e300, 1f, false, null], rows[1][..7]);
        Assert.Equal([3L, null, null, null, null, null, null], rows[2][..7]);
        // The typed values leave the map; other keys stay as strings. The untyped row keeps all of its.
        Assert.Equal("""{"path":"/a"}""", rows[0][9]);
        Assert.Equal("{}", rows[1][9]);
        Assert.Equal("""{"user":"4711","path":"/plain"}""", rows[2][9]);
        Assert.Equal("message 1", rows[0][10]);

        // The untyped type's file is byte for byte what a sink that never met a typed record writes.
        var alone = Path.Combine(_dir.Path, "alone");
        await using (var sink = Sink(alone))
        {
            await WriteAndFlush(sink, [batch[0], batch[4]]);
        }
        var api = Assert.Single(FilesOf("api"));
        Assert.Equal(Path.GetFileName(Assert.Single(FilesOf("api", alone))), Path.GetFileName(api));
        Assert.Equal(await File.ReadAllBytesAsync(Assert.Single(FilesOf("api", alone))), await File.ReadAllBytesAsync(api));
        Assert.Equal(15, Describe(api).Count);

        // The table declares them with the Hive types, after the fixed columns.
        Assert.Contains(
            "  `lineage_sender` STRING,\n  `status` INT,\n  `bytes` BIGINT,\n  `latency_ms` DOUBLE,\n  `ratio` FLOAT,\n  `cached` BOOLEAN,\n  `user` STRING\n)\n",
            CreateTableSql, StringComparison.Ordinal);
        Assert.DoesNotContain("ALTER", CreateTableSql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_evolved_schema_gets_its_new_column_in_new_files_and_an_alter_line_old_files_untouched_and_a_restart_adds_none()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2); // adds region, promotes status to long
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(v1, 0, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" })]);
            var first = Assert.Single(FilesOf("web"));
            var firstBytes = await File.ReadAllBytesAsync(first);
            var sqlBefore = CreateTableSql;

            // In one batch, into the same hour's open file: version 2 does not fit the file started with version 1, so
            // that file is published and another starts; version 1 after it fits the new one (an int in a BIGINT column).
            await WriteAndFlush(sink,
            [
                Typed(v1, 1, new() { ["status"] = "201", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" }),
                Typed(v2, 2, new() { ["status"] = "3000000000", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "eu" }),
                Typed(v2, 3, new() { ["status"] = "7", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" }), // region null
                Typed(v1, 4, new() { ["status"] = "202", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" }),
            ]);

            var files = FilesOf("web");
            Assert.Equal(3, files.Count);
            Assert.Equal(first, files[0]);
            Assert.Equal(firstBytes, await File.ReadAllBytesAsync(first)); // never rewritten
            Assert.DoesNotContain(Describe(files[1]), c => c.Name == "region");
            Assert.Contains(("status", "INTEGER"), Describe(files[1]));
            var evolved = Describe(files[2]);
            Assert.Equal([("status", "BIGINT"), ("bytes", "BIGINT"), ("latency_ms", "DOUBLE"), ("ratio", "FLOAT"), ("cached", "BOOLEAN"), ("user", "VARCHAR"), ("region", "VARCHAR")], evolved[15..]);

            var rows = DuckDb.Query(
                $"SELECT \"offset\", status, region, typeof(status) FROM read_parquet({DuckDb.Literal(Path.Combine(Root, Table, "**", "*.parquet"))}, union_by_name = true) ORDER BY \"offset\"");
            Assert.Equal(
                [(0L, 200L, null), (1L, 201L, null), (2L, 3_000_000_000L, "eu"), (3L, 7L, null), (4L, 202L, null)],
                rows.Select(r => ((long)r[0]!, Convert.ToInt64(r[1], CultureInfo.InvariantCulture), (string?)r[2])));
            Assert.All(rows, r => Assert.Equal("BIGINT", r[3]));

            // Hive's way: the CREATE TABLE as it was, then the changes (CASCADE: partitions registered already see them too).
            Assert.Equal(
                sqlBefore
                + $"ALTER TABLE `{Table}` CHANGE COLUMN `status` `status` BIGINT CASCADE;\n"
                + $"ALTER TABLE `{Table}` ADD COLUMNS (`region` STRING) CASCADE;\n",
                CreateTableSql);
        }

        // A restart reads the columns back from create_table.sql: version 2 adds nothing, and its files have region.
        var sql = CreateTableSql;
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(v2, 5, new() { ["status"] = "9", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "us" })]);
        }
        Assert.Equal(sql, CreateTableSql);
        var last = FilesOf("web")[^1];
        Assert.Contains(("region", "VARCHAR"), Describe(last));
        Assert.Equal([9L, "us"], DuckDb.Query($"SELECT status, region FROM read_parquet({DuckDb.Literal(last)})").Single());
    }

    [Fact]
    public async Task A_typed_field_the_table_cannot_take_dead_letters_its_schemas_records_with_the_reason()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        // Another type of the same topic (so the same table) with a string status; and one with a field named as a fixed column.
        var shop = Compile("shop", """{"type":"record","name":"Shop","fields":[{"name":"status","type":"string"},{"name":"sku","type":"string"}]}""");
        var clash = Compile("clash", """{"type":"record","name":"Clash","fields":[{"name":"Offset","type":"long"}]}""");
        await using var sink = Sink();
        var result = await sink.WriteAsync(
        [
            Typed(v1, 0, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" }),
            Typed(shop, 1, new() { ["status"] = "open", ["sku"] = "x-1" }, type: "shop"),
            Typed(clash, 2, new() { ["Offset"] = "5" }, type: "clash"),
            Plain(3, type: "shop"),
        ], CancellationToken.None);
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected, SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.Contains($"column status of Hive table {Table} is INT, which cannot hold typed field 'status' (string", result.Reasons![1], StringComparison.Ordinal);
        Assert.Contains("typed field 'Offset'", result.Reasons[2], StringComparison.Ordinal);
        Assert.Contains("has the name of a column", result.Reasons[2], StringComparison.Ordinal);
        await sink.FlushAsync(CancellationToken.None);
        // Nothing of the refused schemas reached the DDL; the untyped shop event has a file of the fixed columns.
        Assert.DoesNotContain("sku", CreateTableSql, StringComparison.Ordinal);
        Assert.Equal(15, Describe(Assert.Single(FilesOf("shop"))).Count);
    }

    /// <summary>The Avro table's reader schema now: the last <c>avro.schema.literal</c> in create_table.sql.</summary>
    private Avro.RecordSchema TableLiteral()
    {
        var literal = System.Text.RegularExpressions.Regex.Matches(CreateTableSql, @"'avro\.schema\.literal'='((?:[^'\\]|\\.)*)'").Last().Groups[1].Value;
        return (Avro.RecordSchema)Avro.Schema.Parse(System.Text.RegularExpressions.Regex.Replace(literal, @"\\(.)", "$1"));
    }

    /// <summary>Every record of the table's Avro files of <paramref name="type"/>, read by Apache.Avro with the file's writer schema resolved to <paramref name="reader"/>.</summary>
    private List<Avro.Generic.GenericRecord> ReadAvro(string type, Avro.Schema reader)
    {
        var records = new List<Avro.Generic.GenericRecord>();
        foreach (var file in Directory.GetFiles(Path.Combine(Root, Table, "type=" + type), "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(file);
            using var read = Avro.File.DataFileReader<Avro.Generic.GenericRecord>.OpenReader(stream, reader);
            while (read.HasNext()) records.Add(read.Next());
        }
        return records.OrderBy(r => (string)r["message"], StringComparer.Ordinal).ToList();
    }

    private List<string> Alters() => CreateTableSql.Split('\n').Where(l => l.StartsWith("ALTER TABLE", StringComparison.Ordinal)).ToList();

    private List<string> AvroWriterSchemas(string type) =>
        Directory.GetFiles(Path.Combine(Root, Table, "type=" + type), "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f =>
        {
            using var read = Avro.File.DataFileReader<Avro.Generic.GenericRecord>.OpenReader(f);
            return read.GetSchema().Fullname;
        }).ToList();

    [Fact]
    public async Task Avro_format_writes_typed_fields_as_their_avro_types_under_their_schema_and_the_tables_literal_reads_every_file()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var logical = Compile("orders", TypedWebSchemas.Logical);
        await using (var sink = Sink(format: HiveFormat.Avro))
        {
            await WriteAndFlush(sink, [
                Plain(0, type: "api"),
                Typed(v1, 1, new() { ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }),
                Plain(2), // web, untyped: a LogEvent file of its own (one writer schema per file)
                Typed(v1, 3, new() { ["status"] = "-404", ["bytes"] = "1", ["latency_ms"] = "1e300", ["ratio"] = "1" }),
                Typed(logical, 4, TypedWebSchemas.LogicalValues(), type: "orders"),
            ]);
        }
        Assert.Equal(["neverwinterdp.logs.web", "neverwinterdp.LogEvent", "neverwinterdp.logs.web"], AvroWriterSchemas("web"));
        Assert.Equal(["neverwinterdp.LogEvent"], AvroWriterSchemas("api"));

        // The table's literal has a nullable field per typed column: web's in the CREATE TABLE (met before it was first
        // written), the orders' fields in the one SET TBLPROPERTIES line that follows.
        Assert.Single(Alters());
        Assert.Contains("  `lineage` STRUCT<ingress_node:STRING,source_seq:BIGINT,sender:STRING>,\n  `status` INT,\n  `bytes` BIGINT,", CreateTableSql, StringComparison.Ordinal);
        var literal = TableLiteral();
        Assert.Equal("""["null","int"]""", literal["status"].Schema.ToString());
        Assert.Equal("""["null",{"type":"long","logicalType":"timestamp-millis"}]""", literal["at"].Schema.ToString());
        Assert.Equal("neverwinterdp.logs.State", ((Avro.EnumSchema)((Avro.UnionSchema)literal["state"].Schema).Schemas[1]).Fullname); // the writers' enum's name
        Assert.Null(literal.Fields.FirstOrDefault(f => f.Name == "type")); // the partition column

        // Apache.Avro resolves every file to it: typed values in their types, null where a file's schema has no such field.
        var web = ReadAvro("web", literal);
        Assert.Equal([200, 3_000_000_000L, 12.5, 0.25f, true, "ann"], new[] { "status", "bytes", "latency_ms", "ratio", "cached", "user" }.Select(f => web[0][f]));
        Assert.Equal(new Dictionary<string, object> { ["path"] = "/a" }, (IDictionary<string, object>)web[0]["attributes"]);
        Assert.Null(web[1]["status"]); // the plain web event: its values stay string attributes
        Assert.Equal("4711", ((IDictionary<string, object>)web[1]["attributes"])["user"]);
        Assert.Equal(-404, web[2]["status"]);
        Assert.Null(web[0]["at"]);
        var order = Assert.Single(ReadAvro("orders", literal));
        Assert.Equal(TypedWebSchemas.At, ((DateTime)order["at"]).ToUniversalTime());
        Assert.Equal("PAID", ((Avro.Generic.GenericEnum)order["state"]).Value);
        Assert.Equal(TypedWebSchemas.Blob, order["blob"]);
        Assert.Null(Assert.Single(ReadAvro("api", literal))["status"]);

        // Version 2 promotes status to long and adds region: the literal is set again, older files read by it (int → long).
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2);
        var shop = Compile("shop", """{"type":"record","name":"Shop","fields":[{"name":"state","type":"string"}]}""");
        await using (var sink = Sink(format: HiveFormat.Avro))
        {
            var result = await sink.WriteAsync([
                Typed(v2, 5, new() { ["status"] = "5000000000", ["bytes"] = "2", ["latency_ms"] = "0.5", ["ratio"] = "2", ["region"] = "eu" }),
                Typed(shop, 6, new() { ["state"] = "open" }, type: "shop"), // a string where the table reads an enum
            ], CancellationToken.None);
            Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
            Assert.Contains("column state of Avro table", result.Reasons![1], StringComparison.Ordinal);
            await sink.FlushAsync(CancellationToken.None);
        }
        var alters = Alters();
        Assert.Equal(2, alters.Count);
        Assert.All(alters, a => Assert.StartsWith($"ALTER TABLE `{Table}` SET TBLPROPERTIES ('avro.schema.literal'=", a, StringComparison.Ordinal));
        literal = TableLiteral();
        Assert.Equal("""["null","long"]""", literal["status"].Schema.ToString());
        Assert.Equal("""["null","string"]""", literal["region"].Schema.ToString());
        web = ReadAvro("web", literal);
        Assert.Equal([200L, null, -404L, 5_000_000_000L], web.Select(r => r["status"]));
        Assert.Equal([null, null, null, "eu"], web.Select(r => r["region"]));

        // A restart reads the decisions back: the same versions add nothing.
        await using (var sink = Sink(format: HiveFormat.Avro))
        {
            await WriteAndFlush(sink, [
                Typed(v1, 7, new() { ["status"] = "1", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1" }),
                Typed(v2, 8, new() { ["status"] = "2", ["bytes"] = "2", ["latency_ms"] = "2", ["ratio"] = "2" }),
            ]);
        }
        Assert.Equal(alters, Alters());
        Assert.Equal([200L, null, -404L, 5_000_000_000L, 1L, 2L], ReadAvro("web", TableLiteral()).Select(r => r["status"]));
    }

    [Fact]
    public async Task An_avro_table_switched_to_parquet_adds_the_typed_columns()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        await using (var sink = Sink(format: HiveFormat.Avro))
        {
            await WriteAndFlush(sink, [Typed(v1, 0, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" })]);
        }
        Assert.Contains("STORED AS AVRO", CreateTableSql, StringComparison.Ordinal);

        // Switched to Parquet: the Avro table's columns are not taken for typed ones; the typed fields are added.
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(v1, 1, new() { ["status"] = "201", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" })]);
        }
        Assert.Contains("STORED AS PARQUET", CreateTableSql, StringComparison.Ordinal);
        Assert.DoesNotContain("STRUCT", CreateTableSql, StringComparison.Ordinal);
        Assert.Contains(
            $"ALTER TABLE `{Table}` ADD COLUMNS (`status` INT, `bytes` BIGINT, `latency_ms` DOUBLE, `ratio` FLOAT, `cached` BOOLEAN, `user` STRING) CASCADE;\n",
            CreateTableSql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logical_types_enum_and_bytes_are_typed_parquet_columns_duckdb_reads_and_a_new_decimal_field_is_an_alter_line()
    {
        var orders = Compile("orders", TypedWebSchemas.Logical);
        var nulls = TypedWebSchemas.LogicalValues();
        nulls.Remove("at_us");
        nulls.Remove("blob");
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(orders, 1, TypedWebSchemas.LogicalValues(), "orders"), Typed(orders, 2, nulls, "orders")]);
        }

        var file = Assert.Single(FilesOf("orders"));
        Assert.Equal(
            [("at", "TIMESTAMP WITH TIME ZONE"), ("at_us", "TIMESTAMP WITH TIME ZONE"), ("day", "DATE"), ("price", "DECIMAL(9,2)"), ("order_id", "VARCHAR"), ("state", "VARCHAR"), ("blob", "BLOB")],
            Describe(file)[15..]);
        var rows = DuckDb.Query(
            "SELECT CAST(\"at\" AS VARCHAR), CAST(at_us AS VARCHAR), " + // UTC: DuckDB without ICU shows TIMESTAMPTZ in UTC
            "CAST(\"day\" AS VARCHAR), CAST(price AS VARCHAR), order_id, state, hex(\"blob\"), to_json(attributes)::VARCHAR " +
            $"FROM read_parquet({DuckDb.Literal(file)}) ORDER BY \"offset\"");
        Assert.Equal(["2026-12-07 12:00:00.123+00", "2026-12-07 12:00:00.123456+00", "2026-12-07", "-1234.50", TypedWebSchemas.OrderId, "PAID", Convert.ToHexString(TypedWebSchemas.Blob), """{"path":"/x"}"""], rows[0]);
        Assert.Equal([null, null], new[] { rows[1][1], rows[1][6] });
        Assert.Contains(
            "  `at` TIMESTAMP,\n  `at_us` TIMESTAMP,\n  `day` DATE,\n  `price` DECIMAL(9,2),\n  `order_id` STRING,\n  `state` STRING,\n  `blob` BINARY\n)\n",
            CreateTableSql, StringComparison.Ordinal);

        // A later version adds an optional decimal: one ALTER line with its precision and scale, read back by the next run.
        var v2 = Compile("orders", TypedWebSchemas.Logical.Replace("""{"name":"blob","type":["null","bytes"],"default":null}""",
            """{"name":"blob","type":["null","bytes"],"default":null},{"name":"fee","type":["null",{"type":"bytes","logicalType":"decimal","precision":5,"scale":1}],"default":null}""", StringComparison.Ordinal));
        var withFee = TypedWebSchemas.LogicalValues();
        withFee["fee"] = "1234.5";
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(v2, 3, withFee, "orders")]);
        }
        Assert.EndsWith("ALTER TABLE `nwdp_logs_mixed` ADD COLUMNS (`fee` DECIMAL(5,1)) CASCADE;\n", CreateTableSql, StringComparison.Ordinal);
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(v2, 4, withFee, "orders")]);
        }
        Assert.Single(CreateTableSql.Split('\n'), l => l.StartsWith("ALTER", StringComparison.Ordinal)); // the column was known from the file
        Assert.Equal(["1234.5", "1234.5"], DuckDb.Query($"SELECT CAST(fee AS VARCHAR) FROM read_parquet({DuckDb.Literal(Path.Combine(Root, Table, "type=orders", "**", "*.parquet"))}, union_by_name = true) WHERE fee IS NOT NULL").Select(r => r[0]));
    }

    [Fact]
    public async Task Arrays_and_maps_are_parquet_lists_and_maps_duckdb_reads_and_a_new_map_field_is_an_alter_line()
    {
        var basket = Compile("basket", TypedWebSchemas.Basket);
        var empty = new Dictionary<string, string> { ["codes"] = "[]", ["counts"] = "{}" }; // tags null, seen its default []
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(basket, 1, TypedWebSchemas.BasketValues(), "basket"), Typed(basket, 2, empty, "basket")]);
        }

        var file = Assert.Single(FilesOf("basket"));
        Assert.Equal([("codes", "INTEGER[]"), ("tags", "VARCHAR[]"), ("counts", "MAP(VARCHAR, BIGINT)"), ("seen", "TIMESTAMP WITH TIME ZONE[]")], Describe(file)[15..]);
        var rows = DuckDb.Query(
            "SELECT to_json(codes)::VARCHAR, to_json(tags)::VARCHAR, CAST(counts['pears'] AS VARCHAR), CAST(cardinality(counts) AS VARCHAR), CAST(seen[1] AS VARCHAR), " +
            "CAST(codes IS NULL AS VARCHAR), CAST(tags IS NULL AS VARCHAR), CAST(len(codes) AS VARCHAR), to_json(attributes)::VARCHAR " +
            $"FROM read_parquet({DuckDb.Literal(file)}) ORDER BY \"offset\"");
        Assert.Equal("[200,404,-1]", rows[0][0]);
        Assert.Equal(TypedWebSchemas.Tags, System.Text.Json.JsonSerializer.Deserialize<string[]>((string)rows[0][1]!));
        Assert.Equal(["12", "2", "2026-12-07 12:00:00.123+00"], rows[0][2..5]);
        Assert.Equal("""{"path":"/basket"}""", rows[0][8]);
        // The second row: an empty array, an empty map and a null optional array are told apart.
        Assert.Equal(["false", "true", "0"], rows[1][5..8]);
        Assert.Equal("0", rows[1][3]);
        Assert.Contains("  `codes` ARRAY<INT>,\n  `tags` ARRAY<STRING>,\n  `counts` MAP<STRING,BIGINT>,\n  `seen` ARRAY<TIMESTAMP>\n)\n", CreateTableSql, StringComparison.Ordinal);

        // Version 2 adds an optional map (and promotes codes' items to long, which the ARRAY<INT> column cannot widen to:
        // Hive changes no array's items, so that version's records are dead-lettered with the reason).
        var notes = Compile("basket", TypedWebSchemas.Basket.Replace("""{"name":"seen",""", """{"name":"notes","type":["null",{"type":"map","values":"string"}],"default":null},{"name":"seen",""", StringComparison.Ordinal));
        var withNotes = TypedWebSchemas.BasketValues();
        withNotes["notes"] = """{"gift": "yes"}""";
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(notes, 3, withNotes, "basket")]);
            var refused = await sink.WriteAsync([Typed(Compile("basket", TypedWebSchemas.BasketV2), 4, TypedWebSchemas.BasketValues(), "basket")], CancellationToken.None);
            Assert.Equal([SinkOutcome.Rejected], refused.Outcomes);
            Assert.Contains("column codes of Hive table nwdp_logs_mixed is ARRAY<INT>, which cannot hold typed field 'codes' (array<long>", refused.Reasons![0], StringComparison.Ordinal);
        }
        Assert.EndsWith("ALTER TABLE `nwdp_logs_mixed` ADD COLUMNS (`notes` MAP<STRING,STRING>) CASCADE;\n", CreateTableSql, StringComparison.Ordinal);
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(notes, 5, withNotes, "basket")]);
        }
        Assert.Single(CreateTableSql.Split('\n'), l => l.StartsWith("ALTER", StringComparison.Ordinal)); // the column was read back from the file
        Assert.Equal(["yes", "yes"], DuckDb.Query($"SELECT notes['gift'] FROM read_parquet({DuckDb.Literal(Path.Combine(Root, Table, "type=basket", "**", "*.parquet"))}, union_by_name = true) WHERE notes IS NOT NULL").Select(r => r[0]));
    }

    [Fact]
    public async Task Arrays_of_decimals_bytes_dates_uuids_enums_and_doubles_are_parquet_lists_duckdb_reads_exactly()
    {
        var items = Compile("items", TypedWebSchemas.LogicalItems);
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [Typed(items, 1, TypedWebSchemas.LogicalItemValues(), "items")]);
        }

        var file = Assert.Single(FilesOf("items"));
        Assert.Equal([("prices", "DECIMAL(6,2)[]"), ("blobs", "BLOB[]"), ("days", "DATE[]"), ("ids", "VARCHAR[]"), ("states", "VARCHAR[]"), ("ratios", "DOUBLE[]"), ("dues", "MAP(VARCHAR, DECIMAL(6,2))")],
            Describe(file)[15..]);
        var row = Assert.Single(DuckDb.Query(
            "SELECT CAST(prices AS VARCHAR), list_transform(blobs, b -> hex(b))::VARCHAR, CAST(days AS VARCHAR), CAST(ids AS VARCHAR), CAST(states AS VARCHAR), CAST(ratios AS VARCHAR), CAST(dues['tea'] AS VARCHAR) " +
            $"FROM read_parquet({DuckDb.Literal(file)})"));
        Assert.Equal(["[-1234.50, 0.25]", $"[{Convert.ToHexString(TypedWebSchemas.Blob)}, 225C]", "[2026-12-07, 1970-01-01]", $"[{TypedWebSchemas.OrderId}]", "[PAID, NEW]", "[0.1, 1e+300, -2.5]", "3.50"], row);
        Assert.Contains("  `prices` ARRAY<DECIMAL(6,2)>,\n  `blobs` ARRAY<BINARY>,\n  `days` ARRAY<DATE>,\n  `ids` ARRAY<STRING>,\n  `states` ARRAY<STRING>,\n  `ratios` ARRAY<DOUBLE>,\n  `dues` MAP<STRING,DECIMAL(6,2)>\n)\n",
            CreateTableSql, StringComparison.Ordinal);
    }

    private static TypedLogSchema Compile(string type, string attributes) =>
        TypedLogSchemas.Remember(TypedLogSchema.TryCompile(Random.Shared.Next(1_500_000_000, 2_000_000_000), TypedLogSchema.Wrap(type, attributes), out var why)
            ?? throw new InvalidOperationException(why));
}
