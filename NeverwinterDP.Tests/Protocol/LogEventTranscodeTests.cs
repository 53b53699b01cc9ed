using System.Buffers;
using System.Text;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// The files sink's NDJSON written straight from the bus bytes (<see cref="LogEventJson.WriteLineFromAvro"/>) must be,
/// byte for byte, the line of the decoded event; the scan before it (<see cref="LogEventAvro.TryScanFramed"/>) must refuse
/// what decoding refuses, with the same message, and hand over to decoding what only the decoded event can say.
/// </summary>
public class LogEventTranscodeTests
{
    private static byte[] Decoded(byte[] frame) => LogEventJson.ToLine(LogEventAvro.DecodeFramed(frame));

    private static byte[] Transcoded(byte[] frame)
    {
        var buffer = new ArrayBufferWriter<byte>(16); // small: the writer must ask for more
        LogEventJson.WriteLineFromAvro(frame, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Random_events_give_the_decoded_events_line_byte_for_byte_and_their_header()
    {
        var random = new Random(20261207);
        var strings = new RecentStrings();
        for (var i = 0; i < 2000; i++)
        {
            var logEvent = RandomEvent(random);
            var frame = LogEventAvro.EncodeFramed(logEvent);

            Assert.True(LogEventAvro.TryScanFramed(frame, strings, out var header), $"event {i}");
            Assert.Equal(Encoding.UTF8.GetString(Decoded(frame)), Encoding.UTF8.GetString(Transcoded(frame)));
            Assert.Equal((logEvent.SystemTs, logEvent.Type, Encoding.UTF8.GetByteCount(logEvent.Message), logEvent.Lineage.IngressNode),
                (header.SystemTs, header.Type, header.MessageBytes, header.IngressNode));
        }
    }

    [Fact]
    public void A_version_1_record_has_no_sender_and_the_same_line()
    {
        var logEvent = RandomEvent(new Random(7)) with { Lineage = new Lineage("old-node", 42) };
        var v2 = LogEventAvro.Encode(logEvent);
        Assert.Equal(0, v2[^1]); // the sender's null branch, the one byte version 1 does not have
        var frame = ConfluentWireFormat.Frame(SchemaIds.LogEventV1, v2[..^1]);

        Assert.True(LogEventAvro.TryScanFramed(frame, new RecentStrings(), out var header));
        Assert.Equal("old-node", header.IngressNode);
        Assert.Equal(Decoded(frame), Transcoded(frame));
    }

    [Fact]
    public void Repeated_types_and_nodes_share_one_string()
    {
        var strings = new RecentStrings();
        var e = new LogEvent { Type = "web", Message = "m", Lineage = new Lineage("node-a", 1) };
        Assert.True(LogEventAvro.TryScanFramed(LogEventAvro.EncodeFramed(e), strings, out var first));
        Assert.True(LogEventAvro.TryScanFramed(LogEventAvro.EncodeFramed(e with { Message = "other" }), strings, out var second));

        Assert.Same(first.Type, second.Type);
        Assert.Same(first.IngressNode, second.IngressNode);
    }

    [Fact]
    public void A_key_twice_or_too_many_keys_are_left_to_the_decoder()
    {
        // Other writers can put a key twice in an Avro map; the decoded map keeps the last value at the first key's place.
        var twice = new LogEvent { Message = "m", Attributes = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } };
        var bytes = LogEventAvro.EncodeFramed(twice);
        var text = Encoding.Latin1.GetString(bytes).Replace("\u0002b\u00022", "\u0002a\u00022", StringComparison.Ordinal);
        var frame = Encoding.Latin1.GetBytes(text);
        Assert.Equal("2", Assert.Single(LogEventAvro.DecodeFramed(frame).Attributes).Value);
        Assert.False(LogEventAvro.TryScanFramed(frame, new RecentStrings(), out _));

        var many = new LogEvent { Message = "m", Attributes = Enumerable.Range(0, LogEventAvro.MaxScannedAttributes + 1).ToDictionary(i => "k" + i, i => "v") };
        Assert.False(LogEventAvro.TryScanFramed(LogEventAvro.EncodeFramed(many), new RecentStrings(), out _));
        var enough = new LogEvent { Message = "m", Attributes = Enumerable.Range(0, LogEventAvro.MaxScannedAttributes).ToDictionary(i => "k" + i, i => "v") };
        Assert.True(LogEventAvro.TryScanFramed(LogEventAvro.EncodeFramed(enough), new RecentStrings(), out _));
    }

    [Fact]
    public void A_typed_log_types_record_is_left_to_the_decoder()
    {
        const int id = 1_500_000_301;
        var text = TypedLogSchema.Wrap("web", """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"}]}""");
        var schema = TypedLogSchema.TryCompile(id, text, out var why) ?? throw new InvalidOperationException(why);
        var frame = schema.TryEncodeFramed(new LogEvent { Type = "web", Message = "m", Attributes = new Dictionary<string, string> { ["status"] = "200" } })!;
        using (TypedLogSchemas.AddLookup(i => i == id ? text : null))
        {
            Assert.False(LogEventAvro.TryScanFramed(frame, new RecentStrings(), out _));
        }
    }

    [Fact]
    public void What_the_decoder_refuses_the_scan_refuses_with_the_same_message()
    {
        var frame = LogEventAvro.EncodeFramed(RandomEvent(new Random(11)) with { Lineage = new Lineage("n", 1, "sender") });
        var refused = 0;
        // Every truncation, and a byte changed at every position.
        var broken = Enumerable.Range(0, frame.Length).Select(n => frame[..n])
            .Concat(Enumerable.Range(0, frame.Length).Select(n => { var b = (byte[])frame.Clone(); b[n] ^= 0xC3; return b; }));
        foreach (var bytes in broken)
        {
            string? decoder = null, scan = null;
            try { LogEventAvro.DecodeFramed(bytes); } catch (MalformedRecordException e) { decoder = e.Message; }
            try { LogEventAvro.TryScanFramed(bytes, new RecentStrings(), out _); } catch (MalformedRecordException e) { scan = e.Message; }
            Assert.Equal(decoder, scan);
            if (decoder is not null) refused++;
        }
        Assert.True(refused > frame.Length, $"{refused} refused");
    }

    // Text that needs every kind of JSON escaping: quotes, backslashes, control characters, NUL, HTML-sensitive
    // characters, line separators, and characters of two, three and four UTF-8 bytes.
    private static LogEvent RandomEvent(Random random) => Samples.RandomEvent(random,
        ["\"", "\\", "\n", "\t", "\0", "\u001f", "\u007f", "<", ">", "&", "'", "+", "\u2028", "é", "日", "🚀", "\uFEFF", "/"], maxAttributes: 8);
}
