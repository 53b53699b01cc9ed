using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// A typed log type's record: wrapped from the attributes' schema, validated, encoded by hand and decoded back; the
/// bytes are what Apache.Avro reads with the registered (wrapped) schema, so Confluent's deserializers read them too.
/// </summary>
public class TypedLogSchemaTests
{
    private const string Web = """
        {"type":"record","name":"Web","fields":[
          {"name":"status","type":"int"},
          {"name":"bytes","type":"long"},
          {"name":"latency_ms","type":"double"},
          {"name":"user","type":["null","string"],"default":null},
          {"name":"cached","type":"boolean","default":false},
          {"name":"ratio","type":["float","null"],"default":1.5}
        ]}
        """;

    // Ids no registry of a test node gives (they count from 4): the process-wide lookup cannot mix them up.
    private const int Id = 1_500_000_101;

    private static TypedLogSchema Compiled(int id = Id) => TypedTestSchemas.Compile(id, "web", Web);

    private static LogEvent Event(Dictionary<string, string> attributes) => new()
    {
        Ts = 1_700_000_000_000, SystemTs = 1_700_000_000_123, Host = "web-1", Ip = "10.0.0.1", Process = "nginx", Type = "web",
        Message = "GET / 200", Attributes = attributes, Lineage = new Lineage("node-1", 42, "team"),
    };

    private static Dictionary<string, string> Good() => new()
    {
        ["status"] = "200", ["bytes"] = "1534", ["latency_ms"] = "12.5", ["user"] = "ann", ["path"] = "/index.html",
    };

    [Fact]
    public void Wrap_appends_the_attributes_to_the_LogEvent_envelope_under_the_types_own_record_name()
    {
        var wrapped = (RecordSchema)Schema.Parse(TypedLogSchema.Wrap("web-access", Web));

        Assert.Equal("neverwinterdp.logs.web_access", wrapped.Fullname);
        Assert.Equal(TypedLogSchema.EnvelopeFields.Concat(["status", "bytes", "latency_ms", "user", "cached", "ratio"]), wrapped.Fields.Select(f => f.Name));
        Assert.Equal("neverwinterdp.Lineage", ((RecordSchema)wrapped["lineage"].Schema).Fullname);
        var compiled = Compiled();
        Assert.Equal([TypedKind.Int, TypedKind.Long, TypedKind.Double, TypedKind.String, TypedKind.Boolean, TypedKind.Float], compiled.Fields.Select(f => f.Kind));
        Assert.Equal("string or null", compiled.Fields[3].Expected);
    }

    [Theory]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"tags","type":{"type":"array","items":{"type":"array","items":"string"}}}]}""", "field 'tags': an array's items may not be an array")]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"host","type":"string"}]}""", "field 'host' is a field of the LogEvent envelope")]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"m","type":{"type":"record","name":"M","fields":[{"name":"x","type":"long"}]}}]}""", "field 'm' has type")]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4}}]}""", "field 'f' has type")]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"n","type":["int","string","null"]}]}""", "field 'n' has type")]
    [InlineData("""{"type":"record","name":"W","fields":[{"name":"n","type":["int","null"],"default":null}]}""", "default null needs")]
    [InlineData("""{"type":"record","name":"W","fields":[]}""", "no fields")]
    [InlineData("\"string\"", "must be a record")]
    [InlineData("{not json", "not an Avro schema")]
    public void Wrap_refuses_what_a_log_type_cannot_have_and_says_why(string schema, string expected)
    {
        var e = Assert.Throws<TypedSchemaException>(() => TypedLogSchema.Wrap("web", schema));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void TryCompile_tells_a_typed_log_schema_from_any_other_schema()
    {
        Assert.Null(TypedLogSchema.TryCompile(7, """{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}""", out var why));
        Assert.Contains("envelope", why);
        Assert.Null(TypedLogSchema.TryCompile(8, NeverwinterDP.Protocol.Schemas.LogEvent, out _)); // the envelope alone has no typed fields
        Assert.NotNull(TypedLogSchema.TryCompile(9, TypedLogSchema.Wrap("web", Web), out _));
    }

    [Fact]
    public void Apache_Avro_reads_the_typed_record_with_the_registered_schema_and_we_read_it_back_as_strings()
    {
        var schema = Compiled();
        var logEvent = Event(Good());

        var frame = schema.TryEncodeFramed(logEvent)!;

        Assert.Equal(Id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(1, 4)));
        var record = TypedTestSchemas.ReadFramed(frame, "web", Web);
        Assert.Equal(200, record["status"]);
        Assert.Equal(1534L, record["bytes"]);
        Assert.Equal(12.5, record["latency_ms"]);
        Assert.Equal("ann", record["user"]);
        Assert.Equal(false, record["cached"]); // its default
        Assert.Equal(1.5f, record["ratio"]);
        Assert.Equal(new Dictionary<string, object> { ["path"] = "/index.html" }, (IDictionary<string, object>)record["attributes"]);
        Assert.Equal("GET / 200", record["message"]);
        Assert.Equal("team", ((GenericRecord)record["lineage"])["sender"]);

        var decoded = schema.Decode(frame.AsSpan(5));
        var expected = Good();
        expected["cached"] = "false";
        expected["ratio"] = "1.5";
        Assert.Equal(logEvent with { Attributes = expected }, decoded);
    }

    [Fact]
    public void Null_and_absent_optional_fields_are_written_null_and_read_back_absent()
    {
        var schema = Compiled();
        var attributes = Good();
        attributes.Remove("user");
        attributes["ratio"] = "null";

        var decoded = schema.Decode(schema.TryEncodeFramed(Event(attributes)).AsSpan(5));

        Assert.False(decoded.Attributes.ContainsKey("user"));
        Assert.False(decoded.Attributes.ContainsKey("ratio"));
        Assert.Equal("200", decoded.Attributes["status"]);
    }

    [Theory]
    [InlineData("status", "abc", "field 'status' must be an int, got \"abc\"")]
    [InlineData("status", "3000000000", "field 'status' must be an int")]
    [InlineData("status", "2.5", "field 'status' must be an int")]
    [InlineData("bytes", "true", "field 'bytes' must be a long, got \"true\"")]
    [InlineData("latency_ms", "fast", "field 'latency_ms' must be a double, got \"fast\"")]
    [InlineData("cached", "yes", "field 'cached' must be a boolean")]
    [InlineData("ratio", "x", "field 'ratio' must be a float or null")]
    public void Validate_names_the_field_and_the_expected_type(string field, string value, string expected)
    {
        var schema = Compiled();
        var attributes = Good();
        attributes[field] = value;
        var logEvent = Event(attributes);

        var problem = schema.Validate(logEvent);
        Assert.StartsWith(expected, problem?.Message);
        Assert.Equal(field, problem?.Field);
        Assert.Null(schema.TryEncodeFramed(logEvent)); // ingress then writes the plain LogEvent
    }

    [Fact]
    public void Validate_accepts_numbers_given_as_JSON_numbers_or_strings_and_requires_fields_without_default()
    {
        var schema = Compiled();
        Assert.Null(schema.Validate(Event(Good())));
        Assert.Null(schema.Validate(Event(new Dictionary<string, string>(Good()) { ["latency_ms"] = "1e3", ["status"] = "-1" })));
        var missing = Good();
        missing.Remove("bytes");
        Assert.Equal(new TypedFieldProblem("bytes", "long", "field 'bytes' is required (expected long)"), schema.Validate(Event(missing)));
        // A string attribute takes any text, "null" included.
        Assert.Null(schema.Validate(Event(new Dictionary<string, string>(Good()) { ["user"] = "null" })));
    }

    [Fact]
    public void DecodeFramed_reads_typed_records_by_the_id_in_their_frame_and_the_hour_counts_read_their_system_ts()
    {
        const int id = 1_500_000_102;
        var schema = Compiled(id);
        var text = TypedLogSchema.Wrap("web", Web);
        var lookups = 0;
        var frame = schema.TryEncodeFramed(Event(Good()))!;
        Assert.Throws<MalformedRecordException>(() => LogEventAvro.DecodeFramed(frame)); // no registry knows the id yet

        using (TypedLogSchemas.AddLookup(i => { if (i != id) return null; lookups++; return text; }))
        {
            Assert.Equal("1534", LogEventAvro.DecodeFramed(frame).Attributes["bytes"]);
            Assert.Equal("12.5", LogEventAvro.DecodeFramed(frame).Attributes["latency_ms"]);
            Assert.True(LogEventAvro.TryReadSystemTs(frame, out var systemTs));
            Assert.Equal(1_700_000_000_123, systemTs);
        }
        Assert.Equal(1, lookups); // compiled once per id, then cached
        Assert.Equal("200", LogEventAvro.DecodeFramed(frame).Attributes["status"]); // an id's schema never changes: kept
    }

    [Fact]
    public void Decode_hands_the_typed_values_over_unboxed_in_the_schemas_field_order()
    {
        var schema = Compiled(1_500_000_103);
        var decoded = schema.Decode(ConfluentWireFormat.Unframe(schema.TryEncodeFramed(Event(Good()))!, out _));

        var typed = decoded.Typed!;
        Assert.Same(schema, typed.Schema);
        Assert.Equal(["status", "bytes", "latency_ms", "user", "cached", "ratio"], typed.Schema.Fields.Select(f => f.Name));
        Assert.Equal(
            [new TypedValue(true, Integer: 200), new TypedValue(true, Integer: 1534), new TypedValue(true, Real: 12.5), new TypedValue(true, Text: "ann"),
             new TypedValue(true, Integer: 0), new TypedValue(true, Real: 1.5)],
            typed.Values);
        Assert.Equal("200", decoded.Attributes["status"]); // the string forms stay, for every other sink
        Assert.Equal("/index.html", decoded.Attributes["path"]);
        Assert.Null(LogEventAvro.Decode(LogEventAvro.Encode(Event(Good()))).Typed); // a plain LogEvent has none

        var nulls = schema.Decode(ConfluentWireFormat.Unframe(schema.TryEncodeFramed(Event(new() { ["status"] = "1", ["bytes"] = "2", ["latency_ms"] = "3", ["ratio"] = "null" }))!, out _));
        Assert.False(nulls.Typed!.Values[3].HasValue); // user: null
        Assert.False(nulls.Typed!.Values[5].HasValue); // ratio: null
    }

    [Fact]
    public void Adding_an_optional_field_is_backward_compatible_and_changing_a_fields_type_is_not()
    {
        var v1 = Schema.Parse(TypedLogSchema.Wrap("web", """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"}]}"""));
        var v2 = Schema.Parse(TypedLogSchema.Wrap("web", """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"},{"name":"user","type":["null","string"],"default":null}]}"""));
        var bad = Schema.Parse(TypedLogSchema.Wrap("web", """{"type":"record","name":"Web","fields":[{"name":"status","type":"string"}]}"""));

        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Backward, v2, [v1]));
        Assert.Contains(AvroCompatibility.Check(CompatibilityLevel.Backward, bad, [v1]), p => p.Contains("status"));
    }
}
