using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Hdfs;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

public class HdfsSinkOptionsTests
{
    private static HdfsSinkOptions Parse(string hocon) => HdfsSinkOptions.FromSection(SinkSection.Parse("hdfs", hocon));

    private static SinkConfigException Refused(string hocon) => Assert.Throws<SinkConfigException>(() => Parse(hocon));

    [Fact]
    public void Defaults_apply_to_keys_left_out()
    {
        var options = Parse("namenode-url = \"http://nn1:9870\"");

        Assert.Equal([new Uri("http://nn1:9870")], options.NamenodeUrls);
        Assert.Equal("/nwdp/logs", options.Root);
        Assert.Null(options.User);
        Assert.Null(options.DelegationToken);
        Assert.Equal(AvroCodec.Deflate, options.AvroCodec);
        Assert.Equal(64L * 1024 * 1024, options.RollSize);
        Assert.Equal(512L * 1024 * 1024, options.BufferLimit);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), options.CloseHourAfter);
    }

    [Fact]
    public void Every_key_is_read()
    {
        var options = HdfsSinkOptions.FromSection(SinkSection.Parse("archive", """
            kind = hdfs
            namenode-url = ["http://nn1:9870", "https://nn2:9871/"]
            root = "/data/logs/"
            user = etl
            delegation-token = "abc"
            format = avro
            avro-codec = null
            roll-size = 16MiB
            buffer-limit = 64MiB
            request-timeout = 5s
            close-hour-after = 30m
            success-on = complete
            """));

        Assert.Equal([new Uri("http://nn1:9870"), new Uri("https://nn2:9871")], options.NamenodeUrls);
        Assert.Equal("/data/logs/", options.Root);
        Assert.Equal("etl", options.User);
        Assert.Equal("abc", options.DelegationToken);
        Assert.Equal(AvroCodec.Null, options.AvroCodec);
        Assert.Equal(16L * 1024 * 1024, options.RollSize);
        Assert.Equal(64L * 1024 * 1024, options.BufferLimit);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(30), options.CloseHourAfter);
        Assert.True(options.SuccessOnComplete);
        Assert.True(Parse("namenode-url = \"http://nn1:9870\"").SuccessOnComplete); // the default: _SUCCESS only for a complete hour
        Assert.False(Parse("namenode-url = \"http://nn1:9870\"\nsuccess-on = closed").SuccessOnComplete);
        Assert.Equal("nwdp.sinks.archive", options.Section);
    }

    [Fact]
    public void Several_namenodes_may_be_given_comma_separated()
    {
        var options = Parse("namenode-url = \"http://nn1:9870, http://nn2:9870\"");
        Assert.Equal([new Uri("http://nn1:9870"), new Uri("http://nn2:9870")], options.NamenodeUrls);
    }

    [Theory]
    [InlineData("", "nwdp.sinks.hdfs.namenode-url")]
    [InlineData("namenode-url = \"\"", "nwdp.sinks.hdfs.namenode-url")]
    [InlineData("namenode-url = \"nn1:9870\"", "nwdp.sinks.hdfs.namenode-url")]
    [InlineData("namenode-url = \"ftp://nn1\"", "nwdp.sinks.hdfs.namenode-url")]
    [InlineData("namenode-url = [\"http://nn1:9870\", \"hdfs://nn2:8020\"]", "nwdp.sinks.hdfs.namenode-url")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroot = \"relative/path\"", "nwdp.sinks.hdfs.root")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroot = \"/a/../b\"", "nwdp.sinks.hdfs.root")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroot = \"/a/.hidden\"", "nwdp.sinks.hdfs.root")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nformat = orc", "nwdp.sinks.hdfs.format")]
    [InlineData("namenode-url = \"http://nn1:9870\"\navro-codec = snappy", "nwdp.sinks.hdfs.avro-codec")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroll-size = 0", "nwdp.sinks.hdfs.roll-size")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroll-size = lots", "nwdp.sinks.hdfs.roll-size")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nroll-size = 64MiB\nbuffer-limit = 1MiB", "nwdp.sinks.hdfs.buffer-limit")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nrequest-timeout = 0s", "nwdp.sinks.hdfs.request-timeout")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nclose-hour-after = soon", "nwdp.sinks.hdfs.close-hour-after")]
    [InlineData("namenode-url = \"http://nn1:9870\"\nsuccess-on = always", "nwdp.sinks.hdfs.success-on")]
    public void Bad_values_are_refused_naming_the_key(string hocon, string key)
    {
        Assert.Equal(key, Refused(hocon).Key);
    }

    [Fact]
    public void Parquet_is_a_format_with_its_compression()
    {
        var o = Parse("namenode-url = \"http://nn1:9870\"\nformat = parquet\nparquet-compression = gzip");
        Assert.Equal(HdfsFormat.Parquet, o.Format);
        Assert.Equal(Parquet.CompressionMethod.Gzip, o.ParquetCompression);
        Assert.Equal(HdfsFormat.Avro, Parse("namenode-url = \"http://nn1:9870\"").Format);
        Assert.Equal("nwdp.sinks.hdfs.format", Refused("namenode-url = \"http://nn1:9870\"\nformat = orc").Key);
    }

    [Fact]
    public void The_sink_validates_options_built_in_code()
    {
        Assert.Throws<SinkConfigException>(() => new HdfsSink(new HdfsSinkOptions { NamenodeUrls = [] }));
        Assert.Throws<SinkConfigException>(() => new HdfsSink(new HdfsSinkOptions { NamenodeUrls = [new Uri("http://nn:9870")], Root = "x" }));
    }
}
