using System.Globalization;
using Avro;
using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>
/// Typed log types in the HDFS sink's files (docs/schemas.md, "Type mappings to the stores"), against the WebHDFS fake:
/// each typed schema's records go to Avro files of their own, whose writer schema is the registered schema, read back
/// by Apache.Avro's generic reader with the file's own schema; Parquet files of a typed schema get the Hive sink's typed
/// columns, read back by DuckDB. Plain files stay byte for byte as they were, and recovery keeps each schema's files apart.
/// </summary>
public sealed class HdfsSinkTypedTests : IAsyncLifetime, IDisposable
{
    private const string Topic = "nwdp.logs.mixed";

    private readonly string _root = HdfsSinkTestKit.NewRoot();
    private readonly TempDir _dir = new();
    private FakeWebHdfs _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeWebHdfs.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private HdfsSink Sink(string? root = null, HdfsFormat format = HdfsFormat.Avro) =>
        new(new HdfsSinkOptions { NamenodeUrls = _fake.NamenodeUrls, Root = root ?? _root, User = "nwdp", Format = format }, "hdfs");

    private static SinkRecord Plain(long offset, string type = "web") => new(Topic, 0, offset, TypedWebSchemas.Event(offset, type));

    private static SinkRecord Typed(TypedLogSchema schema, long offset, Dictionary<string, string> attributes, string type = "web") =>
        TypedWebSchemas.Record(schema, Topic, offset, TypedWebSchemas.Event(offset, type, attributes));

    private static async Task WriteAndFlush(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons?.Where(r => r is not null) ?? []));
        await sink.FlushAsync(CancellationToken.None);
    }

    private List<(string Name, byte[] Content)> Files(string? root = null) =>
        HdfsSinkTestKit.Published(_fake, root ?? _root).Select(f => (f.Path[(f.Path.LastIndexOf('/') + 1)..], f.Content)).ToList();

    /// <summary>A file's writer schema and records, as Apache.Avro's generic reader decodes them by that schema.</summary>
    private static (RecordSchema Schema, List<GenericRecord> Records) Read(byte[] content)
    {
        using var reader = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(content));
        var records = new List<GenericRecord>();
        while (reader.HasNext()) records.Add(reader.Next());
        return ((RecordSchema)reader.GetSchema(), records);
    }

    private static string Name(TypedLogSchema schema, long first, long last, string extension = ".avro") =>
        string.Create(CultureInfo.InvariantCulture, $"{Topic}-s{schema.Id}-p0000-o{first:D20}-o{last:D20}{extension}");

    [Fact]
    public async Task Typed_records_go_to_avro_files_of_their_own_schema_with_their_fields_in_their_avro_types()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2);
        var batch = new List<SinkRecord>
        {
            Plain(0, type: "api"),
            Typed(v1, 1, new() { ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }),
            Plain(2), // a web event written untyped: a plain LogEvent in the plain file
            Typed(v1, 3, new() { ["status"] = "-404", ["bytes"] = "1", ["latency_ms"] = "1e300", ["ratio"] = "1" }), // user null, cached its default
            Typed(v2, 4, new() { ["status"] = "5000000000", ["bytes"] = "2", ["latency_ms"] = "0.5", ["ratio"] = "2", ["region"] = "eu" }),
            Plain(5, type: "api"),
        };
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, batch);
        }

        var files = Files().ToDictionary(f => f.Name, f => f.Content);
        var plainName = FilesSinkNames(0, 5);
        Assert.Equal(new[] { plainName, Name(v1, 1, 3), Name(v2, 4, 4) }.Order(StringComparer.Ordinal), files.Keys.Order(StringComparer.Ordinal)); // ids are random

        // The plain file is byte for byte what a sink that never met a typed record writes.
        var alone = HdfsSinkTestKit.NewRoot();
        await using (var sink = Sink(alone))
        {
            await WriteAndFlush(sink, [batch[0], batch[2], batch[5]]);
        }
        Assert.Equal(WithoutSyncMarker(Assert.Single(Files(alone)).Content), WithoutSyncMarker(files[plainName]));
        var (plainSchema, plainRecords) = Read(files[plainName]);
        Assert.Equal("neverwinterdp.LogEvent", plainSchema.Fullname);
        Assert.Equal(["message 0", "message 2", "message 5"], plainRecords.Select(r => (string)r["message"]));

        // A typed file's writer schema is the registered schema, its fields typed; Apache.Avro's generic reader decodes them.
        var (schema1, records1) = Read(files[Name(v1, 1, 3)]);
        Assert.Equal("neverwinterdp.logs.web", schema1.Fullname);
        Assert.Equal(Schema.Parse(v1.Text).ToString(), schema1.ToString());
        Assert.Equal(Schema.Type.Int, schema1["status"].Schema.Tag);
        Assert.Equal(2, records1.Count);
        var first = records1[0];
        Assert.Equal(200, Assert.IsType<int>(first["status"]));
        Assert.Equal(3_000_000_000L, Assert.IsType<long>(first["bytes"]));
        Assert.Equal(12.5, Assert.IsType<double>(first["latency_ms"]));
        Assert.Equal(0.25f, Assert.IsType<float>(first["ratio"]));
        Assert.True(Assert.IsType<bool>(first["cached"]));
        Assert.Equal("ann", first["user"]);
        Assert.Equal("message 1", first["message"]);
        Assert.Equal("web", first["type"]);
        // The typed values left the attributes map; other keys stay there as strings.
        Assert.Equal(new Dictionary<string, object> { ["path"] = "/a" }, (IDictionary<string, object>)first["attributes"]);
        Assert.Equal([-404, 1L, 1e300, 1f, false, null], new[] { "status", "bytes", "latency_ms", "ratio", "cached", "user" }.Select(f => records1[1][f]));
        Assert.Empty((IDictionary<string, object>)records1[1]["attributes"]);
        Assert.Equal("node-3", ((GenericRecord)first["lineage"])["ingress_node"]);

        // Version 2 in a file of its own: status promoted to long, the new optional field there.
        var (schema2, records2) = Read(files[Name(v2, 4, 4)]);
        Assert.Equal(Schema.Type.Long, schema2["status"].Schema.Tag);
        Assert.Equal(5_000_000_000L, Assert.IsType<long>(records2[0]["status"]));
        Assert.Equal("eu", records2[0]["region"]);
    }

    [Fact]
    public async Task Logical_types_enums_bytes_arrays_and_maps_are_read_back_by_the_generic_reader_as_their_avro_types()
    {
        var logical = TypedWebSchemas.Compile(TypedWebSchemas.Logical);
        var basket = TypedWebSchemas.Compile(TypedWebSchemas.Basket);
        var items = TypedWebSchemas.Compile(TypedWebSchemas.LogicalItems);
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [
                Typed(logical, 0, TypedWebSchemas.LogicalValues(), type: "orders"),
                Typed(basket, 1, TypedWebSchemas.BasketValues(), type: "basket"),
                Typed(items, 2, TypedWebSchemas.LogicalItemValues(), type: "items"),
            ]);
        }
        var files = Files().ToDictionary(f => f.Name, f => f.Content);
        Assert.Equal(3, files.Count);

        var order = Assert.Single(Read(files[Name(logical, 0, 0)]).Records);
        Assert.Equal(TypedWebSchemas.At, ((DateTime)order["at"]).ToUniversalTime());
        Assert.Equal(TypedWebSchemas.AtMicros, ((DateTime)order["at_us"]).ToUniversalTime());
        Assert.Equal(new DateTime(2026, 12, 7), ((DateTime)order["day"]).Date);
        Assert.Equal("-1234.50", Dec(order["price"]));
        Assert.Equal(Guid.Parse(TypedWebSchemas.OrderId), Assert.IsType<Guid>(order["order_id"]));
        Assert.Equal("PAID", Assert.IsType<GenericEnum>(order["state"]).Value);
        Assert.Equal(TypedWebSchemas.Blob, Assert.IsType<byte[]>(order["blob"]));
        Assert.Equal(new Dictionary<string, object> { ["path"] = "/x" }, (IDictionary<string, object>)order["attributes"]);

        var row = Assert.Single(Read(files[Name(basket, 1, 1)]).Records);
        Assert.Equal([200, 404, -1], (object[])row["codes"]);
        Assert.Equal(TypedWebSchemas.Tags, ((object[])row["tags"]).Cast<string>());
        Assert.Equal(new Dictionary<string, object> { ["apples"] = 3L, ["pears"] = 12L }, (IDictionary<string, object>)row["counts"]);
        Assert.Equal([TypedWebSchemas.At], ((object[])row["seen"]).Select(d => ((DateTime)d).ToUniversalTime()));

        var listed = Assert.Single(Read(files[Name(items, 2, 2)]).Records);
        Assert.Equal(["-1234.50", "0.25"], ((object[])listed["prices"]).Select(Dec));
        Assert.Equal([TypedWebSchemas.Blob, "\"\\"u8.ToArray()], ((object[])listed["blobs"]).Cast<byte[]>());
        Assert.Equal(["PAID", "NEW"], ((object[])listed["states"]).Select(e => ((GenericEnum)e).Value));
        Assert.Equal([0.1, 1e300, -2.5], ((object[])listed["ratios"]).Cast<double>());
        Assert.Equal("3.50", Dec(((IDictionary<string, object>)listed["dues"])["tea"]));
    }

    [Fact]
    public async Task Recovery_reads_each_schemas_published_offsets_from_its_names_so_a_replay_duplicates_nothing_and_loses_nothing()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        SinkRecord Web(long offset) => Typed(v1, offset, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1" });
        var batch = new List<SinkRecord> { Plain(0), Web(1), Plain(2), Web(3), Plain(4), Web(5) };
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, batch);
        }
        var names = Files().Select(f => f.Name).ToList();
        Assert.Equal([FilesSinkNames(0, 4), Name(v1, 1, 5)], names);

        // The plain file is lost (as if its publish never happened): the next process must write offsets 0, 2 and 4
        // again although the typed file's name says offset 5 is published, and must not write 1, 3, 5 twice.
        using (var http = new HttpClient())
        {
            var path = $"{HdfsSinkTestKit.HourDirectory(_root, TypedWebSchemas.TenOClock, Topic)}/{FilesSinkNames(0, 4)}";
            var response = await http.DeleteAsync(new Uri(_fake.NamenodeUrls[0], $"/webhdfs/v1{path}?op=DELETE&user.name=nwdp"));
            response.EnsureSuccessStatusCode();
        }
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, batch);
        }
        var files = Files();
        Assert.Equal([FilesSinkNames(0, 4), Name(v1, 1, 5)], files.Select(f => f.Name));
        Assert.Equal(["message 0", "message 2", "message 4"], Read(files[0].Content).Records.Select(r => (string)r["message"]));
        Assert.Equal(["message 1", "message 3", "message 5"], Read(files[1].Content).Records.Select(r => (string)r["message"]));
    }

    [Fact]
    public async Task Parquet_files_of_a_typed_schema_get_typed_columns_duckdb_reads_and_a_field_named_as_a_fixed_column_is_refused()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var clash = TypedWebSchemas.Compile("""{"type":"record","name":"Clash","fields":[{"name":"Offset","type":"int"}]}""");
        var batch = new List<SinkRecord>
        {
            Plain(0, type: "api"),
            Typed(v1, 1, new() { ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }),
            Typed(v1, 2, new() { ["status"] = "-404", ["bytes"] = "1", ["latency_ms"] = "1e300", ["ratio"] = "1" }),
            Plain(3, type: "api"),
        };
        await using (var sink = Sink(format: HdfsFormat.Parquet))
        {
            await WriteAndFlush(sink, batch);
            var refused = await sink.WriteAsync([Typed(clash, 4, new() { ["Offset"] = "1" }, type: "clash")], CancellationToken.None);
            Assert.Equal(SinkOutcome.Rejected, Assert.Single(refused.Outcomes));
            Assert.Contains("typed field 'Offset'", refused.Reasons![0], StringComparison.Ordinal);
            await sink.FlushAsync(CancellationToken.None);
        }
        var files = Files();
        Assert.Equal([FilesSinkNames(0, 3, ".parquet"), Name(v1, 1, 2, ".parquet")], files.Select(f => f.Name));

        var typedFile = Path.Combine(_dir.Path, "typed.parquet");
        await File.WriteAllBytesAsync(typedFile, files[1].Content);
        var columns = DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(typedFile)})").Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.Equal(16 + 6, columns.Count); // the fixed columns with type, then the schema's fields
        Assert.Equal(
            [("status", "INTEGER"), ("bytes", "BIGINT"), ("latency_ms", "DOUBLE"), ("ratio", "FLOAT"), ("cached", "BOOLEAN"), ("user", "VARCHAR")],
            columns[16..]);
        var rows = DuckDb.Query($"SELECT \"offset\", type, status, bytes, latency_ms, ratio, cached, \"user\", to_json(attributes)::VARCHAR FROM read_parquet({DuckDb.Literal(typedFile)}) ORDER BY \"offset\"");
        Assert.Equal([1L, "web", 200, 3_000_000_000L, 12.5, 0.25f, true, "ann", """{"path":"/a"}"""], rows[0]);
        Assert.Equal([2L, "web", -404, 1L, 1e300, 1f, false, null, "{}"], rows[1]);

        // The plain file is byte for byte what a sink that never met a typed record writes.
        var alone = HdfsSinkTestKit.NewRoot();
        await using (var sink = Sink(alone, HdfsFormat.Parquet))
        {
            await WriteAndFlush(sink, [batch[0], batch[3]]);
        }
        Assert.Equal(Assert.Single(Files(alone)).Content, files[0].Content);
    }

    /// <summary>A decimal the generic reader gives as its text: the unscaled value and the scale it read.</summary>
    private static string Dec(object value) => value is AvroDecimal d ? TypedLogSchema.DecimalText(d.UnscaledValue, d.Scale) : throw new InvalidCastException(value?.GetType().Name);

    /// <summary>An Avro file with its sync marker (16 random bytes, the file's last) zeroed wherever it occurs.</summary>
    private static byte[] WithoutSyncMarker(byte[] file)
    {
        var marker = file[^16..];
        var copy = file.ToArray();
        for (var i = copy.AsSpan().IndexOf(marker); i >= 0; i = copy.AsSpan().IndexOf(marker))
            copy.AsSpan(i, 16).Clear();
        return copy;
    }

    private static string FilesSinkNames(long first, long last, string extension = ".avro") =>
        string.Create(CultureInfo.InvariantCulture, $"{Topic}-p0000-o{first:D20}-o{last:D20}{extension}");
}
