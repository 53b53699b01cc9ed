using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

public class EventParserMappingTests
{
    [Fact]
    public void Every_envelope_field_given_is_taken_as_it_is()
    {
        var logEvent = One("""{"ts":1700000000123,"host":"h1","ip":"192.168.0.1","process":"p1","type":"t1","version":"2.0","level":"error","msg":"boom"}""");

        Assert.Equal(new LogEvent
        {
            Ts = 1_700_000_000_123,
            SystemTs = Now,
            Host = "h1",
            Ip = "192.168.0.1",
            Process = "p1",
            Type = "t1",
            Version = "2.0",
            Level = "error",
            Message = "boom",
            Lineage = new Lineage("node-1", 0),
        }, logEvent);
    }

    [Fact]
    public void Missing_fields_get_the_defaults_of_the_connection_and_the_request()
    {
        var logEvent = One("""{"msg":"only a message"}""");

        Assert.Equal("conn-host", logEvent.Host);
        Assert.Equal("10.0.0.9", logEvent.Ip);
        Assert.Equal("web", logEvent.Type);
        Assert.Equal("unknown", logEvent.Process);
        Assert.Equal("info", logEvent.Level);
        Assert.Equal("", logEvent.Version);
        Assert.Equal(new Lineage("node-1", 0), logEvent.Lineage);
        Assert.Same(LogEvent.NoAttributes, logEvent.Attributes);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_a_type_in_the_event_or_the_request_the_type_is_default(string? requestType)
    {
        var logEvent = One("""{"msg":"m"}""", Context with { DefaultType = requestType });

        Assert.Equal("default", logEvent.Type);
    }

    [Fact]
    public void Null_or_empty_envelope_strings_count_as_missing()
    {
        var logEvent = One("""{"msg":"m","host":"","ip":null,"process":"","type":null,"level":""}""");

        Assert.Equal(("conn-host", "10.0.0.9", "unknown", "web", "info"),
            (logEvent.Host, logEvent.Ip, logEvent.Process, logEvent.Type, logEvent.Level));
    }

    [Theory]
    [InlineData("msg")]
    [InlineData("message")]
    [InlineData("log")]
    public void The_message_comes_from_msg_message_or_log(string name)
    {
        var logEvent = One($$"""{"{{name}}":"hello"}""");

        Assert.Equal("hello", logEvent.Message);
        Assert.Empty(logEvent.Attributes);
    }

    [Fact]
    public void Msg_wins_over_message_and_log_which_stay_as_attributes()
    {
        var logEvent = One("""{"log":{"level":"info"},"message":"second","msg":"first"}""");

        Assert.Equal("first", logEvent.Message);
        Assert.Equal("second", logEvent.Attributes["message"]);
        Assert.Equal("""{"level":"info"}""", logEvent.Attributes["log"]);
    }

    [Fact]
    public void Other_keys_become_attributes_strings_as_they_are_and_other_values_as_their_JSON_text()
    {
        var logEvent = One("""{"msg":"m","s":"text","i":42,"f":-1.50e3,"t":true,"no":false,"n":null,"o":{"a":[1, 2],"b":"c"},"a":[ "x", {} ],"e":""}""");

        Assert.Equal(new Dictionary<string, string>
        {
            ["s"] = "text",
            ["i"] = "42",
            ["f"] = "-1.50e3",
            ["t"] = "true",
            ["no"] = "false",
            ["n"] = "null",
            ["o"] = """{"a":[1, 2],"b":"c"}""",
            ["a"] = """[ "x", {} ]""",
            ["e"] = "",
        }, logEvent.Attributes);
    }

    [Fact]
    public void An_attributes_object_is_merged_into_the_attributes()
    {
        var logEvent = One("""{"msg":"m","attributes":{"user":"42","n":7},"z":"1"}""");

        Assert.Equal(new Dictionary<string, string> { ["user"] = "42", ["n"] = "7", ["z"] = "1" }, logEvent.Attributes);
    }

    [Fact]
    public void An_attributes_key_that_is_not_an_object_is_an_ordinary_attribute()
    {
        Assert.Equal("x", One("""{"msg":"m","attributes":"x"}""").Attributes["attributes"]);
    }

    [Fact]
    public void A_repeated_key_takes_the_last_value()
    {
        var logEvent = One("""{"msg":"a","msg":"b","k":"1","k":"2","host":"h1","host":"h2"}""");

        Assert.Equal(("b", "2", "h2"), (logEvent.Message, logEvent.Attributes["k"], logEvent.Host));
    }

    [Fact]
    public void Escapes_are_decoded_in_names_and_values()
    {
        var logEvent = One("""{"m\u0073g":"line1\nline2 \"q\" \u00e9 \ud83d\ude80","h\u006fst":"h","k\u00e9y":"v\/w"}""");

        Assert.Equal("line1\nline2 \"q\" é 🚀", logEvent.Message);
        Assert.Equal("h", logEvent.Host);
        Assert.Equal("v/w", logEvent.Attributes["kéy"]);
    }

    [Fact]
    public void Unicode_text_is_kept()
    {
        var logEvent = One("""{"msg":"日志 — ünïcødé 🚀","ключ":"значение"}""");

        Assert.Equal("日志 — ünïcødé 🚀", logEvent.Message);
        Assert.Equal("значение", logEvent.Attributes["ключ"]);
    }

    [Fact]
    public void Blank_lines_CRLF_and_a_final_newline_are_ignored()
    {
        var result = Ndjson("\r\n{\"msg\":\"a\"}\r\n\n   \t\n{\"msg\":\"b\"}\r\n\n");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["a", "b"], result.Events.Select(e => e.Message));
    }

    [Fact]
    public void An_empty_NDJSON_body_is_zero_events()
    {
        var result = Ndjson("\n\n");

        Assert.True(result.IsSuccess);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_UTF8_byte_order_mark_is_skipped()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("{\"msg\":\"m\"}")).ToArray();

        var result = EventParser.Parse(body, ContentKind.Ndjson, Context);

        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Events_keep_the_order_of_the_body()
    {
        var body = string.Join("\n", Enumerable.Range(0, 100).Select(i => $$"""{"msg":"{{i}}"}"""));

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString()), Ndjson(body).Events.Select(e => e.Message));
    }

    [Fact]
    public void Lines_that_repeat_values_still_get_their_own_values()
    {
        // The parser reuses strings that repeat from line to line; a change must not be missed.
        var result = Ndjson("""
            {"msg":"1","host":"a","k":"x","n":1}
            {"msg":"2","host":"a","k":"x","n":1}
            {"msg":"3","host":"b","k":"y","n":2}
            {"msg":"4","host":"b","j":"x","n":2}
            """);

        Assert.Equal(["a", "a", "b", "b"], result.Events.Select(e => e.Host));
        Assert.Equal(["x", "x", "y", null], result.Events.Select(e => e.Attributes.GetValueOrDefault("k")));
        Assert.Equal("x", result.Events[3].Attributes["j"]);
        Assert.Equal(["1", "1", "2", "2"], result.Events.Select(e => e.Attributes["n"]));
    }

    [Fact]
    public void Source_sequence_numbers_are_given_per_host_and_process_in_body_order()
    {
        var counters = new Dictionary<string, long>();
        var context = Context with { NextSourceSeq = (host, process) => counters[$"{host}/{process}"] = counters.GetValueOrDefault($"{host}/{process}") + 1 };

        var result = Ndjson("""
            {"msg":"a","process":"p"}
            {"msg":"b","process":"q"}
            {"msg":"c","process":"p"}
            """, context);

        Assert.Equal([1L, 1L, 2L], result.Events.Select(e => e.Lineage.SourceSeq));
        Assert.All(result.Events, e => Assert.Equal("node-1", e.Lineage.IngressNode));
    }

    [Fact]
    public void A_rejected_request_uses_up_no_sequence_numbers()
    {
        var calls = 0;
        var context = Context with { NextSourceSeq = (_, _) => ++calls };

        var result = Ndjson("{\"msg\":\"a\"}\n{\"msg\":1}", context);

        Assert.False(result.IsSuccess);
        Assert.Equal(0, calls);
    }
}
