using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Hour markers are Confluent frames of the embedded HourMarker schema with their own id, which Apache.Avro reads as we do.</summary>
public class HourMarkerAvroTests
{
    private static readonly RecordSchema Schema = (RecordSchema)Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.HourMarker);

    [Fact]
    public void A_marker_is_framed_with_its_own_schema_id_and_reads_back()
    {
        var marker = new HourMarker("nwdp.logs.app", 1_796_000_400_000, "node-a", 7, 12_345);

        var frame = HourMarkerAvro.EncodeFramed(marker);

        Assert.True(ConfluentWireFormat.TryUnframe(frame, out var id, out _));
        Assert.Equal(SchemaIds.HourMarker, id);
        Assert.True(HourMarkerAvro.IsMarker(frame));
        Assert.Equal(marker, HourMarkerAvro.DecodeFramed(frame));
    }

    [Fact]
    public void Apache_Avro_decodes_the_marker_payload_by_the_embedded_schema()
    {
        var frame = HourMarkerAvro.EncodeFramed(new HourMarker("t", 3_600_000, "n", 2, 5));
        var stream = new MemoryStream(frame[ConfluentWireFormat.HeaderLength..]);

        var record = new GenericDatumReader<GenericRecord>(Schema, Schema).Read(null!, new BinaryDecoder(stream));

        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(("t", 3_600_000L, "n", 2, 5L), ((string)record["topic"], (long)record["hour"], (string)record["node"], (int)record["partition"], (long)record["count"]));
    }

    [Fact]
    public void A_log_event_is_not_a_marker_and_its_system_ts_reads_without_decoding_it()
    {
        var frame = LogEventAvro.EncodeFramed(Samples.Event() with { SystemTs = 1_796_000_400_123 });

        Assert.False(HourMarkerAvro.IsMarker(frame));
        Assert.True(LogEventAvro.TryReadSystemTs(frame, out var systemTs));
        Assert.Equal(1_796_000_400_123, systemTs);
        Assert.False(LogEventAvro.TryReadSystemTs(HourMarkerAvro.EncodeFramed(new HourMarker("t", 0, "n", 0, 0)), out _));
        Assert.Throws<MalformedRecordException>(() => HourMarkerAvro.DecodeFramed(frame));
    }

    [Fact]
    public void A_completion_survives_its_json()
    {
        var completion = new HourCompletion("files", "nwdp.logs.app", 3_600_000, 2, HourCompletion.IncompleteClosed, "no marker from n", [3, 0, 4], ["a", "b"], 7, 1, 42);

        var back = HourCompletion.FromJson(completion.ToJson());

        Assert.Equal(completion.Counts, back.Counts);
        Assert.Equal(completion.Nodes, back.Nodes);
        Assert.Equal(completion with { Counts = back.Counts, Nodes = back.Nodes }, back);
        Assert.Equal(7, back.Events);
        Assert.Equal("1970-01-01T01:00Z", back.HourText);
    }
}
