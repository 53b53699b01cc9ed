using System.Buffers;
using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

public class LogEventJsonTests
{
    [Fact]
    public void An_event_is_one_line_with_the_envelope_fields_in_order()
    {
        var line = Encoding.UTF8.GetString(LogEventJson.ToLine(Event()));

        Assert.Equal(
            """{"ts":1700000000123,"system_ts":1700000000456,"host":"web-01","ip":"10.1.2.3","process":"auth","type":"access","version":"1.4.2","level":"warn","msg":"user 42 logged in","attributes":{"user":"42","latency_ms":"12.5"},"lineage":{"node":"node-1","seq":7}}""" + "\n",
            line);
    }

    [Fact]
    public void Text_is_escaped_where_JSON_needs_it_and_unicode_stays_readable()
    {
        var line = Encoding.UTF8.GetString(LogEventJson.ToLine(Event("a \"quote\", a\nnewline, a \\ and 日志 <b>", LogEvent.NoAttributes)));

        Assert.Contains("""
            "msg":"a \"quote\", a\nnewline, a \\ and 日志 <b>"
            """, line);
        Assert.Contains("\"attributes\":{}", line);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Lines_append_to_the_buffer_one_after_another()
    {
        var buffer = new ArrayBufferWriter<byte>();

        LogEventJson.WriteLine(Event("a"), buffer);
        LogEventJson.WriteLine(Event("b"), buffer);

        var lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
    }

    [Fact]
    public void A_written_line_parses_back_to_the_same_envelope()
    {
        var original = Event("round trip é", new Dictionary<string, string> { ["k"] = "v", ["raw"] = "{\"a\":1}" });

        var parsed = One(Encoding.UTF8.GetString(LogEventJson.ToLine(original)));

        Assert.Equal(original.Ts, parsed.Ts);
        Assert.Equal((original.Host, original.Ip, original.Process, original.Type, original.Version, original.Level, original.Message),
            (parsed.Host, parsed.Ip, parsed.Process, parsed.Type, parsed.Version, parsed.Level, parsed.Message));
        Assert.Equal("v", parsed.Attributes["k"]);
        Assert.Equal("{\"a\":1}", parsed.Attributes["raw"]);
        // Ingress stamps its own time and lineage; the old ones are kept as attributes.
        Assert.Equal("1700000000456", parsed.Attributes["system_ts"]);
        Assert.Equal("""{"node":"node-1","seq":7}""", parsed.Attributes["lineage"]);
    }
}
