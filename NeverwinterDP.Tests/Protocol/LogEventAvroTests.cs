using System.Buffers;
using System.Text;
using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// Our hand-written Avro encoding must be the schema's encoding: Apache.Avro, reading the embedded .avsc,
/// decodes what we write, and we decode what it writes.
/// </summary>
public class LogEventAvroTests
{
    private static readonly RecordSchema Schema = (RecordSchema)Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEvent);
    private static readonly RecordSchema LineageSchema = (RecordSchema)Schema["lineage"].Schema;

    public static TheoryData<string, LogEvent> Events => new()
    {
        { "typical", Samples.Event() },
        { "empty attributes", Samples.Event(attributes: LogEvent.NoAttributes) },
        { "empty strings", new LogEvent { Host = "", Ip = "", Process = "", Type = "", Version = "", Level = "", Message = "", Lineage = new Lineage("", 0) } },
        { "unicode", Samples.Event("héllo wörld — 日志 🚀 \u0000 \t\n\"", new Dictionary<string, string> { ["ключ"] = "значение", ["emoji 🙂"] = "𝄞" }) },
        { "large", Samples.Event(new string('x', 1_000_000), Enumerable.Range(0, 1000).ToDictionary(i => $"key{i}", i => new string('v', i))) },
        { "extreme numbers", Samples.Event() with { Ts = long.MinValue, SystemTs = long.MaxValue, Lineage = new Lineage("n", long.MinValue) } },
        { "a sender key's name", Samples.Event() with { Lineage = new Lineage("n", 7, "web-team") } },
        { "an empty sender name", Samples.Event() with { Lineage = new Lineage("n", 7, "") } },
        { "negative and max sequence", Samples.Event() with { Ts = -1, SystemTs = 0, Lineage = new Lineage("n", long.MaxValue) } },
        { "string lengths around the one-byte length limit", Samples.Event(new string('m', 63), new Dictionary<string, string> { [new string('k', 20)] = new string('v', 21), ["é"] = new string('é', 32) }) },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Apache_Avro_decodes_what_we_encode(string _, LogEvent logEvent)
    {
        var bytes = LogEventAvro.Encode(logEvent);

        var stream = new MemoryStream(bytes);
        var record = new GenericDatumReader<GenericRecord>(Schema, Schema).Read(null!, new BinaryDecoder(stream));

        Assert.Equal(bytes.Length, stream.Position);
        Assert.Equal(logEvent, FromGeneric(record));
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void We_decode_what_Apache_Avro_encodes(string _, LogEvent logEvent)
    {
        var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(Schema).Write(ToGeneric(logEvent), new BinaryEncoder(stream));

        Assert.Equal(logEvent, LogEventAvro.Decode(stream.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void We_encode_byte_for_byte_what_Apache_Avro_encodes(string _, LogEvent logEvent)
    {
        var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(Schema).Write(ToGeneric(logEvent), new BinaryEncoder(stream));

        Assert.Equal(stream.ToArray(), LogEventAvro.Encode(logEvent));
    }

    [Fact]
    public void A_version_1_record_from_before_the_sender_still_decodes_without_one()
    {
        var v1 = (RecordSchema)Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEventV1);
        var logEvent = Samples.Event() with { Lineage = new Lineage("old-node", 42) };
        var lineage = new GenericRecord((RecordSchema)v1["lineage"].Schema);
        lineage.Add("ingress_node", "old-node");
        lineage.Add("source_seq", 42L);
        var record = new GenericRecord(v1);
        foreach (var field in v1.Fields.Where(f => f.Name != "lineage")) record.Add(field.Name, ToGeneric(logEvent)[field.Name]);
        record.Add("lineage", lineage);
        var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(v1).Write(record, new BinaryEncoder(stream));
        var frame = ConfluentWireFormat.Frame(SchemaIds.LogEventV1, stream.ToArray());

        var decoded = LogEventAvro.DecodeFramed(frame);

        Assert.Equal(logEvent, decoded);
        Assert.Null(decoded.Lineage.Sender);
        Assert.True(LogEventAvro.TryReadSystemTs(frame, out var systemTs) && systemTs == logEvent.SystemTs);
        // What nodes write now is version 2 under its own id, and a version 1 reader (an older consumer) reads it too.
        var current = LogEventAvro.EncodeFramed(logEvent with { Lineage = new Lineage("n", 1, "web-team") });
        Assert.Equal("web-team", LogEventAvro.DecodeFramed(current).Lineage.Sender);
        ConfluentWireFormat.Unframe(current, out var id);
        Assert.Equal(SchemaIds.LogEvent, id);
        Assert.Empty(AvroCompatibility.ReadProblems(Schema, v1));
        Assert.Empty(AvroCompatibility.ReadProblems(v1, Schema));
    }

    [Fact]
    public void Random_events_survive_both_directions()
    {
        var random = new Random(20240601);
        for (var i = 0; i < 300; i++)
        {
            var logEvent = RandomEvent(random);
            var ours = LogEventAvro.Encode(logEvent);

            var theirs = new MemoryStream();
            new GenericDatumWriter<GenericRecord>(Schema).Write(ToGeneric(logEvent), new BinaryEncoder(theirs));

            Assert.Equal(theirs.ToArray(), ours);
            Assert.Equal(logEvent, LogEventAvro.Decode(ours));
        }
    }

    [Fact]
    public void Encoding_appends_to_what_the_buffer_already_holds()
    {
        var buffer = new ArrayBufferWriter<byte>(16); // small, so the writer must ask for more
        buffer.Write("prefix"u8);
        LogEventAvro.Encode(Samples.Event(), buffer);
        LogEventAvro.Encode(Samples.Event("second"), buffer);

        var single = LogEventAvro.Encode(Samples.Event());
        Assert.Equal("prefix"u8.ToArray(), buffer.WrittenSpan[..6].ToArray());
        Assert.Equal(single, buffer.WrittenSpan.Slice(6, single.Length).ToArray());
        Assert.Equal("second", LogEventAvro.Decode(buffer.WrittenSpan[(6 + single.Length)..]).Message);
    }

    [Fact]
    public void A_map_in_several_blocks_with_negative_counts_decodes_as_one_map()
    {
        // Other writers may split a map into blocks and give a negative count followed by the block size.
        var bytes = new List<byte>();
        void Long(long v) { var n = (ulong)((v << 1) ^ (v >> 63)); while (n >= 0x80) { bytes.Add((byte)(n | 0x80)); n >>= 7; } bytes.Add((byte)n); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Long(b.Length); bytes.AddRange(b); }

        Long(1); Long(2); Str("h"); Str("i"); Str("p"); Str("t"); Str("v"); Str("l"); Str("m");
        Long(1); Str("a"); Str("1");           // block of one
        Long(-2); Long(8); Str("b"); Str("2"); Str("c"); Str("3"); // block of two, with its byte size
        Long(0);
        Str("node"); Long(9); Long(0); // lineage.sender: null

        var logEvent = LogEventAvro.Decode(bytes.ToArray());

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" }, logEvent.Attributes);
        Assert.Equal(new Lineage("node", 9), logEvent.Lineage);
    }

    [Fact]
    public void A_truncated_payload_fails_naming_the_field_it_stopped_in()
    {
        var bytes = LogEventAvro.Encode(Samples.Event());

        var e = Assert.Throws<MalformedRecordException>(() => LogEventAvro.Decode(bytes.AsSpan(0, 12)));

        Assert.Contains("'host'", e.Message);
        Assert.Contains("ends early", e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_payload_fails_cleanly()
    {
        var bytes = LogEventAvro.Encode(Samples.Event());

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<MalformedRecordException>(() => LogEventAvro.Decode(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Bytes_left_over_after_the_record_are_an_error()
    {
        var bytes = LogEventAvro.Encode(Samples.Event()).Append((byte)0).ToArray();

        var e = Assert.Throws<MalformedRecordException>(() => LogEventAvro.Decode(bytes));

        Assert.Contains("1 bytes left over", e.Message);
    }

    [Fact]
    public void Invalid_UTF8_in_a_string_is_an_error()
    {
        var bytes = LogEventAvro.Encode(Samples.Event() with { Host = "HOSTMARK" });
        bytes[bytes.AsSpan().IndexOf("HOSTMARK"u8)] = 0xFF;

        var e = Assert.Throws<MalformedRecordException>(() => LogEventAvro.Decode(bytes));

        Assert.Contains("'host'", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void A_framed_event_round_trips_with_the_LogEvent_schema_id()
    {
        var logEvent = Samples.Event();

        var frame = LogEventAvro.EncodeFramed(logEvent);

        Assert.Equal(new byte[] { 0, 0x3B, 0x9A, 0xCA, 0x02 }, frame[..5]); // magic 0, schema id 1000000002 (version 2) big-endian
        Assert.Equal(LogEventAvro.Encode(logEvent), frame[5..]);
        Assert.Equal(logEvent, LogEventAvro.DecodeFramed(frame));
    }

    [Fact]
    public void Decoding_a_frame_with_another_schema_id_fails()
    {
        var frame = LogEventAvro.EncodeFramed(Samples.Event(), schemaId: 42);

        var e = Assert.Throws<MalformedRecordException>(() => LogEventAvro.DecodeFramed(frame));

        Assert.Contains("schema id 42", e.Message);
    }

    private static LogEvent RandomEvent(Random random) => Samples.RandomEvent(random, ["é", "日", "🚀"]);

    private static GenericRecord ToGeneric(LogEvent e)
    {
        var lineage = new GenericRecord(LineageSchema);
        lineage.Add("ingress_node", e.Lineage.IngressNode);
        lineage.Add("source_seq", e.Lineage.SourceSeq);
        lineage.Add("sender", e.Lineage.Sender);

        var record = new GenericRecord(Schema);
        record.Add("ts", e.Ts);
        record.Add("system_ts", e.SystemTs);
        record.Add("host", e.Host);
        record.Add("ip", e.Ip);
        record.Add("process", e.Process);
        record.Add("type", e.Type);
        record.Add("version", e.Version);
        record.Add("level", e.Level);
        record.Add("message", e.Message);
        record.Add("attributes", e.Attributes.ToDictionary(kv => kv.Key, kv => (object)kv.Value));
        record.Add("lineage", lineage);
        return record;
    }

    private static LogEvent FromGeneric(GenericRecord r)
    {
        var lineage = (GenericRecord)r["lineage"];
        return new LogEvent
        {
            Ts = (long)r["ts"],
            SystemTs = (long)r["system_ts"],
            Host = (string)r["host"],
            Ip = (string)r["ip"],
            Process = (string)r["process"],
            Type = (string)r["type"],
            Version = (string)r["version"],
            Level = (string)r["level"],
            Message = (string)r["message"],
            Attributes = ((IDictionary<string, object>)r["attributes"]).ToDictionary(kv => kv.Key, kv => (string)kv.Value),
            Lineage = new Lineage((string)lineage["ingress_node"], (long)lineage["source_seq"], (string?)lineage["sender"]),
        };
    }

    [Fact]
    public void The_message_byte_count_is_its_UTF8_length_and_follows_a_new_message()
    {
        var e = new LogEvent { Message = "héllo ✓ 🎉" };
        Assert.Equal(Encoding.UTF8.GetByteCount(e.Message), e.MessageByteCount());
        Assert.Equal(15, e.MessageByteCount()); // counted once, the same again

        var other = e with { Message = "plain" };
        Assert.Equal(5, other.MessageByteCount());
        Assert.Equal(15, e.MessageByteCount());

        // The encoder writes the counted length: Apache.Avro reads the message back whole.
        var stream = new MemoryStream(LogEventAvro.Encode(e));
        var record = new GenericDatumReader<GenericRecord>(Schema, Schema).Read(null!, new BinaryDecoder(stream));
        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(e.Message, record["message"]);
    }
}
