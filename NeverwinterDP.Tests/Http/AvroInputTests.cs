using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Host.Inputs;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Http;

/// <summary>The Avro inputs of <c>/v1/events</c>: REST Proxy v2 records and Confluent frames, decoded against the registry's store.</summary>
public class AvroInputTests
{
    private const int WebId = 1_500_000_401; // ids no other test uses: the decoders' cache of typed schemas is process-wide
    private const int OrderId = 1_500_000_402;
    private const string WebAttributes = """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"},{"name":"user","type":["null","string"],"default":null}]}""";

    private readonly SchemaStore _store = new(CompatibilityLevel.Backward);
    private readonly AvroWriterSchemas _schemas;
    private long _seq;

    public AvroInputTests()
    {
        Register("nwdp.logs.avroweb-value", 1, WebId, TypedLogSchema.Wrap("avroweb", WebAttributes));
        Register("orders-value", 1, OrderId, """{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}""");
        _schemas = new AvroWriterSchemas(_store);
    }

    private void Register(string subject, int version, int id, string schema)
    {
        var offset = _store.Position;
        _store.Apply(offset, SchemaRecords.SchemaKey(subject, version), SchemaRecords.SchemaValue(subject, version, id, SchemaStore.Canonical(schema), offset));
    }

    private IngressContext Context() => new("fallback", "remote-host", "10.0.0.9", "node-7", 1_700_000_000_000) { NextSourceSeq = (_, _) => ++_seq, Sender = "key-a" };

    private static DefaultHttpContext Http() => new() { Response = { Body = new MemoryStream() } };

    private static string LogEventValue(string message, string type = "", string host = "web-1") =>
        $$$"""{"ts":1600000000000,"system_ts":5,"host":"{{{host}}}","ip":"","type":"{{{type}}}","message":"{{{message}}}","attributes":{"path":"/a"},"lineage":{"ingress_node":"forged","source_seq":99,"sender":{"string":"forged"}} }""";

    private static string WebValue(string message, string status, string type = "avroweb") =>
        $$$"""{"ts":1,"system_ts":0,"host":"h","ip":"","type":"{{{type}}}","message":"{{{message}}}","lineage":{"ingress_node":"","source_seq":0},"status":{{{status}}},"user":{"string":"ann"}}""";

    private (ParseResult Result, DefaultHttpContext Http) Rest(string body)
    {
        var http = Http();
        var result = new RestProxyDialect(_schemas).Parse(http.Request, Encoding.UTF8.GetBytes(body), Context());
        return (result, http);
    }

    private static async Task<JsonElement> ErrorBodyAsync(DefaultHttpContext http, ParseResult result)
    {
        http.Response.StatusCode = result.Status;
        await new RestProxyDialect(new AvroWriterSchemas(null)).ErrorAsync(http, result.Status, result.Reason, result.Error!, result.Line);
        return JsonDocument.Parse(((MemoryStream)http.Response.Body).ToArray()).RootElement.Clone();
    }

    [Fact]
    public void REST_Proxy_records_of_the_LogEvent_schema_become_events_with_this_nodes_lineage_and_their_key_as_the_key_attribute()
    {
        var (result, _) = Rest($$"""{"value_schema_id":{{SchemaIds.LogEvent}},"records":[{"value":{{LogEventValue("one")}},"key":"k1"},{"value":{{LogEventValue("two", type: "api")}}}]}""");

        Assert.True(result.IsSuccess, result.ToString());
        var (one, two) = (result.Events[0], result.Events[1]);
        Assert.Equal("one", one.Message);
        Assert.Equal("fallback", one.Type); // empty: the request's ?type=
        Assert.Equal("api", two.Type);
        Assert.Equal(1600000000000, one.Ts);
        Assert.Equal(1_700_000_000_000, one.SystemTs); // the ingress time, not the sender's
        Assert.Equal("10.0.0.9", one.Ip);
        Assert.Equal(new Lineage("node-7", 1, "key-a"), one.Lineage); // never the lineage the record claims
        Assert.Equal(new Lineage("node-7", 2, "key-a"), two.Lineage);
        Assert.Equal("k1", one.Attributes["key"]);
        Assert.Equal("/a", one.Attributes["path"]);
        Assert.False(two.Attributes.ContainsKey("key"));
    }

    [Fact]
    public void A_value_schema_given_as_text_is_looked_up_in_the_registry()
    {
        var (byText, http) = Rest(JsonSerializer.Serialize(new { value_schema = Schemas.LogEvent, records = new[] { new { value = JsonDocument.Parse(LogEventValue("x")).RootElement } } }));
        Assert.True(byText.IsSuccess, byText.ToString());
        Assert.Equal(SchemaIds.LogEvent, http.Items["nwdp.avro.schema_id"]);

        var web = _store.SchemaById(WebId)!;
        var (typed, typedHttp) = Rest(JsonSerializer.Serialize(new { value_schema = web, records = new[] { new { value = JsonDocument.Parse(WebValue("y", "200")).RootElement } } }));
        Assert.True(typed.IsSuccess, typed.ToString());
        Assert.Equal(WebId, typedHttp.Items["nwdp.avro.schema_id"]);
    }

    [Fact]
    public void REST_Proxy_records_of_a_log_types_typed_schema_become_typed_events_of_that_type()
    {
        var (result, _) = Rest($$"""{"value_schema_id":{{WebId}},"records":[{"value":{{WebValue("w", "204")}}}]}""");

        Assert.True(result.IsSuccess, result.ToString());
        var e = Assert.Single(result.Events);
        Assert.Equal("avroweb", e.Type);
        Assert.Equal("204", e.Attributes["status"]);
        Assert.Equal("ann", e.Attributes["user"]);
        Assert.Equal(WebId, e.Typed?.Schema.Id);
        Assert.Equal(204, e.Typed!.Values[0].Integer);
    }

    [Theory]
    [InlineData("not json", 400, 400, "malformed", null, "body is not valid JSON")]
    [InlineData("""{"records":{}}""", 422, 422, "malformed", null, "'records' must be an array")]
    [InlineData("""{"records":[{"value":{}}]}""", 422, 42202, "invalid_schema", null, "does not include value schema")]
    [InlineData("""{"key_schema_id":1,"value_schema_id":1,"records":[{"value":{}}]}""", 422, 42201, "invalid_schema", null, "'key_schema_id' is not taken")]
    [InlineData("""{"value_schema_id":424242,"records":[{"value":{}}]}""", 408, 40801, "unknown_schema", null, "schema id 424242 is not known to this node's registry")]
    [InlineData("""{"value_schema_id":1500000402,"records":[{"value":{}}]}""", 422, 42205, "schema_not_accepted", null, "schema id 1500000402 (orders-value) is not one ingress takes")]
    [InlineData("""{"value_schema":"{\"type\":\"nope\"}","records":[{"value":{}}]}""", 422, 42205, "invalid_schema", null, "Invalid schema: ")]
    [InlineData("""{"value_schema":"{\"type\":\"record\",\"name\":\"X\",\"fields\":[]}","records":[{"value":{}}]}""", 422, 42205, "schema_not_accepted", null, "is not registered")]
    public async Task A_request_the_REST_Proxy_would_refuse_is_refused_with_its_status_and_error_code(string body, int status, int code, string reason, int? record, string message)
    {
        var (result, http) = Rest(body);

        Assert.False(result.IsSuccess);
        Assert.Equal(status, result.Status);
        Assert.Equal(reason, result.Reason);
        Assert.Contains(message, result.Error);
        var error = await ErrorBodyAsync(http, result);
        Assert.Equal(code, error.GetProperty("error_code").GetInt32());
        Assert.Equal(record, error.GetProperty("record").ValueKind == JsonValueKind.Null ? null : error.GetProperty("record").GetInt32());
    }

    [Fact]
    public async Task A_value_that_does_not_fit_the_schema_is_refused_naming_its_record_index_and_field()
    {
        var (result, http) = Rest($$"""{"value_schema_id":{{WebId}},"records":[{"value":{{WebValue("a", "200")}}},{"value":{{WebValue("b", "\"abc\"")}}}]}""");

        Assert.Equal(422, result.Status);
        Assert.Equal("Conversion of JSON to Avro failed: records[1].value.status: expected an int, got \"abc\"", result.Error);
        var error = await ErrorBodyAsync(http, result);
        Assert.Equal(42203, error.GetProperty("error_code").GetInt32());
        Assert.Equal(1, error.GetProperty("record").GetInt32());
        Assert.Equal("status", error.GetProperty("field").GetString());
        Assert.Equal(0, _seq); // a refused request uses up no sequence numbers
    }

    [Fact]
    public void A_typed_record_must_carry_its_schemas_log_type_and_a_key_must_be_a_string()
    {
        var (wrongType, _) = Rest($$"""{"value_schema_id":{{WebId}},"records":[{"value":{{WebValue("a", "200", type: "other")}}}]}""");
        Assert.Equal(422, wrongType.Status);
        Assert.Contains("'other' is not the log type of schema id 1500000401 (nwdp.logs.avroweb-value)", wrongType.Error);

        var (badKey, _) = Rest($$$"""{"value_schema_id":{{{SchemaIds.LogEvent}}},"records":[{"value":{{{LogEventValue("a")}}},"key":{"int":1}}]}""");
        Assert.Equal(422, badKey.Status);
        Assert.Contains("records[0].key must be a JSON string", badKey.Error);
    }

    [Fact]
    public void A_REST_Proxy_value_with_an_array_and_a_map_arrives_with_their_JSON_text_and_a_wrong_item_is_refused_naming_it()
    {
        const int basketId = 1_500_000_403;
        Register("nwdp.logs.avrobasket-value", 1, basketId, TypedLogSchema.Wrap("avrobasket",
            """{"type":"record","name":"Basket","fields":[{"name":"codes","type":{"type":"array","items":"int"}},{"name":"counts","type":["null",{"type":"map","values":"long"}],"default":null}]}"""));
        string Value(string codes) =>
            """{"ts":1,"system_ts":0,"host":"h","ip":"","type":"avrobasket","message":"m","lineage":{"ingress_node":"","source_seq":0},"codes":""" + codes + ""","counts":{"map":{"apples":3}}}""";

        var (result, _) = Rest($$"""{"value_schema_id":{{basketId}},"records":[{"value":{{Value("[200, 404]")}}}]}""");
        Assert.True(result.IsSuccess, result.Error);
        var e = Assert.Single(result.Events);
        Assert.Equal("[200,404]", e.Attributes["codes"]);
        Assert.Equal("""{"apples":3}""", e.Attributes["counts"]);

        var (bad, _) = Rest($$"""{"value_schema_id":{{basketId}},"records":[{"value":{{Value("""[200, "x"]""")}}}]}""");
        Assert.Equal(422, bad.Status);
        Assert.Contains("records[0].value.codes", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_records_array_is_no_events()
    {
        var (result, _) = Rest("""{"records":[]}""");
        Assert.True(result.IsSuccess);
        Assert.Empty(result.Events);
    }

    private ParseResult Framed(byte[] body) => new FramedAvroDialect(_schemas).Parse(Http().Request, body, Context());

    private static byte[] Frame(LogEvent e, int id = SchemaIds.LogEvent) => LogEventAvro.EncodeFramed(e, id);

    private static LogEvent Event(string message, string type = "api") =>
        new() { Ts = 5, Host = "h1", Type = type, Message = message, Lineage = new Lineage("forged", 77, "forged") };

    [Fact]
    public void Confluent_frames_back_to_back_are_decoded_one_after_another_whatever_their_schema()
    {
        var web = TypedLogSchemas.Remember(TypedLogSchema.TryCompile(WebId, _store.SchemaById(WebId)!, out _)!);
        var typed = web.TryEncodeFramed(Event("typed", "avroweb") with { Attributes = new Dictionary<string, string> { ["status"] = "500" } })!;
        // Version 1 is version 2 without lineage.sender: with no sender, all but the last byte (the union's null branch).
        var v1 = Frame(Event("v1") with { Lineage = new Lineage("forged", 77) }, SchemaIds.LogEventV1)[..^1];
        var body = Frame(Event("v2")).Concat(v1).Concat(typed).ToArray();

        var result = Framed(body);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["v2", "v1", "typed"], result.Events.Select(e => e.Message));
        Assert.All(result.Events, e => Assert.Equal("node-7", e.Lineage.IngressNode));
        Assert.Equal([1L, 2L, 3L], result.Events.Select(e => e.Lineage.SourceSeq));
        Assert.Equal("500", result.Events[2].Attributes["status"]);
        Assert.Equal(WebId, result.Events[2].Typed?.Schema.Id);
        Assert.Empty(Framed([]).Events);
    }

    [Fact]
    public void A_frame_that_is_not_taken_is_refused_naming_its_record_and_why()
    {
        var good = Frame(Event("ok"));
        byte[] WithId(int id)
        {
            var frame = Frame(Event("x"));
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), id);
            return good.Concat(frame).ToArray();
        }

        var unknown = Framed(WithId(424242));
        Assert.Equal((422, "unknown_schema", 2), (unknown.Status, unknown.Reason, unknown.Line));
        Assert.Equal("record 2: schema id 424242 is not known to this node's registry", unknown.Error);

        var foreign = Framed(WithId(OrderId));
        Assert.Equal((422, "schema_not_accepted", 2), (foreign.Status, foreign.Reason, foreign.Line));
        Assert.Contains("(orders-value) is not one ingress takes: ingress takes records of the LogEvent schema", foreign.Error);

        var magic = Framed([.. good, 1, 0, 0, 0, 1, 0]);
        Assert.Equal((400, "malformed", 2), (magic.Status, magic.Reason, magic.Line));
        Assert.Contains($"record 2 (at byte {good.Length}): magic byte 0x01", magic.Error);

        var shortHeader = Framed([.. good, 0, 0]);
        Assert.Contains("2 bytes left, a Confluent frame starts with 5", shortHeader.Error);

        var truncated = Framed([.. good, .. good[..^3]]);
        Assert.Equal((400, "malformed", 2), (truncated.Status, truncated.Reason, truncated.Line));
        Assert.Contains($"record 2 (at byte {good.Length}) does not decode as schema id {SchemaIds.LogEvent}", truncated.Error);

        var container = Framed("Obj\u0001rest"u8.ToArray());
        Assert.Contains("Avro object container file", container.Error);

        var web = TypedLogSchemas.Remember(TypedLogSchema.TryCompile(WebId, _store.SchemaById(WebId)!, out _)!);
        var misplaced = Framed(web.TryEncodeFramed(Event("t", "other") with { Attributes = new Dictionary<string, string> { ["status"] = "1" } })!);
        Assert.Contains("record 1: type 'other' is not the log type of schema id 1500000401", misplaced.Error);
        Assert.Equal(0, _seq);
    }

    [Fact]
    public void Without_a_registry_only_the_LogEvent_schema_is_known()
    {
        var none = new AvroWriterSchemas(null);
        Assert.Equal(AvroSchemaStanding.Accepted, none.Resolve(SchemaIds.LogEvent, out _));
        Assert.Equal(AvroSchemaStanding.Accepted, none.Resolve(SchemaIds.LogEventV1, out _));
        Assert.Equal(AvroSchemaStanding.Unknown, none.Resolve(WebId, out _));
        Assert.Equal(SchemaIds.LogEventV1, none.IdOf(Schemas.LogEventV1));
    }

    [Theory]
    [InlineData("application/vnd.kafka.avro.v2+json", typeof(RestProxyDialect))]
    [InlineData("application/vnd.confluent.avro", typeof(FramedAvroDialect))]
    [InlineData("application/avro; charset=binary", typeof(FramedAvroDialect))]
    [InlineData("application/json", null)]
    [InlineData("application/vnd.kafka.json.v2+json", null)]
    public void The_Content_Type_chooses_the_dialect(string contentType, Type? dialect)
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        http.Request.ContentType = contentType;
        Assert.Equal(dialect, AvroInput.DialectFor(http)?.GetType());
    }
}
