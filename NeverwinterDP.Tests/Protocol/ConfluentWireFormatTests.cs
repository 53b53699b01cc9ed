using System.Buffers;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

public class ConfluentWireFormatTests
{
    [Fact]
    public void A_frame_is_magic_byte_zero_then_the_schema_id_big_endian_then_the_payload()
    {
        var frame = ConfluentWireFormat.Frame(0x01020304, [0xAA, 0xBB]);

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 0xAA, 0xBB }, frame);
    }

    [Fact]
    public void Writing_the_header_into_a_buffer_matches_framing_an_array()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(buffer, SchemaIds.LogEvent);
        buffer.Write(new byte[] { 7 });

        Assert.Equal(ConfluentWireFormat.Frame(SchemaIds.LogEvent, [7]), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Unframing_gives_back_the_schema_id_and_the_payload()
    {
        var frame = ConfluentWireFormat.Frame(SchemaIds.LogEvent, [1, 2, 3]);

        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);

        Assert.Equal(SchemaIds.LogEvent, schemaId);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
    }

    [Fact]
    public void A_frame_with_an_empty_payload_unframes()
    {
        var payload = ConfluentWireFormat.Unframe(ConfluentWireFormat.Frame(7, []), out var schemaId);

        Assert.Equal(7, schemaId);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void The_LogEvent_schema_ids_are_fixed_1_for_version_1_and_1000000002_for_version_2()
    {
        // Records on the bus carry them: they never change.
        Assert.Equal(1, SchemaIds.LogEventV1);
        Assert.Equal(1_000_000_002, SchemaIds.LogEvent);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void A_buffer_shorter_than_the_header_is_rejected_saying_so(int length)
    {
        var e = Assert.Throws<MalformedRecordException>(() => ConfluentWireFormat.Unframe(new byte[length], out _));

        Assert.Contains($"too short: {length} bytes", e.Message);
    }

    [Fact]
    public void A_bad_magic_byte_is_rejected_naming_the_byte()
    {
        var e = Assert.Throws<MalformedRecordException>(() => ConfluentWireFormat.Unframe("{\"msg\":1}"u8, out _));

        Assert.Contains("magic byte 0x7B, expected 0x00", e.Message);
    }

    [Fact]
    public void TryUnframe_answers_false_for_short_or_foreign_bytes_and_true_for_a_frame()
    {
        Assert.False(ConfluentWireFormat.TryUnframe([0, 0, 0], out _, out _));
        Assert.False(ConfluentWireFormat.TryUnframe([1, 0, 0, 0, 1, 9], out _, out _));

        Assert.True(ConfluentWireFormat.TryUnframe([0, 0, 0, 0, 9, 5, 6], out var schemaId, out var payload));
        Assert.Equal(9, schemaId);
        Assert.Equal(new byte[] { 5, 6 }, payload.ToArray());
    }
}
