using System.Text.Json;
using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Avro's JSON encoding to Avro binary (the REST Proxy input's values), checked against Apache.Avro's own binary reader.</summary>
public class AvroJsonTests
{
    private static readonly Schema Everything = Schema.Parse("""
        {"type":"record","name":"Everything","namespace":"t","fields":[
          {"name":"i","type":"int"},
          {"name":"l","type":"long"},
          {"name":"f","type":"float"},
          {"name":"d","type":"double"},
          {"name":"b","type":"boolean"},
          {"name":"s","type":"string"},
          {"name":"raw","type":"bytes"},
          {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"counts","type":{"type":"map","values":"long"}},
          {"name":"id","type":{"type":"fixed","name":"Id","size":2}},
          {"name":"opt","type":["null","string"]},
          {"name":"when","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"inner","type":{"type":"record","name":"Inner","fields":[{"name":"n","type":["null","int","t.Color"]}]}},
          {"name":"missing_null","type":["null","string"],"default":null},
          {"name":"missing_level","type":"string","default":"info"},
          {"name":"missing_map","type":{"type":"map","values":"string"},"default":{"a":"b"}}
        ]}
        """);

    private const string Good = """
        {"i":-7,"l":3000000000,"f":1.5,"d":2.25,"b":true,"s":"héllo","raw":"\u0000\u00ff","color":"GREEN","tags":["x","y"],
         "counts":{"a":1,"b":2},"id":"AB","opt":{"string":"there"},"when":1700000000000,"inner":{"n":{"t.Color":"RED"}}}
        """;

    private static GenericRecord ReadBack(byte[] avro)
    {
        var reader = new GenericDatumReader<GenericRecord>(Everything, Everything);
        using var stream = new MemoryStream(avro);
        var record = reader.Read(null!, new BinaryDecoder(stream));
        Assert.Equal(avro.Length, stream.Position); // nothing left over
        return record;
    }

    private static AvroJsonException Refused(string json) =>
        Assert.Throws<AvroJsonException>(() => AvroJson.ToBinary(Everything, JsonDocument.Parse(json).RootElement));

    private static string With(string field, string value)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Good)!.AsObject();
        node[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        return node.ToJsonString();
    }

    [Fact]
    public void Every_type_is_encoded_as_Apache_Avros_binary_reader_reads_it_and_missing_fields_take_their_defaults()
    {
        var record = ReadBack(AvroJson.ToBinary(Everything, JsonDocument.Parse(Good).RootElement));

        Assert.Equal(-7, record["i"]);
        Assert.Equal(3000000000L, record["l"]);
        Assert.Equal(1.5f, record["f"]);
        Assert.Equal(2.25, record["d"]);
        Assert.Equal(true, record["b"]);
        Assert.Equal("héllo", record["s"]);
        Assert.Equal(new byte[] { 0, 255 }, (byte[])record["raw"]);
        Assert.Equal("GREEN", ((GenericEnum)record["color"]).Value);
        Assert.Equal(new object[] { "x", "y" }, (object[])record["tags"]);
        Assert.Equal(2L, ((IDictionary<string, object>)record["counts"])["b"]);
        Assert.Equal("AB"u8.ToArray(), ((GenericFixed)record["id"]).Value);
        Assert.Equal("there", record["opt"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000).UtcDateTime, record["when"]);
        Assert.Equal("RED", ((GenericEnum)((GenericRecord)record["inner"])["n"]).Value);
        Assert.Null(record["missing_null"]);
        Assert.Equal("info", record["missing_level"]);
        Assert.Equal("b", ((IDictionary<string, object>)record["missing_map"])["a"]);
    }

    [Fact]
    public void A_union_takes_null_bare_and_any_other_branch_wrapped_in_its_name()
    {
        var record = ReadBack(AvroJson.ToBinary(Everything, JsonDocument.Parse(With("opt", "null")).RootElement));
        Assert.Null(record["opt"]);
        var inner = ReadBack(AvroJson.ToBinary(Everything, JsonDocument.Parse(With("inner", """{"n":{"int":5}}""")).RootElement));
        Assert.Equal(5, ((GenericRecord)inner["inner"])["n"]);

        Assert.Equal("opt", Refused(With("opt", "\"bare\"")).Path);
        Assert.Contains("[null, string]", Refused(With("opt", "\"bare\"")).Problem);
        Assert.Equal("'long' is not a branch of the union [null, string]", Refused(With("opt", """{"long":1}""")).Problem);
        Assert.Equal("inner.n", Refused(With("inner", """{"n":{"Color":"RED"}}""")).Path); // a named branch by its full name
    }

    [Theory]
    [InlineData("i", "2147483648", "i", "expected an int, got 2147483648")]
    [InlineData("i", "1.5", "i", "expected an int, got 1.5")]
    [InlineData("l", "\"12\"", "l", "expected a long, got \"12\"")]
    [InlineData("f", "true", "f", "expected a float, got true")]
    [InlineData("b", "1", "b", "expected a boolean, got 1")]
    [InlineData("s", "5", "s", "expected a string, got 5")]
    [InlineData("raw", "\"\u0100\"", "raw", "expected bytes (a string of code points 0-255), got code point U+0100 at position 0")]
    [InlineData("color", "\"BLUE\"", "color", "expected one of the symbols RED, GREEN of enum t.Color, got \"BLUE\"")]
    [InlineData("tags", "[\"x\",3]", "tags[1]", "expected a string, got 3")]
    [InlineData("counts", "{\"a\":\"x\"}", "counts[\"a\"]", "expected a long, got \"x\"")]
    [InlineData("id", "\"ABC\"", "id", "expected 2 bytes (fixed t.Id), got 3")]
    [InlineData("inner", "{\"n\":{\"int\":\"x\"}}", "inner.n", "expected an int, got \"x\"")]
    [InlineData("inner", "{\"n\":null,\"extra\":1}", "inner.extra", "record t.Inner has no such field")]
    [InlineData("inner", "{}", "inner.n", "missing, and the field has no default")]
    public void A_value_that_is_not_its_schemas_JSON_encoding_is_refused_naming_the_field(string field, string value, string path, string problem)
    {
        var refused = Refused(With(field, value));

        Assert.Equal(path, refused.Path);
        Assert.Equal(problem, refused.Problem);
        Assert.Equal($"field '{path}': {problem}", refused.Message);
    }

    [Fact]
    public void A_value_that_is_not_an_object_is_refused_at_the_top()
    {
        var refused = Assert.Throws<AvroJsonException>(() => AvroJson.ToBinary(Everything, JsonDocument.Parse("[1]").RootElement));
        Assert.Equal("", refused.Path);
        Assert.Equal("expected an object (record t.Everything), got [1]", refused.Message);
    }
}
