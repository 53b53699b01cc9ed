using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Elasticsearch.EsTestKit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>Typed log types (docs/schemas.md) in Elasticsearch: typed JSON values, an explicit mapping put once per index and schema version, conflicts dead-lettered.</summary>
public sealed class ElasticsearchSinkTypedTests
{
    // Version 1, then 2, which adds an optional field and promotes status to long (as in the SQL sinks' tests).
    private const string WebV1 = TypedWebSchemas.V1;
    private const string WebV2 = TypedWebSchemas.V2;

    // Ids are process-wide (TypedLogSchemas): each test its own.
    private static TypedLogSchema TypedSchema(string attributes) => TypedWebSchemas.Compile(attributes);

    // As the pump hands it over: encoded by ingress, decoded from its frame.
    private static SinkRecord TypedRecord(TypedLogSchema schema, long offset, Dictionary<string, string> attributes) =>
        TypedWebSchemas.Record(schema, Topic, offset, Event(offset) with { Attributes = attributes });

    private static JsonElement Attributes(FakeElasticsearch fake, long offset) =>
        fake.Documents().Single(d => d.Id == Id(offset)).Source.GetProperty("attributes");

    [Theory]
    [InlineData(FakeFlavor.Elasticsearch8, 2)] // logs-web-2025.11.28 is a data stream there: 404, data stream created, mapped
    [InlineData(FakeFlavor.OpenSearch, 1)]     // 404, then the index created with the mapping
    public async Task Typed_fields_are_json_values_of_their_type_under_a_mapping_put_once_per_index_and_schema_version(FakeFlavor flavor, int mappingRequestsForV1)
    {
        await using var fake = await FakeElasticsearch.StartAsync(flavor);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var v1 = TypedSchema(WebV1);

        await WriteAllDelivered(sink,
        [
            TypedRecord(v1, 1, new() { ["status"] = "200", ["bytes"] = "3000000000", ["latency_ms"] = "12.5", ["ratio"] = "0.1", ["cached"] = "true", ["user"] = "ann", ["path"] = "/a" }),
            TypedRecord(v1, 2, new() { ["status"] = "404", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1" }), // user: null
            new SinkRecord(Topic, 0, 3, Event(3)),
        ]);
        await WriteAllDelivered(sink, [TypedRecord(v1, 4, new() { ["status"] = "500", ["bytes"] = "2", ["latency_ms"] = "3", ["ratio"] = "4" })]);

        const string index = "logs-web-2025.11.28";
        Assert.Equal(mappingRequestsForV1, fake.MappingRequests.Count); // the second batch put nothing
        Assert.All(fake.MappingRequests, r => Assert.Equal(index, r.Index));
        Assert.Equal("""{"properties":{"attributes":{"properties":{"status":{"type":"integer"},"bytes":{"type":"long"},"latency_ms":{"type":"double"},"ratio":{"type":"float"},"cached":{"type":"boolean"},"user":{"type":"keyword"}}}}}""",
            fake.MappingRequests[^1].Body);
        Assert.Equal("integer", fake.MappedType(index, "attributes.status"));
        Assert.Equal("long", fake.MappedType(index, "attributes.bytes"));
        Assert.Equal("double", fake.MappedType(index, "attributes.latency_ms"));
        Assert.Equal("float", fake.MappedType(index, "attributes.ratio"));
        Assert.Equal("boolean", fake.MappedType(index, "attributes.cached"));
        Assert.Equal("keyword", fake.MappedType(index, "attributes.user"));

        var first = Attributes(fake, 1);
        Assert.Equal(JsonValueKind.Number, first.GetProperty("status").ValueKind);
        Assert.Equal(200, first.GetProperty("status").GetInt32());
        Assert.Equal(3_000_000_000L, first.GetProperty("bytes").GetInt64());
        Assert.Equal("12.5", first.GetProperty("latency_ms").GetRawText());
        Assert.Equal("0.1", first.GetProperty("ratio").GetRawText()); // the float's text, not 0.10000000149011612
        Assert.Equal(JsonValueKind.True, first.GetProperty("cached").ValueKind);
        Assert.Equal("ann", first.GetProperty("user").GetString());
        Assert.Equal("/a", first.GetProperty("path").GetString()); // an untyped key stays a string
        var second = Attributes(fake, 2);
        Assert.False(second.TryGetProperty("user", out _)); // a null optional is left out
        Assert.Equal(JsonValueKind.False, second.GetProperty("cached").ValueKind); // the default
        Assert.Equal(JsonValueKind.String, Attributes(fake, 3).GetProperty("user").ValueKind); // a plain event: strings as ever

        // Version 2: region is added; status int -> long is a change the index refuses, so the fields go one by one
        // and a status an integer cannot hold is refused by the document, with Elasticsearch's reason.
        var v2 = TypedSchema(WebV2);
        var result = await sink.WriteAsync(
        [
            TypedRecord(v2, 10, new() { ["status"] = "201", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3", ["region"] = "eu" }),
            TypedRecord(v2, 11, new() { ["status"] = "3000000000", ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" }),
        ], CancellationToken.None);
        Assert.Equal(mappingRequestsForV1 + 1 + 7, fake.MappingRequests.Count);
        Assert.Equal("keyword", fake.MappedType(index, "attributes.region"));
        Assert.Equal("integer", fake.MappedType(index, "attributes.status"));
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("failed to parse field [attributes.status] of type [integer]", result.Reasons![1]);
        Assert.Equal("eu", Attributes(fake, 10).GetProperty("region").GetString());
    }

    [Fact]
    public async Task A_field_an_existing_index_maps_otherwise_is_dead_lettered_with_the_reason_and_the_other_fields_are_mapped()
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);
        // An operator's index that maps attributes.cached as a number.
        using (var http = new HttpClient())
        {
            var body = new StringContent("""{"mappings":{"properties":{"attributes":{"properties":{"cached":{"type":"long"}}}}}}""", Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            using var created = await http.PutAsync(new Uri(fake.Url, "/typed-web"), body);
            Assert.True(created.IsSuccessStatusCode);
        }
        await using var sink = Sink(fake, o => o with { Index = IndexNameTemplate.Parse("typed-{type}") });
        await sink.OpenAsync(CancellationToken.None);
        var v1 = TypedSchema(WebV1);

        var result = await sink.WriteAsync(
        [
            TypedRecord(v1, 1, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1", ["cached"] = "true" }),
            new SinkRecord(Topic, 0, 2, Event(2)),
        ], CancellationToken.None);

        Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.StartsWith("document_parsing_exception: failed to parse field [attributes.cached] of type [long]", result.Reasons![0]);
        Assert.Contains("Preview of field's value: 'true'", result.Reasons[0], StringComparison.Ordinal);
        Assert.Equal("long", fake.MappedType("typed-web", "attributes.cached"));
        Assert.Equal("integer", fake.MappedType("typed-web", "attributes.status")); // put alone after the refused whole
        Assert.Equal("float", fake.MappedType("typed-web", "attributes.ratio"));
        Assert.Equal(1 + 6, fake.MappingRequests.Count);
    }

    [Fact]
    public async Task A_mapping_request_the_cluster_cannot_take_now_leaves_the_typed_records_errored_and_is_tried_again()
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.OpenSearch);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var v1 = TypedSchema(WebV1);
        fake.FailNextMappingRequests(1, 429);
        SinkRecord Typed(long offset) => TypedRecord(v1, offset, new() { ["status"] = "200", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1" });

        var result = await sink.WriteAsync([Typed(1), new SinkRecord(Topic, 0, 2, Event(2)), Typed(3)], CancellationToken.None);

        // Not sent without the mapping (dynamic mapping would make status a long); the plain event is written.
        Assert.Equal([SinkOutcome.Errored, SinkOutcome.Delivered, SinkOutcome.Errored], result.Outcomes);
        Assert.StartsWith("mapping of typed fields in index 'logs-web-2025.11.28' not put: HTTP 429 from PUT", result.Reasons![0]);
        Assert.Contains("es_rejected_execution_exception", result.Reasons[0], StringComparison.Ordinal);
        Assert.Single(fake.MappingRequests); // tried once for the batch, not once per record

        await WriteAllDelivered(sink, [Typed(1), Typed(3)]);
        Assert.Equal("integer", fake.MappedType("logs-web-2025.11.28", "attributes.status"));
        Assert.Equal(200, Attributes(fake, 3).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_value_Elasticsearch_cannot_store_is_rejected_before_sending()
    {
        await using var fake = await FakeElasticsearch.StartAsync();
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var v1 = TypedSchema(WebV1);
        // A NaN that another producer wrote with Confluent's serializer (our ingress refuses it).
        var nan = Event(1) with { Typed = new TypedValues(v1, [new(true, 200), new(true, 1), new(true, Real: double.NaN), new(true, Real: 1), new(true, 0), new(false)]) };

        var result = await sink.WriteAsync([new SinkRecord(Topic, 0, 1, nan), new SinkRecord(Topic, 0, 2, Event(2))], CancellationToken.None);

        Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.Equal("typed field 'latency_ms' is NaN; Elasticsearch stores only finite numbers", result.Reasons![0]);
        Assert.Empty(fake.MappingRequests);
        Assert.Single(fake.Documents());
    }

    [Fact]
    public void A_plain_event_is_written_byte_for_byte_as_before_typed_log_types()
    {
        var body = new BulkBody();
        body.Add(0, new SinkRecord(Topic, 0, 7, Event(7)), "logs-web-2025.11.28");
        Assert.Equal(
            """{"create":{"_index":"logs-web-2025.11.28","_id":"nwdp.logs.web-0-7"}}""" + "\n"
            + """{"@timestamp":"2025-11-28T10:00:00.007Z","ts":1764324000007,"system_ts":1764324000010,"host":"web-01","ip":"10.1.2.3","process":"checkout","type":"web","version":"2.1.0","level":"info","msg":"message 7","attributes":{"user":"4711","path":"/api/orders"},"lineage":{"node":"node-1","seq":7}}""" + "\n",
            Encoding.UTF8.GetString(body.Written.Span));
    }

    [Fact]
    public async Task Logical_types_enum_and_bytes_are_mapped_and_written_typed_and_a_micros_time_date_nanos_cannot_hold_is_dead_lettered()
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.OpenSearch);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var orders = TypedSchema(TypedWebSchemas.Logical.Replace("""{"name":"blob","type":["null","bytes"],"default":null}""",
            """{"name":"blob","type":["null","bytes"],"default":null},{"name":"big","type":["null",{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}],"default":null}""", StringComparison.Ordinal));
        var values = TypedWebSchemas.LogicalValues();
        values["big"] = "1234567890123456.7891";
        var early = TypedWebSchemas.LogicalValues();
        early["at_us"] = "1969-12-31T23:59:59.999999Z";

        var result = await sink.WriteAsync([TypedRecord(orders, 1, values), TypedRecord(orders, 2, early)], CancellationToken.None);

        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("at_us", result.Reasons![1], StringComparison.Ordinal);
        const string index = "logs-web-2025.11.28";
        Assert.Contains("""{"attributes":{"properties":{"at":{"type":"date","format":"strict_date_optional_time"},"at_us":{"type":"date_nanos","format":"strict_date_optional_time"},"day":{"type":"date","format":"strict_date"},"price":{"type":"scaled_float","scaling_factor":100},"order_id":{"type":"keyword"},"state":{"type":"keyword"},"blob":{"type":"binary"},"big":{"type":"keyword"}}}}""",
            fake.MappingRequests[^1].Body, StringComparison.Ordinal);
        Assert.Equal("date_nanos", fake.MappedType(index, "attributes.at_us"));
        Assert.Equal("scaled_float", fake.MappedType(index, "attributes.price"));
        var document = Attributes(fake, 1);
        Assert.Equal("2026-12-07T12:00:00.123Z", document.GetProperty("at").GetString());
        Assert.Equal("2026-12-07T12:00:00.123456Z", document.GetProperty("at_us").GetString());
        Assert.Equal("2026-12-07", document.GetProperty("day").GetString());
        Assert.Equal("-1234.50", document.GetProperty("price").GetRawText()); // a JSON number, exact
        Assert.Equal("1234567890123456.7891", document.GetProperty("big").GetString()); // beyond a double's digits: keyword text
        Assert.Equal(TypedWebSchemas.OrderId, document.GetProperty("order_id").GetString());
        Assert.Equal("PAID", document.GetProperty("state").GetString());
        Assert.Equal(TypedWebSchemas.Blob, document.GetProperty("blob").GetBytesFromBase64());
        Assert.Equal("/x", document.GetProperty("path").GetString());
    }

    [Theory]
    [InlineData(FakeFlavor.Elasticsearch8, "flattened")]
    [InlineData(FakeFlavor.OpenSearch, "flat_object")] // OpenSearch has no flattened (the fake refuses it there, as the real one)
    public async Task An_array_is_mapped_as_its_items_and_written_as_a_JSON_array_and_a_map_is_one_flattened_field(FakeFlavor flavor, string mapType)
    {
        await using var fake = await FakeElasticsearch.StartAsync(flavor);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var basket = TypedSchema(TypedWebSchemas.Basket);
        var empty = new Dictionary<string, string> { ["codes"] = "[]", ["counts"] = "{}" }; // tags null, seen its default []

        await WriteAllDelivered(sink, [TypedRecord(basket, 1, TypedWebSchemas.BasketValues()), TypedRecord(basket, 2, empty)]);

        const string index = "logs-web-2025.11.28";
        Assert.Contains("""{"attributes":{"properties":{"codes":{"type":"integer"},"tags":{"type":"keyword"},"counts":{"type":"MAP"},"seen":{"type":"date","format":"strict_date_optional_time"}}}}""".Replace("MAP", mapType, StringComparison.Ordinal),
            fake.MappingRequests[^1].Body, StringComparison.Ordinal);
        Assert.Equal("integer", fake.MappedType(index, "attributes.codes"));
        Assert.Equal(mapType, fake.MappedType(index, "attributes.counts"));
        Assert.Null(fake.MappedType(index, "attributes.counts.apples")); // one field, whatever the keys
        var document = Attributes(fake, 1);
        Assert.Equal("[200,404,-1]", document.GetProperty("codes").GetRawText()); // numbers, not the text
        Assert.Equal(TypedWebSchemas.Tags, document.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal("""{"apples":3,"pears":12}""", document.GetProperty("counts").GetRawText());
        Assert.Equal("""["2026-12-07T12:00:00.123Z"]""", document.GetProperty("seen").GetRawText());
        var second = Attributes(fake, 2);
        Assert.False(second.TryGetProperty("tags", out _)); // a null optional is left out
        Assert.Equal("[]", second.GetProperty("codes").GetRawText());
        Assert.Equal("{}", second.GetProperty("counts").GetRawText());
    }

    [Fact]
    public async Task Arrays_of_decimals_bytes_dates_uuids_and_enums_take_their_items_mapping_and_text_forms()
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var items = TypedSchema(TypedWebSchemas.LogicalItems);

        await WriteAllDelivered(sink, [TypedRecord(items, 1, TypedWebSchemas.LogicalItemValues())]);

        Assert.Contains("""{"prices":{"type":"scaled_float","scaling_factor":100},"blobs":{"type":"binary"},"days":{"type":"date","format":"strict_date"},"ids":{"type":"keyword"},"states":{"type":"keyword"},"ratios":{"type":"double"},"dues":{"type":"flattened"}}""",
            fake.MappingRequests[^1].Body, StringComparison.Ordinal);
        var document = Attributes(fake, 1);
        Assert.Equal("[-1234.50,0.25]", document.GetProperty("prices").GetRawText()); // exact JSON numbers
        Assert.Equal([TypedWebSchemas.Blob, [0x22, 0x5C]], document.GetProperty("blobs").EnumerateArray().Select(b => b.GetBytesFromBase64()));
        Assert.Equal("""["2026-12-07","1970-01-01"]""", document.GetProperty("days").GetRawText());
        Assert.Equal(TypedWebSchemas.OrderId, document.GetProperty("ids")[0].GetString());
        Assert.Equal("""["PAID","NEW"]""", document.GetProperty("states").GetRawText());
        Assert.Equal([0.1, 1e300, -2.5], document.GetProperty("ratios").EnumerateArray().Select(r => r.GetDouble()));
        Assert.Equal("""{"tea":3.50}""", document.GetProperty("dues").GetRawText());
    }
}
