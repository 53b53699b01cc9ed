using NeverwinterDP.Protocol;
using Xunit;
using AvroSchema = Avro.Schema;
using RecordSchema = Avro.RecordSchema;

namespace NeverwinterDP.Tests.Protocol;

public class SchemasTests
{
    [Fact]
    public void The_LogEvent_schema_is_the_neverwinterdp_LogEvent_record_with_every_envelope_field_in_order()
    {
        var schema = (RecordSchema)AvroSchema.Parse(Schemas.LogEvent);

        Assert.Equal("neverwinterdp.LogEvent", schema.Fullname);
        Assert.Equal(
            ["ts", "system_ts", "host", "ip", "process", "type", "version", "level", "message", "attributes", "lineage"],
            schema.Fields.Select(f => f.Name));
        var lineage = (RecordSchema)schema["lineage"].Schema;
        Assert.Equal(["ingress_node", "source_seq", "sender"], lineage.Fields.Select(f => f.Name));
        var v1 = (RecordSchema)AvroSchema.Parse(Schemas.LogEventV1);
        Assert.Equal(["ingress_node", "source_seq"], ((RecordSchema)v1["lineage"].Schema).Fields.Select(f => f.Name));
    }

    [Fact]
    public void Timestamps_are_plain_longs_so_generic_readers_get_the_epoch_milliseconds_exactly()
    {
        var schema = (RecordSchema)AvroSchema.Parse(Schemas.LogEvent);

        Assert.Equal(AvroSchema.Type.Long, schema["ts"].Schema.Tag);
        Assert.Equal(AvroSchema.Type.Long, schema["system_ts"].Schema.Tag);
    }

    [Fact]
    public void Every_LogEvent_field_is_documented()
    {
        var schema = (RecordSchema)AvroSchema.Parse(Schemas.LogEvent);
        var lineage = (RecordSchema)schema["lineage"].Schema;

        Assert.All(schema.Fields.Concat(lineage.Fields), f => Assert.False(string.IsNullOrWhiteSpace(f.Documentation), f.Name));
    }

    [Theory]
    [InlineData("Heartbeat", "neverwinterdp.Heartbeat", new[] { "host", "process", "ts", "interval_ms" })]
    [InlineData("HourMarker", "neverwinterdp.HourMarker", new[] { "topic", "hour", "node", "partition", "count" })]
    public void The_control_record_schemas_parse_with_their_fields(string name, string fullName, string[] fields)
    {
        var schema = (RecordSchema)AvroSchema.Parse(Schemas.Load(name));

        Assert.Equal(fullName, schema.Fullname);
        Assert.Equal(fields, schema.Fields.Select(f => f.Name));
        Assert.Equal(Schemas.All[name], Schemas.Load(name));
    }

    [Fact]
    public void Loading_a_schema_that_is_not_embedded_names_the_ones_that_are()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Schemas.Load("Nope"));

        Assert.Contains("Nope", e.Message);
        Assert.Contains("LogEvent.avsc", e.Message);
    }
}
