using System.Buffers;
using MessagePack;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.FluentBitChunks;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Fluent Bit's <c>msgpack</c> format, mapped by the same rules as a JSON line.</summary>
public class FluentBitMessagePackTests
{
    private static ParseResult Parse(byte[] body) => EventParser.Parse(body.AsMemory(), ContentKind.MessagePack, Context);

    /// <summary>A record as the tail input with the docker parser and the kubernetes filter make it.</summary>
    private static IReadOnlyList<KeyValuePair<string, object?>> KubernetesRecord(string log) => Map(
        KV("log", log),
        KV("stream", "stdout"),
        KV("kubernetes", Map(
            KV("pod_name", "web-7d4b9c-x2x8q"),
            KV("namespace_name", "shop"),
            KV("host", "node-3"),
            KV("labels", Map(KV("app", "web"))))));

    [Fact]
    public void A_chunk_of_2_1_entries_is_one_event_per_entry_with_the_entry_time_to_the_microsecond()
    {
        var body = Chunk(
            new Entry(1_700_000_000, 123_456_789, KubernetesRecord("GET / 200")),
            new Entry(1_700_000_001, 0, KubernetesRecord("GET /cart 500")));

        var result = Parse(body);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["GET / 200", "GET /cart 500"], result.Events.Select(e => e.Message));
        Assert.Equal([1_700_000_000_123, 1_700_000_001_000], result.Events.Select(e => e.Ts));
        var first = result.Events[0];
        Assert.Equal("stdout", first.Attributes["stream"]);
        Assert.Equal("""{"pod_name":"web-7d4b9c-x2x8q","namespace_name":"shop","host":"node-3","labels":{"app":"web"}}""", first.Attributes["kubernetes"]);
        Assert.False(first.Attributes.ContainsKey("date")); // the entry's time was used, not kept twice
        Assert.Equal(("conn-host", "10.0.0.9", "web", Now, "node-1"), (first.Host, first.Ip, first.Type, first.SystemTs, first.Lineage.IngressNode));
    }

    [Fact]
    public void An_older_entry_without_metadata_maps_the_same()
    {
        var record = Map(KV("message", "disk full"), KV("level", "error"), KV("host", "db-1"));
        var v1 = Parse(Chunk(new Entry(1_700_000_000, 500_000_000, record, V2: false)));
        var v2 = Parse(Chunk(new Entry(1_700_000_000, 500_000_000, record)));

        Assert.True(v1.IsSuccess, v1.ToString());
        Assert.Equal(v2.Events, v1.Events);
        var e = Assert.Single(v1.Events);
        Assert.Equal(("disk full", "error", "db-1", 1_700_000_000_500L), (e.Message, e.Level, e.Host, e.Ts));
    }

    [Fact]
    public void A_record_with_its_own_timestamp_field_keeps_it_over_the_entry_time_as_a_JSON_line_would()
    {
        var result = Parse(Chunk(new Entry(1_700_000_000, 0, Map(KV("log", "x"), KV("time", "2024-01-02T03:04:05.678Z")))));

        var e = Assert.Single(result.Events);
        Assert.Equal(1_704_164_645_678, e.Ts);
        Assert.Equal("1700000000.000000000", e.Attributes["date"]);
    }

    [Fact]
    public void Every_MessagePack_type_becomes_the_attribute_a_JSON_sender_would_have_sent()
    {
        var result = Parse(Chunk(new Entry(1_700_000_000, 0, Map(
            KV("log", "x"), KV("int", -5), KV("big", ulong.MaxValue), KV("double", 2.5), KV("float", 0.1f), KV("yes", true),
            KV("none", null), KV("bytes", new byte[] { 1, 2, 3 }), KV("list", new object?[] { 1, "a", null }), KV("text", "héllo \"q\"")))));

        Assert.True(result.IsSuccess, result.ToString());
        var a = Assert.Single(result.Events).Attributes;
        Assert.Equal(("-5", "18446744073709551615", "2.5", "0.1", "true", "null"), (a["int"], a["big"], a["double"], a["float"], a["yes"], a["none"]));
        Assert.Equal(("AQID", """[1,"a",null]""", "héllo \"q\""), (a["bytes"], a["list"], a["text"]));
    }

    [Fact]
    public void Integer_and_float_entry_times_are_seconds()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(1_700_000_000);
        writer.WriteMapHeader(1);
        writer.Write("log");
        writer.Write("int");
        writer.WriteArrayHeader(2);
        writer.Write(1_700_000_000.25);
        writer.WriteMapHeader(1);
        writer.Write("log");
        writer.Write("float");
        writer.Flush();

        var result = Parse(buffer.WrittenSpan.ToArray());

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal([1_700_000_000_000, 1_700_000_000_250], result.Events.Select(e => e.Ts));
    }

    [Fact]
    public void An_empty_body_is_zero_events()
    {
        var result = Parse([]);

        Assert.True(result.IsSuccess);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_record_without_a_message_refuses_the_whole_chunk_naming_its_entry()
    {
        var result = Parse(Chunk(
            new Entry(1_700_000_000, 0, Map(KV("log", "fine"))),
            new Entry(1_700_000_000, 0, Map(KV("stream", "stdout")))));

        Assert.Equal((2, "missing 'msg' (or 'message', 'log')"), (result.Line, result.Error));
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_field_of_the_wrong_type_is_named_as_in_JSON()
    {
        var result = Parse(Chunk(new Entry(1_700_000_000, 0, Map(KV("log", "x"), KV("host", 7)))));

        Assert.Equal((1, "field 'host' must be a string"), (result.Line, result.Error));
    }

    [Fact]
    public void A_chunk_cut_short_is_refused_at_the_entry_it_cuts()
    {
        var whole = Chunk(new Entry(1_700_000_000, 0, Map(KV("log", "a"))), new Entry(1_700_000_000, 0, Map(KV("log", "bbbbbbbb"))));

        var result = Parse(whole[..^3]);

        Assert.Equal(2, result.Line);
        Assert.StartsWith("entry is not valid MessagePack: ", result.Error);
    }

    [Fact]
    public void Something_that_is_not_an_entry_is_refused()
    {
        var notAnEntry = Parse(MessagePackSerializer.Serialize(new Dictionary<string, string> { ["log"] = "x" }));
        var recordNotAMap = Parse(MessagePackSerializer.Serialize(new object[] { 1_700_000_000, "log" }));
        var json = Parse("{\"log\":\"x\"}"u8.ToArray());

        Assert.Equal((1, "expected an entry [time, record] (a MessagePack array of 2)"), (notAnEntry.Line, notAnEntry.Error));
        Assert.Equal((1, "the record of an entry must be a MessagePack map"), (recordNotAMap.Line, recordNotAMap.Error));
        Assert.False(json.IsSuccess);
    }

    [Fact]
    public void A_string_that_is_not_UTF8_is_refused()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(1_700_000_000);
        writer.WriteMapHeader(1);
        writer.Write("log");
        writer.WriteString(new byte[] { 0xff, 0xfe });
        writer.Flush();

        var result = Parse(buffer.WrittenSpan.ToArray());

        Assert.Equal((1, "a string value is not valid UTF-8 text"), (result.Line, result.Error));
    }

    [Fact]
    public void The_span_overload_reads_the_same()
    {
        var body = Chunk(new Entry(1_700_000_000, 0, Map(KV("log", "a"))));

        Assert.Equal(Parse(body).Events, EventParser.Parse(body.AsSpan(), ContentKind.MessagePack, Context).Events);
    }
}
