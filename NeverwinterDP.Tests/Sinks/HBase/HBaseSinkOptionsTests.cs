using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.HBase;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.HBase;

public class HBaseSinkOptionsTests
{
    private static HBaseSinkOptions Read(string hocon) => HBaseSinkOptions.FromSection(SinkSection.Parse("hb", hocon));

    private static SinkConfigException Fails(string hocon) => Assert.Throws<SinkConfigException>(() => Read(hocon));

    [Fact]
    public void Only_the_url_is_required_and_everything_else_has_its_documented_default()
    {
        var o = Read("url = \"http://hbase-rest:8080\"");
        Assert.Equal(new Uri("http://hbase-rest:8080"), o.Url);
        Assert.Equal("nwdp_logs", o.QualifiedTable);
        Assert.Equal("e", o.ColumnFamily);
        Assert.True(o.CreateTable);
        Assert.Equal("{type}|{reverse_ts}|{host}|{topic}|{partition}|{offset}", o.RowKey.Text);
        Assert.Equal(1000, o.MaxRowsPerRequest);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RequestTimeout);
        Assert.Equal(10L * 1024 * 1024, o.MaxCellSize);
    }

    [Fact]
    public void Reads_every_key()
    {
        var o = Read("""
            url = "https://rest.example:8443/"
            namespace = logs
            table = app_events
            column-family = d
            create-table = off
            row-key = "{host}|{ts}|{topic}|{partition}|{offset}"
            max-rows-per-request = 250
            request-timeout = 2s
            max-cell-size = 1 MiB
            """);
        Assert.Equal("logs:app_events", o.QualifiedTable);
        Assert.Equal("d", o.ColumnFamily);
        Assert.False(o.CreateTable);
        Assert.Equal("{host}|{ts}|{topic}|{partition}|{offset}", o.RowKey.Text);
        Assert.Equal(250, o.MaxRowsPerRequest);
        Assert.Equal(TimeSpan.FromSeconds(2), o.RequestTimeout);
        Assert.Equal(1024 * 1024, o.MaxCellSize);
    }

    [Theory]
    [InlineData("table = nwdp_logs", "url", "required")]
    [InlineData("url = \"ftp://x\"", "url", "http(s)")]
    [InlineData("url = \"http://x\"\ntable = \"-bad\"", "table", "-bad")]
    [InlineData("url = \"http://x\"\ntable = \"a/b\"", "table", "a/b")]
    [InlineData("url = \"http://x\"\nnamespace = \"a-b\"", "namespace", "a-b")]
    [InlineData("url = \"http://x\"\ncolumn-family = \"e:x\"", "column-family", "e:x")]
    [InlineData("url = \"http://x\"\ncreate-table = maybe", "create-table", "on or off")]
    [InlineData("url = \"http://x\"\nrow-key = \"{type}|{nope}|{topic}|{partition}|{offset}\"", "row-key", "{nope}")]
    [InlineData("url = \"http://x\"\nrow-key = \"{type}|{reverse_ts}|{host}|{source_seq}\"", "row-key", "{topic}, {partition}, {offset}")]
    [InlineData("url = \"http://x\"\nrow-key = \"{topic}|{partition}\"", "row-key", "{offset}")]
    [InlineData("url = \"http://x\"\nrow-key = \"{topic}|{partition}|{offset\"", "row-key", "without '}'")]
    [InlineData("url = \"http://x\"\nrow-key = \"topic}|{partition}|{offset}\"", "row-key", "without '{'")]
    [InlineData("url = \"http://x\"\nmax-rows-per-request = 0", "max-rows-per-request", "positive")]
    [InlineData("url = \"http://x\"\nrequest-timeout = soon", "request-timeout", "duration")]
    [InlineData("url = \"http://x\"\nmax-cell-size = -1", "max-cell-size", "positive")]
    public void A_bad_value_fails_naming_its_key(string hocon, string key, string detail)
    {
        var e = Fails(hocon);
        Assert.Equal("nwdp.sinks.hb." + key, e.Key);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }
}
