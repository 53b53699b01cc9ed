using Avro;
using Avro.Generic;
using Avro.IO;
using Microsoft.AspNetCore.Http;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// Array and map fields of a typed log type: which items they may have, their text forms at ingress (the JSON value's
/// text, each item as an attribute of its type), the 400 naming the item, the bytes Apache.Avro reads back with the
/// registered schema, the values the sinks get, and Avro's resolution of their evolution.
/// </summary>
public class TypedCollectionsTests
{
    private const string Shop = """
        {"type":"record","name":"Shop","fields":[
          {"name":"codes","type":{"type":"array","items":"int"}},
          {"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},
          {"name":"counts","type":{"type":"map","values":"long"}},
          {"name":"flags","type":{"type":"map","values":"boolean"},"default":{"gift":false}},
          {"name":"weights","type":{"type":"array","items":"double"},"default":[]},
          {"name":"seen","type":["null",{"type":"array","items":{"type":"long","logicalType":"timestamp-millis"}}],"default":null},
          {"name":"prices","type":["null",{"type":"map","values":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}],"default":null}
        ]}
        """;

    private const int Id = 1_500_000_301;

    private static TypedLogSchema Compiled() => TypedTestSchemas.Compile(Id, "shop", Shop);

    private static LogEvent Event(Dictionary<string, string> attributes) => new()
    {
        Ts = 1_700_000_000_000, SystemTs = 1_700_000_000_123, Host = "shop-1", Ip = "10.0.0.3", Process = "shop", Type = "shop",
        Message = "basket", Attributes = attributes, Lineage = new Lineage("node-1", 9, null),
    };

    // What a sender's JSON gives: the JSON value's text of each array or object.
    private static Dictionary<string, string> Good() => new()
    {
        ["codes"] = """[200, "404", -1]""", ["tags"] = """["a", "b \"quoted\"", 7]""", ["counts"] = """{"apples": 3, "pears": "12"}""",
        ["seen"] = """["2026-12-07T12:00:00.123Z", 0]""", ["prices"] = """{"tea": "3.5", "cake": -12.25}""", ["path"] = "/basket",
    };

    [Fact]
    public void Arrays_and_maps_of_the_other_kinds_optional_or_not_are_taken_with_their_items_type()
    {
        var fields = Compiled().Fields;
        Assert.Equal([TypedKind.Array, TypedKind.Array, TypedKind.Map, TypedKind.Map, TypedKind.Array, TypedKind.Array, TypedKind.Map], fields.Select(f => f.Kind));
        Assert.Equal([TypedKind.Int, TypedKind.String, TypedKind.Long, TypedKind.Boolean, TypedKind.Double, TypedKind.TimestampMillis, TypedKind.Decimal], fields.Select(f => f.Item!.Kind));
        Assert.Equal("array<int>", fields[0].Expected);
        Assert.Equal("array<string> or null", fields[1].Expected);
        Assert.Equal("map<long>", fields[2].Expected);
        Assert.Equal("map<decimal(6,2)> or null", fields[6].Expected);
        Assert.Equal((6, 2), (fields[6].Item!.Precision, fields[6].Item!.Scale));
    }

    [Fact]
    public void Apache_Avro_reads_the_arrays_and_maps_we_write_and_we_read_them_back_as_JSON_text_and_unboxed_items()
    {
        var schema = Compiled();
        var frame = schema.TryEncodeFramed(Event(Good()))!;

        var record = TypedTestSchemas.ReadFramed(frame, "shop", Shop);
        Assert.Equal(new object[] { 200, 404, -1 }, (object[])record["codes"]);
        Assert.Equal(new object[] { "a", "b \"quoted\"", "7" }, (object[])record["tags"]);
        var counts = (IDictionary<string, object>)record["counts"];
        Assert.Equal(3L, counts["apples"]);
        Assert.Equal(12L, counts["pears"]);
        Assert.Equal(false, ((IDictionary<string, object>)record["flags"])["gift"]); // the default
        Assert.Empty((object[])record["weights"]); // the default
        Assert.Equal(new DateTime(2026, 12, 7, 12, 0, 0, 123, DateTimeKind.Utc), ((object[])record["seen"])[0]);
        Assert.Equal("-12.25", ((AvroDecimal)((IDictionary<string, object>)record["prices"])["cake"]).ToString());

        var decoded = schema.Decode(frame.AsSpan(5));
        Assert.Equal("[200,404,-1]", decoded.Attributes["codes"]);
        Assert.Equal("""["a","b \"quoted\"","7"]""", decoded.Attributes["tags"]);
        Assert.Equal("""{"apples":3,"pears":12}""", decoded.Attributes["counts"]);
        Assert.Equal("""{"gift":false}""", decoded.Attributes["flags"]);
        Assert.Equal("[]", decoded.Attributes["weights"]);
        Assert.Equal("""["2026-12-07T12:00:00.123Z","1970-01-01T00:00:00.000Z"]""", decoded.Attributes["seen"]);
        Assert.Equal("""{"tea":"3.50","cake":"-12.25"}""", decoded.Attributes["prices"]);
        Assert.Equal("/basket", decoded.Attributes["path"]);

        var values = decoded.Typed!.Values;
        Assert.Equal([200L, 404L, -1L], values[0].Items!.Select(v => v.Integer));
        Assert.Equal(["apples", "pears"], values[2].Keys!);
        Assert.Equal([3L, 12L], values[2].Items!.Select(v => v.Integer));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 12, 0, 0, 123, TimeSpan.Zero).ToUnixTimeMilliseconds(), values[5].Items![0].Integer);
        Assert.Equal(new System.Numerics.BigInteger(350).ToByteArray(isUnsigned: false, isBigEndian: true), values[6].Items![0].Binary);
        Assert.Null(values[1].Keys); // an array has no keys
    }

    [Fact]
    public void A_null_optional_array_is_null_and_an_absent_one_takes_its_default()
    {
        var schema = Compiled();
        var attributes = Good();
        attributes["tags"] = "null";
        attributes.Remove("seen");
        attributes["codes"] = "[]";
        var decoded = schema.Decode(schema.TryEncodeFramed(Event(attributes)).AsSpan(5));
        Assert.False(decoded.Typed!.Values[1].HasValue);
        Assert.False(decoded.Attributes.ContainsKey("tags"));
        Assert.False(decoded.Typed!.Values[5].HasValue);
        Assert.Equal("[]", decoded.Attributes["codes"]);
        Assert.Empty(decoded.Typed!.Values[0].Items!);
    }

    [Theory]
    [InlineData("codes", """[200, "abc"]""", "field 'codes' item 1 must be an int, got \"abc\"", "1")]
    [InlineData("codes", """[200, 2.5]""", "field 'codes' item 1 must be an int, got \"2.5\"", "1")]
    [InlineData("codes", """[200, null]""", "field 'codes' item 1 must be an int, got null", "1")]
    [InlineData("codes", """[[1]]""", "field 'codes' item 0 must be an int, got [1]", "0")] // nested: no item of ours
    [InlineData("codes", "200", "field 'codes' must be an array<int>, got \"200\" (a JSON array)", null)]
    [InlineData("codes", """{"a":1}""", "field 'codes' must be an array<int>", null)]
    [InlineData("codes", "[1,", "field 'codes' must be an array<int>", null)]
    [InlineData("counts", """{"apples": 3, "pears": "many"}""", "field 'counts' key \"pears\" must be a long, got \"many\"", "pears")]
    [InlineData("counts", """{"apples": 3, "apples": 4}""", "field 'counts' has key \"apples\" twice", "apples")]
    [InlineData("counts", "[3]", "field 'counts' must be a map<long>, got \"[3]\" (a JSON object)", null)]
    [InlineData("seen", """["2026-12-07T12:00:00"]""", "field 'seen' item 0 must be a timestamp-millis, got \"2026-12-07T12:00:00\" (an ISO-8601 time with an offset", "0")]
    [InlineData("prices", """{"tea": "1.234"}""", "field 'prices' key \"tea\" must be a decimal(6,2), got \"1.234\" (at most 4 digits before the point and 2 after)", "tea")]
    public void Validate_names_the_field_the_item_and_the_type_it_expects(string field, string value, string expected, string? element)
    {
        var schema = Compiled();
        var attributes = Good();
        attributes[field] = value;

        var problem = schema.Validate(Event(attributes));

        Assert.StartsWith(expected, problem?.Message);
        Assert.Equal(field, problem?.Field);
        Assert.Equal(element, problem?.Element);
        Assert.Equal(schema.Fields.Single(f => f.Name == field).Expected, problem?.Expected);
        Assert.Null(schema.TryEncodeFramed(Event(attributes)));
    }

    [Fact]
    public async Task The_400_body_names_the_item_of_the_field()
    {
        var problem = Compiled().Validate(Event(new(Good()) { ["codes"] = """[1, 2, "x"]""" }))!;
        var http = new DefaultHttpContext { Response = { Body = new MemoryStream() } };

        await EventsDialect.Default.TypedFieldErrorAsync(http, problem, 3);

        http.Response.Body.Position = 0;
        using var body = await System.Text.Json.JsonDocument.ParseAsync(http.Response.Body);
        Assert.Equal(3, body.RootElement.GetProperty("line").GetInt32());
        Assert.Equal("codes", body.RootElement.GetProperty("field").GetString());
        Assert.Equal("2", body.RootElement.GetProperty("element").GetString());
        Assert.Equal("array<int>", body.RootElement.GetProperty("expected").GetString());
        Assert.StartsWith("field 'codes' item 2 must be an int, got \"x\"", body.RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("""{"type":"array","items":{"type":"array","items":"int"}}""", "field 'n': an array's items may not be an array")]
    [InlineData("""{"type":"map","values":{"type":"map","values":"int"}}""", "field 'n': a map's values may not be a map")]
    [InlineData("""{"type":"array","items":{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}}""", "field 'n': an array's items may not be a record")]
    [InlineData("""{"type":"array","items":["null","int"]}""", "field 'n': an array's items may not be a union")]
    [InlineData("""{"type":"map","values":{"type":"fixed","name":"F","size":2}}""", "field 'n': a map's values may not be a fixed")]
    public void Nested_containers_records_unions_and_fixed_items_are_refused_with_the_reason(string type, string expected)
    {
        var e = Assert.Throws<TypedSchemaException>(() => TypedLogSchema.Wrap("shop", $$"""{"type":"record","name":"S","fields":[{"name":"n","type":{{type}}}]}"""));
        Assert.Contains(expected, e.Message);
        Assert.Contains("nested arrays, maps and records", e.Message);
    }

    [Theory]
    [InlineData("""{"name":"n","type":{"type":"array","items":"int"},"default":["x"]}""", "default \"x\" is not an int")]
    [InlineData("""{"name":"n","type":{"type":"array","items":"int"},"default":{}}""", "is not a JSON array (array<int>)")]
    [InlineData("""{"name":"n","type":{"type":"map","values":"int"},"default":[]}""", "is not a JSON object (map<int>)")]
    public void A_default_not_of_the_containers_type_is_refused(string field, string expected)
    {
        var e = Assert.Throws<TypedSchemaException>(() => TypedLogSchema.Wrap("shop", $$"""{"type":"record","name":"S","fields":[{{field}}]}"""));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Items_promoted_as_Avro_says_are_backward_compatible_and_other_item_changes_are_not()
    {
        Schema Of(string type) => Schema.Parse(TypedLogSchema.Wrap("shop", $$"""{"type":"record","name":"S","fields":[{"name":"n","type":{{type}}}]}"""));
        var ints = Of("""{"type":"array","items":"int"}""");

        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Backward, Of("""{"type":"array","items":"long"}"""), [ints]));
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Backward, Of("""{"type":"array","items":"double"}"""), [ints]));
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Backward, Of("""{"type":"map","values":"long"}"""), [Of("""{"type":"map","values":"int"}""")]));
        Assert.Contains(AvroCompatibility.Check(CompatibilityLevel.Backward, Of("""{"type":"array","items":"string"}"""), [ints]), p => p.Contains("/n", StringComparison.Ordinal));
        Assert.NotEmpty(AvroCompatibility.Check(CompatibilityLevel.Backward, Of("""{"type":"map","values":"int"}"""), [ints]));
        Assert.NotEmpty(AvroCompatibility.Check(CompatibilityLevel.Forward, Of("""{"type":"array","items":"long"}"""), [ints])); // a long array is not read as ints
    }

    [Fact]
    public void A_record_another_writer_made_in_several_blocks_is_read_and_one_with_a_NaN_item_is_malformed()
    {
        var wrapped = (RecordSchema)Schema.Parse(TypedLogSchema.Wrap("shop", """{"type":"record","name":"S","fields":[{"name":"w","type":{"type":"array","items":"double"}}]}"""));
        var schema = TypedLogSchema.TryCompile(Id + 1, wrapped.ToString(), out var why) ?? throw new InvalidOperationException(why);
        var good = schema.TryEncodeFramed(Event(new() { ["w"] = "[1.5]" }))!;
        // The array at the end: count 1 (0x02), 8 bytes of 1.5, end (0x00). Rewritten as a block of -1 items with its
        // byte size (8), then a block of 1 item: both forms Avro allows.
        var head = good.AsSpan(0, good.Length - 10).ToArray();
        var item = good.AsSpan(good.Length - 9, 8).ToArray();
        byte[] blocks = [.. head, 0x01, 0x10, .. item, 0x02, .. item, 0x00];
        Assert.Equal("[1.5,1.5]", schema.Decode(blocks.AsSpan(5)).Attributes["w"]);

        byte[] nan = [.. head, 0x02, .. BitConverter.GetBytes(double.NaN), 0x00];
        Assert.Contains("NaN", Assert.Throws<MalformedRecordException>(() => schema.Decode(nan.AsSpan(5))).Message);
    }
}
