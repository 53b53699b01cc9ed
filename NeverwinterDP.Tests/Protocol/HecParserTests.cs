using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Splunk HEC bodies as Splunk's docs and the shippers that speak HEC (Fluent Bit's splunk output, Vector's splunk_hec_logs) write them.</summary>
public class HecParserTests
{
    private static ParseResult Events(string body) => HecParser.ParseEvents(Encoding.UTF8.GetBytes(body), Context);

    [Fact]
    public void Splunks_documented_event_maps_its_envelope()
    {
        var result = Events("""{"time": 1426279439, "host": "localhost", "source": "random-data-generator", "sourcetype": "my_sample_data", "index": "main", "event": "Hello world!"}""");

        var e = Assert.Single(result.Events);
        Assert.Equal(("Hello world!", 1_426_279_439_000L, "localhost", "my_sample_data"), (e.Message, e.Ts, e.Host, e.Type));
        Assert.Equal(("random-data-generator", "main"), (e.Attributes["source"], e.Attributes["index"]));
        Assert.Equal(("10.0.0.9", "node-1"), (e.Ip, e.Lineage.IngressNode));
    }

    [Fact]
    public void Batched_events_back_to_back_are_one_event_each()
    {
        var result = Events("""{"event": "Pony 1 has left the barn"}{"event": "Pony 2 has left the barn"}{"event": "Pony 3 has left the barn", "nested": {"key1": "value1"}}""");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["Pony 1 has left the barn", "Pony 2 has left the barn", "Pony 3 has left the barn"], result.Events.Select(e => e.Message));
        Assert.All(result.Events, e => Assert.Equal(("web", Now), (e.Type, e.Ts)));
    }

    [Fact]
    public void Fields_become_attributes_and_a_fractional_time_keeps_its_milliseconds()
    {
        // Vector's splunk_hec_logs: one event per line, time with a fraction, indexed fields.
        var result = Events("""
            {"event":"GET / 200","fields":{"cluster":"east","dataset":["a","b"]},"time":1700000000.123,"host":"web-1","sourcetype":"nginx"}
            {"event":"GET /x 404","time":"1700000001.5","host":"web-1","sourcetype":"nginx"}
            """);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal([1_700_000_000_123, 1_700_000_001_500], result.Events.Select(e => e.Ts));
        Assert.Equal(("east", """["a","b"]"""), (result.Events[0].Attributes["cluster"], result.Events[0].Attributes["dataset"]));
    }

    [Fact]
    public void An_event_object_with_a_message_is_read_as_a_JSON_line_and_one_without_is_its_JSON_text()
    {
        // Fluent Bit's splunk output sends the record as the event object.
        var result = Events("""{"time":1700000000.25,"event":{"log":"disk full","level":"error","stream":"stderr"}}{"event":{"cpu":93.5,"core":2}}""");

        Assert.True(result.IsSuccess, result.ToString());
        var (record, metric) = (result.Events[0], result.Events[1]);
        Assert.Equal(("disk full", "error", "stderr", 1_700_000_000_250L), (record.Message, record.Level, record.Attributes["stream"], record.Ts));
        Assert.Equal("""{"cpu":93.5,"core":2}""", metric.Message);
    }

    [Theory]
    [InlineData("""{"event":"a"}{"host":"h"}""", 2, HecParser.Errors.EventRequired)]
    [InlineData("""{"event":"a"}{"event":""}""", 2, HecParser.Errors.EventBlank)]
    [InlineData("""{"event":"a","time":"noon"}""", 1, HecParser.Errors.BadTime)]
    [InlineData("""{"event":"a","host":7}""", 1, "Invalid data format: 'host' must be a string")]
    [InlineData("""{"event":"a"}["x"]""", 2, HecParser.Errors.ExpectedObject)]
    [InlineData("", 1, HecParser.Errors.NoData)]
    public void A_bad_event_refuses_the_batch_naming_it(string body, int line, string error)
    {
        var result = Events(body);

        Assert.Equal((line, error), (result.Line, result.Error));
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_body_that_is_not_JSON_says_where()
    {
        var result = Events("""{"event":"a"}{"event":""");

        Assert.Equal(2, result.Line);
        Assert.StartsWith("Invalid data format: body is not valid JSON", result.Error);
    }

    [Fact]
    public void Raw_lines_are_one_event_each_with_the_query_metadata()
    {
        var metadata = new HecParser.RawMetadata("web-2", "/var/log/app.log", "app", "1700000000");
        var result = HecParser.ParseRaw("1, 2, 3... Hello, world!\r\n\nsecond line\n"u8, metadata, Context);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["1, 2, 3... Hello, world!", "second line"], result.Events.Select(e => e.Message));
        Assert.All(result.Events, e => Assert.Equal(("web-2", "app", "/var/log/app.log", 1_700_000_000_000L), (e.Host, e.Type, e.Attributes["source"], e.Ts)));
    }

    [Fact]
    public void Raw_without_metadata_takes_the_request_defaults_and_an_empty_body_is_no_data()
    {
        var none = new HecParser.RawMetadata(null, null, null, null);
        var e = Assert.Single(HecParser.ParseRaw("hello"u8, none, Context).Events);

        Assert.Equal(("conn-host", "web", Now), (e.Host, e.Type, e.Ts));
        Assert.Equal(HecParser.Errors.NoData, HecParser.ParseRaw("\n \n"u8, none, Context).Error);
    }
}
