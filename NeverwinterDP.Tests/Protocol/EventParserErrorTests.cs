using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

public class EventParserErrorTests
{
    [Fact]
    public void Parse_ndjson_with_a_bad_third_line_reports_line_3_and_accepts_nothing()
    {
        var result = Ndjson("""
            {"msg":"one"}
            {"msg":"two"}
            {"msg":"three","ts":true}
            {"msg":"four"}
            """);

        Assert.False(result.IsSuccess);
        Assert.Equal(3, result.Line);
        Assert.Equal("field 'ts' must be a number or an RFC 3339 string", result.Error);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void Blank_lines_count_in_the_line_number()
    {
        var result = Ndjson("{\"msg\":\"a\"}\n\n\r\n{\"msg\":\"b\",\"host\":1}\n");

        Assert.Equal(4, result.Line);
        Assert.Equal("field 'host' must be a string", result.Error);
    }

    [Fact]
    public void The_first_bad_line_is_the_one_reported()
    {
        var result = Ndjson("{\"msg\":\"a\"}\n{\"level\":3,\"msg\":\"b\"}\n{}");

        Assert.Equal((2, "field 'level' must be a string"), (result.Line, result.Error));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("\"2023-13-01T00:00:00Z\"")]   // month 13
    [InlineData("\"2023-02-29T00:00:00Z\"")]   // not a leap year
    [InlineData("\"2023-11-14T24:00:00Z\"")]
    [InlineData("\"2023-11-14T22:13:20+25:00\"")]
    [InlineData("\"2023-11-14T22:13:20.Z\"")]
    [InlineData("\"2023-11-14T22:13:20Zjunk\"")]
    [InlineData("\"14/11/2023\"")]
    [InlineData("\"1700000000\"")]            // a number in a string is not an RFC 3339 string
    [InlineData("\"\"")]
    [InlineData("{\"s\":1}")]
    [InlineData("[1700000000]")]
    public void A_ts_that_is_neither_an_epoch_number_nor_an_RFC_3339_string_is_an_error(string json)
    {
        Assert.Equal("field 'ts' must be a number or an RFC 3339 string", ErrorOf($$"""{"msg":"m","ts":{{json}}}"""));
    }

    [Fact]
    public void The_error_names_the_timestamp_field_that_was_used()
    {
        Assert.Equal("field '@timestamp' must be a number or an RFC 3339 string", ErrorOf("""{"msg":"m","@timestamp":"soon"}"""));
    }

    [Theory]
    [InlineData("1e300")]       // beyond decimal
    [InlineData("-1e300")]
    [InlineData("1e27")]        // read as ns, still beyond the year 9999
    [InlineData("-5.5e25")]
    public void A_ts_beyond_what_a_timestamp_can_hold_is_out_of_range(string json)
    {
        Assert.Equal("field 'ts' is outside the years 0001-9999", ErrorOf($$"""{"msg":"m","ts":{{json}}}"""));
    }

    [Theory]
    [InlineData("host")]
    [InlineData("ip")]
    [InlineData("process")]
    [InlineData("type")]
    [InlineData("version")]
    [InlineData("level")]
    public void An_envelope_field_that_is_not_a_string_is_an_error_naming_it(string field)
    {
        foreach (var value in new[] { "1", "true", "{}", "[\"a\"]" })
        {
            Assert.Equal($"field '{field}' must be a string", ErrorOf($$"""{"msg":"m","{{field}}":{{value}}}"""));
        }
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"text":"m"}""")]
    [InlineData("""{"msg":null}""")]
    public void A_line_without_a_message_is_an_error(string line)
    {
        Assert.Equal("missing 'msg' (or 'message', 'log')", ErrorOf(line));
    }

    [Theory]
    [InlineData("""{"msg":42}""", "msg")]
    [InlineData("""{"message":{"text":"m"}}""", "message")]
    [InlineData("""{"log":["m"]}""", "log")]
    [InlineData("""{"msg":false,"message":"m"}""", "msg")]
    public void A_message_that_is_not_a_string_is_an_error_naming_the_field(string line, string field)
    {
        Assert.Equal($"field '{field}' must be a string", ErrorOf(line));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"hello\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void A_line_that_is_JSON_but_not_an_object_is_an_error(string line)
    {
        Assert.Equal("expected a JSON object", ErrorOf(line));
    }

    [Theory]
    [InlineData("""{"msg": }""", "'}' is an invalid start of a value (at byte 9)")]
    [InlineData("""{"msg":"m"} {"msg":"n"}""", "'{' is invalid after a single JSON value. Expected end of data (at byte 13)")]
    [InlineData("""{"msg":"m",}""", null)]
    [InlineData("""{"msg":"m""", null)]
    [InlineData("""msg=m""", null)]
    [InlineData("""{msg:"m"}""", null)]
    public void A_line_that_is_not_JSON_is_an_error_with_the_reader_s_reason(string line, string? reason)
    {
        var error = ErrorOf(line);

        Assert.StartsWith("line is not valid JSON: ", error);
        Assert.DoesNotContain("LineNumber", error);
        if (reason is not null) Assert.Equal("line is not valid JSON: " + reason, error);
    }

    [Fact]
    public void Invalid_UTF8_is_an_error_naming_the_field()
    {
        var line = Encoding.UTF8.GetBytes("{\"msg\":\"caf\u00e9\",\"k\":\"x\"}");
        line[^3] = 0xFF; // the x
        var badValue = EventParser.Parse(line, ContentKind.Ndjson, Context);

        var badMessage = EventParser.Parse([.. "{\"msg\":\""u8, 0xC3, 0x28, .. "\"}"u8], ContentKind.Ndjson, Context);

        Assert.Equal("field 'k' is not valid UTF-8 text", badValue.Error);
        Assert.Equal("field 'msg' is not valid UTF-8 text", badMessage.Error);
    }

    [Fact]
    public void A_broken_surrogate_escape_is_an_error_naming_the_field()
    {
        Assert.Equal("field 'msg' is not valid UTF-8 text", ErrorOf("""{"msg":"\ud800 alone"}"""));
        Assert.Equal("a field name is not valid UTF-8 text", ErrorOf("""{"msg":"m","\ud800":"v"}"""));
    }

    [Fact]
    public void An_unknown_content_kind_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EventParser.Parse("{}"u8, (ContentKind)9, Context));
    }
}
