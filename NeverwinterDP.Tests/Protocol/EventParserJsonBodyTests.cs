using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Bodies sent as <see cref="ContentKind.Json"/>: one object, or an array of objects.</summary>
public class EventParserJsonBodyTests
{
    [Fact]
    public void A_single_object_is_one_event()
    {
        var result = Json("""  { "msg": "m", "level": "debug" }  """);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("debug", Assert.Single(result.Events).Level);
    }

    [Fact]
    public void An_array_of_objects_is_one_event_each_in_order()
    {
        var result = Json("""
            [
              {"msg":"a","@timestamp":"2023-11-14T22:13:20Z"},
              {"message":"b"},
              {"log":"c","date":1700000000.5}
            ]
            """);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["a", "b", "c"], result.Events.Select(e => e.Message));
        Assert.Equal([1_700_000_000_000, Now, 1_700_000_000_500], result.Events.Select(e => e.Ts));
    }

    [Fact]
    public void An_empty_array_is_zero_events()
    {
        var result = Json("[]");

        Assert.True(result.IsSuccess);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_bad_third_element_reports_element_3_as_the_line_and_accepts_nothing()
    {
        var result = Json("""[{"msg":"a"},{"msg":"b"},{"msg":"c","ip":7},{"msg":"d"}]""");

        Assert.False(result.IsSuccess);
        Assert.Equal((3, "field 'ip' must be a string"), (result.Line, result.Error));
        Assert.Empty(result.Events);
    }

    [Fact]
    public void An_element_that_is_not_an_object_is_an_error_at_its_position()
    {
        var result = Json("""[{"msg":"a"},"b"]""");

        Assert.Equal((2, "expected a JSON object"), (result.Line, result.Error));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    public void A_body_that_is_neither_an_object_nor_an_array_is_an_error(string body)
    {
        var result = Json(body);

        Assert.Equal((1, "expected a JSON object or an array of JSON objects"), (result.Line, result.Error));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[{\"msg\":\"a\"},")]
    [InlineData("{\"msg\":\"a\"}\n{\"msg\":\"b\"}")]
    [InlineData("[{\"msg\":\"a\"}] x")]
    public void A_body_that_is_not_JSON_is_an_error(string body)
    {
        var result = Json(body);

        Assert.False(result.IsSuccess);
        Assert.StartsWith("body is not valid JSON: ", result.Error);
    }

    [Fact]
    public void A_syntax_error_says_where_in_the_body_it_is()
    {
        var result = Json("[\n{\"msg\":\"a\"},\n{\"msg\" \"b\"}\n]");

        Assert.Equal(2, result.Line);
        Assert.EndsWith("(at line 3, byte 8)", result.Error);
    }

    [Fact]
    public void A_missing_message_in_a_single_object_is_reported_at_line_1()
    {
        var result = Json("{\"level\":\"info\"}");

        Assert.Equal((1, "missing 'msg' (or 'message', 'log')"), (result.Line, result.Error));
    }
}
