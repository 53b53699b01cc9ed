using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>
/// Typed log types in HBase cells (docs/schemas.md, "Type mappings to the stores"; docs/sinks/hbase.md): a typed
/// field's <c>a.&lt;name&gt;</c> cell holds HBase's <c>Bytes.toBytes</c> encoding of its value, the row names its
/// schema in <c>schema_id</c>, a null optional has no cell, and untyped events are written as before. The cell bytes
/// are checked as the REST server returns them (base64 in a CellSet), so they are what an HBase reader gets.
/// </summary>
public sealed class HBaseSinkTypedTests : IAsyncLifetime
{
    private const string Topic = "nwdp.logs.web";
    private const string Table = "typed";
    private const long Ts = 1_764_300_000_000;
    private FakeHBaseRest _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeHBaseRest.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private static LogEvent Event(long offset, Dictionary<string, string> attributes) => new()
    {
        Ts = Ts + offset,
        SystemTs = Ts + offset + 5,
        Host = "web-1",
        Ip = "10.1.2.3",
        Process = "nginx",
        Type = "web",
        Version = "2",
        Level = "info",
        Message = $"m{offset}",
        Attributes = attributes,
        Lineage = new Lineage("node-7", offset),
    };

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task WriteAsync(IReadOnlyList<SinkRecord> batch)
    {
        await using var sink = new HBaseSink(HBaseTestKit.Options(_fake, Table));
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons?.Where(r => r is not null) ?? []));
    }

    /// <summary>The row holding <paramref name="offset"/>, read through <c>GET /&lt;table&gt;/&lt;row&gt;</c>: column to the base64 value as sent.</summary>
    private async Task<Dictionary<string, string>> CellsOverRestAsync(long offset)
    {
        var key = _fake.ReadRows(Table).Single(r => r.Latest("e:offset") == offset.ToString(CultureInfo.InvariantCulture)).KeyText;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_fake.BaseUrl, $"{Table}/{Uri.EscapeDataString(key)}"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var row = Assert.Single(doc.RootElement.GetProperty("Row").EnumerateArray().ToList());
        return row.GetProperty("Cell").EnumerateArray().ToDictionary(
            c => Encoding.UTF8.GetString(c.GetProperty("column").GetBytesFromBase64()),
            c => c.GetProperty("$").GetString()!);
    }

    [Fact]
    public async Task Typed_fields_hold_hbase_bytes_encodings_in_their_attribute_cells_and_the_row_names_its_schema()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        await WriteAsync([TypedWebSchemas.Record(v1, Topic, 1, Event(1, new()
        {
            ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.25", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a",
        }))]);

        var cells = await CellsOverRestAsync(1);
        Assert.Equal("AAAAyA==", cells["e:a.status"]);         // int 200: 00 00 00 C8
        Assert.Equal("AAAAALLQXgA=", cells["e:a.bytes"]);      // long 3000000000: 00 00 00 00 B2 D0 5E 00
        Assert.Equal("QCkAAAAAAAA=", cells["e:a.latency_ms"]); // double 12.5: 40 29 00 00 00 00 00 00
        Assert.Equal("PoAAAA==", cells["e:a.ratio"]);          // float 0.25: 3E 80 00 00
        Assert.Equal("/w==", cells["e:a.cached"]);             // true: FF, as Bytes.toBytes(true)
        Assert.Equal(B64("ann"), cells["e:a.user"]);           // string: UTF-8
        Assert.Equal(B64("/a"), cells["e:a.path"]);            // not a typed field: a string attribute as ever
        Assert.Equal(B64(v1.Id.ToString(CultureInfo.InvariantCulture)), cells["e:schema_id"]);
        Assert.Equal(B64("web"), cells["e:type"]);             // the envelope's cells are text as before
        Assert.Equal(B64("1764300000001"), cells["e:ts"]);
    }

    [Fact]
    public async Task Negative_and_large_values_false_and_a_null_optional_which_has_no_cell()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        // cached absent: its default false; user absent: null.
        await WriteAsync([TypedWebSchemas.Record(v1, Topic, 2, Event(2, new() { ["status"] = "-404", ["bytes"] = "1", ["latency_ms"] = "1e300", ["ratio"] = "1" }))]);

        var cells = await CellsOverRestAsync(2);
        Assert.Equal("///+bA==", cells["e:a.status"]);         // int -404: FF FF FE 6C
        Assert.Equal("AAAAAAAAAAE=", cells["e:a.bytes"]);
        Assert.Equal("fjfkPIgAdZw=", cells["e:a.latency_ms"]); // double 1e300
        Assert.Equal("P4AAAA==", cells["e:a.ratio"]);          // float 1: 3F 80 00 00, not the int 1
        Assert.Equal("AA==", cells["e:a.cached"]);             // false: 00
        Assert.False(cells.ContainsKey("e:a.user"));
        Assert.Equal(
            ["e:a.bytes", "e:a.cached", "e:a.latency_ms", "e:a.ratio", "e:a.status", "e:host", "e:ingress", "e:ip", "e:level", "e:msg", "e:offset",
             "e:partition", "e:process", "e:schema_id", "e:source_seq", "e:system_ts", "e:topic", "e:ts", "e:type", "e:version"],
            cells.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_reader_tells_the_types_apart_by_the_schema_id_of_the_row()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2); // status promoted to long, region added
        await WriteAsync(
        [
            TypedWebSchemas.Record(v1, Topic, 3, Event(3, new() { ["status"] = "200", ["bytes"] = "7", ["latency_ms"] = "2.5", ["ratio"] = "0.5" })),
            TypedWebSchemas.Record(v2, Topic, 4, Event(4, new() { ["status"] = "200", ["bytes"] = "7", ["latency_ms"] = "2.5", ["ratio"] = "0.5", ["region"] = "eu" })),
        ]);

        var old = await CellsOverRestAsync(3);
        var evolved = await CellsOverRestAsync(4);
        Assert.Equal("AAAAyA==", old["e:a.status"]);          // 4 bytes under v1
        Assert.Equal("AAAAAAAAAMg=", evolved["e:a.status"]);  // 8 bytes under v2, the same qualifier
        Assert.Equal(B64("eu"), evolved["e:a.region"]);

        // What a reader does: the row's schema_id gives the schema, the field's type the decoding.
        foreach (var (cells, expectedId) in new[] { (old, v1.Id), (evolved, v2.Id) })
        {
            var id = int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(cells["e:schema_id"])), CultureInfo.InvariantCulture);
            Assert.Equal(expectedId, id);
            var schema = TypedLogSchemas.ById(id)!;
            var decoded = schema.Fields.Where(f => cells.ContainsKey("e:a." + f.Name)).ToDictionary(f => f.Name, f => Decode(f.Kind, Convert.FromBase64String(cells["e:a." + f.Name])));
            Assert.Equal(200L, decoded["status"]);
            Assert.Equal(7L, decoded["bytes"]);
            Assert.Equal(2.5, decoded["latency_ms"]);
            Assert.Equal(0.5f, decoded["ratio"]);
            Assert.Equal(false, decoded["cached"]);
        }
    }

    // As HBase's Bytes.toInt / toLong / toFloat / toDouble / toBoolean / toString read the cells.
    private static object Decode(TypedKind kind, byte[] b) => kind switch
    {
        TypedKind.Int => (long)BinaryPrimitives.ReadInt32BigEndian(b.Length == 4 ? b : throw new InvalidOperationException($"int of {b.Length} bytes")),
        TypedKind.Long => BinaryPrimitives.ReadInt64BigEndian(b.Length == 8 ? b : throw new InvalidOperationException($"long of {b.Length} bytes")),
        TypedKind.Float => BinaryPrimitives.ReadSingleBigEndian(b.Length == 4 ? b : throw new InvalidOperationException($"float of {b.Length} bytes")),
        TypedKind.Double => BinaryPrimitives.ReadDoubleBigEndian(b.Length == 8 ? b : throw new InvalidOperationException($"double of {b.Length} bytes")),
        TypedKind.Boolean => b.Length == 1 ? b[0] != 0 : throw new InvalidOperationException($"boolean of {b.Length} bytes"),
        _ => Encoding.UTF8.GetString(b),
    };

    [Fact]
    public void An_untyped_event_is_encoded_as_before_every_cell_utf8_text_in_the_documented_order()
    {
        var encoder = new HBaseRowEncoder(HBaseTestKit.Options(_fake, Table));
        var plain = Event(5, new() { ["status"] = "200", ["cached"] = "true", ["path"] = "/a" });
        var rows = encoder.Encode([new SinkRecord(Topic, 1, 5, plain)]);
        var (start, length, rejection) = Assert.Single(rows);
        Assert.Null(rejection);

        using var doc = JsonDocument.Parse(encoder.Buffer.Slice(start, length));
        var row = doc.RootElement;
        Assert.Equal(["key", "Cell"], row.EnumerateObject().Select(p => p.Name));
        Assert.Equal($"web|{long.MaxValue - (Ts + 5):D19}|web-1|{Topic}|1|0000000000000000005", Encoding.UTF8.GetString(row.GetProperty("key").GetBytesFromBase64()));
        (string, long, string)[] expected =
        [
            ("e:ts", Ts + 5, B64("1764300000005")), ("e:system_ts", Ts + 5, B64("1764300000010")), ("e:host", Ts + 5, B64("web-1")),
            ("e:ip", Ts + 5, B64("10.1.2.3")), ("e:process", Ts + 5, B64("nginx")), ("e:type", Ts + 5, B64("web")), ("e:version", Ts + 5, B64("2")),
            ("e:level", Ts + 5, B64("info")), ("e:msg", Ts + 5, B64("m5")), ("e:ingress", Ts + 5, B64("node-7")), ("e:source_seq", Ts + 5, B64("5")),
            ("e:a.status", Ts + 5, B64("200")), ("e:a.cached", Ts + 5, B64("true")), ("e:a.path", Ts + 5, B64("/a")),
            ("e:topic", Ts + 5, B64(Topic)), ("e:partition", Ts + 5, B64("1")), ("e:offset", Ts + 5, B64("5")),
        ];
        Assert.Equal(expected, row.GetProperty("Cell").EnumerateArray().Select(c =>
        {
            Assert.Equal(["column", "timestamp", "$"], c.EnumerateObject().Select(p => p.Name));
            return (Encoding.UTF8.GetString(c.GetProperty("column").GetBytesFromBase64()), c.GetProperty("timestamp").GetInt64(), c.GetProperty("$").GetString()!);
        }));
    }

    [Fact]
    public async Task A_typed_record_without_its_typed_values_is_written_as_text_like_any_event()
    {
        // The same record as a sink that reads no types sees it (Typed cleared): the string forms, no schema_id.
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var typed = TypedWebSchemas.Record(v1, Topic, 6, Event(6, new() { ["status"] = "200", ["bytes"] = "7", ["latency_ms"] = "2.5", ["ratio"] = "0.5", ["cached"] = "true" }));
        await WriteAsync([typed with { Event = typed.Event with { Typed = null } }]);

        var cells = await CellsOverRestAsync(6);
        Assert.Equal(B64("200"), cells["e:a.status"]);
        Assert.Equal(B64("true"), cells["e:a.cached"]);
        Assert.Equal(B64("2.5"), cells["e:a.latency_ms"]);
        Assert.False(cells.ContainsKey("e:schema_id"));
    }

    [Fact]
    public async Task Logical_types_enum_and_bytes_hold_their_binary_forms_and_a_null_optional_has_no_cell()
    {
        var orders = TypedWebSchemas.Compile(TypedWebSchemas.Logical);
        var values = TypedWebSchemas.LogicalValues();
        values.Remove("at_us");
        await WriteAsync([TypedWebSchemas.Record(orders, Topic, 1, Event(1, values))]);

        var cells = await CellsOverRestAsync(1);
        byte[] Cell(string field) => Convert.FromBase64String(cells["e:a." + field]);
        Assert.Equal(new DateTimeOffset(TypedWebSchemas.At).ToUnixTimeMilliseconds(), BinaryPrimitives.ReadInt64BigEndian(Cell("at"))); // Bytes.toLong
        Assert.False(cells.ContainsKey("e:a.at_us"));
        Assert.Equal(new DateOnly(2026, 12, 7).DayNumber - new DateOnly(1970, 1, 1).DayNumber, BinaryPrimitives.ReadInt32BigEndian(Cell("day"))); // Bytes.toInt
        Assert.Equal(-123450, (long)new System.Numerics.BigInteger(Cell("price"), isUnsigned: false, isBigEndian: true)); // new BigDecimal(new BigInteger(bytes), 2)
        Assert.Equal(Guid.Parse(TypedWebSchemas.OrderId), new Guid(Cell("order_id"), bigEndian: true));
        Assert.Equal("PAID", Encoding.UTF8.GetString(Cell("state")));
        Assert.Equal(TypedWebSchemas.Blob, Cell("blob"));
        Assert.Equal(B64(orders.Id.ToString(CultureInfo.InvariantCulture)), cells["e:schema_id"]);
        Assert.Equal("/x", Encoding.UTF8.GetString(Cell("path")));
    }

    [Fact]
    public async Task Arrays_and_maps_hold_their_JSON_text_and_a_null_optional_has_no_cell()
    {
        var basket = TypedWebSchemas.Compile(TypedWebSchemas.Basket);
        var empty = new Dictionary<string, string> { ["codes"] = "[]", ["counts"] = "{}" }; // tags null, seen its default []
        await WriteAsync([TypedWebSchemas.Record(basket, Topic, 1, Event(1, TypedWebSchemas.BasketValues())), TypedWebSchemas.Record(basket, Topic, 2, Event(2, empty))]);

        var cells = await CellsOverRestAsync(1);
        string Cell(string field) => Encoding.UTF8.GetString(Convert.FromBase64String(cells["e:a." + field]));
        Assert.Equal("[200,404,-1]", Cell("codes")); // the items in their text forms, numbers as JSON numbers
        Assert.Equal(TypedWebSchemas.Tags, JsonSerializer.Deserialize<string[]>(Cell("tags")));
        Assert.Equal("""{"apples":3,"pears":12}""", Cell("counts"));
        Assert.Equal("""["2026-12-07T12:00:00.123Z"]""", Cell("seen"));
        Assert.Equal(B64(basket.Id.ToString(CultureInfo.InvariantCulture)), cells["e:schema_id"]);
        var second = await CellsOverRestAsync(2);
        Assert.False(second.ContainsKey("e:a.tags"));
        Assert.Equal(B64("[]"), second["e:a.codes"]);
        Assert.Equal(B64("[]"), second["e:a.seen"]);
    }
}
