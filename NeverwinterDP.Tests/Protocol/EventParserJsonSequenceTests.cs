using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// Bodies sent as <see cref="ContentKind.JsonSequence"/>: what Fluent Bit's <c>http</c> output sends as
/// <c>application/json</c> in its <c>json</c> (an array) and <c>json_stream</c> (objects back to back) formats.
/// The bodies are as <c>flb_pack_msgpack_to_json_format</c> writes them, with the default <c>json_date_key date</c>.
/// </summary>
public class EventParserJsonSequenceTests
{
    private static ParseResult Sequence(string body) => EventParser.Parse(Encoding.UTF8.GetBytes(body), ContentKind.JsonSequence, Context);

    [Theory]
    [InlineData("""[{"date":1700000000.123456,"log":"a","stream":"stdout"},{"date":1700000001.0,"log":"b","stream":"stdout"}]""")] // json
    [InlineData("""{"date":1700000000.123456,"log":"a","stream":"stdout"}{"date":1700000001.0,"log":"b","stream":"stdout"}""")] // json_stream
    [InlineData("""{"date":1700000000.123456,"log":"a","stream":"stdout"}""" + "\n" + """{"date":1700000001.0,"log":"b","stream":"stdout"}""" + "\n")] // json_lines
    public void Every_json_format_of_Fluent_Bit_is_read_the_same(string body)
    {
        var result = Sequence(body);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["a", "b"], result.Events.Select(e => e.Message));
        Assert.Equal([1_700_000_000_123, 1_700_000_001_000], result.Events.Select(e => e.Ts));
        Assert.All(result.Events, e => Assert.Equal("stdout", e.Attributes["stream"]));
    }

    [Theory]
    [InlineData("""{"date":"2023-11-14T22:13:20.123456Z","log":"a"}""")] // json_date_format iso8601
    [InlineData("""{"date":"2023-11-14 22:13:20.123456","log":"a"}""")] // json_date_format java_sql_timestamp
    [InlineData("""{"date":1700000000123,"log":"a"}""")] // json_date_format epoch_ms
    [InlineData("""{"@timestamp":1700000000.123456,"log":"a"}""")] // json_date_key @timestamp
    public void The_json_date_formats_and_keys_give_the_same_time(string body)
    {
        var result = Sequence(body);

        Assert.Equal(1_700_000_000_123, Assert.Single(result.Events).Ts);
    }

    [Fact]
    public void An_error_is_reported_at_the_ordinal_of_the_object_across_values()
    {
        var result = Sequence("""[{"log":"a"},{"log":"b"}]{"log":"c"}{"log":"d","host":1}""");

        Assert.Equal((4, "field 'host' must be a string"), (result.Line, result.Error));
        Assert.Empty(result.Events);
    }

    [Theory]
    [InlineData("""{"log":"a"} 42""", "expected a JSON object or an array of JSON objects")]
    [InlineData("""{"log":"a"}[1]""", "expected a JSON object")]
    public void A_value_that_is_not_an_object_is_refused(string body, string error)
    {
        var result = Sequence(body);

        Assert.Equal((2, error), (result.Line, result.Error));
    }

    [Fact]
    public void A_body_cut_short_is_not_JSON()
    {
        var result = Sequence("""{"log":"a"}{"log":""");

        Assert.Equal(2, result.Line);
        Assert.StartsWith("body is not valid JSON: ", result.Error);
    }

    [Fact]
    public void Nothing_is_zero_events()
    {
        Assert.Empty(Sequence("").Events);
        Assert.Empty(Sequence(" \n").Events);
    }
}
