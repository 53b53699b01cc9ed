using Akka.Configuration;
using NeverwinterDP.Actors.Sinks.Files;
using Xunit;

namespace NeverwinterDP.Tests.Sinks;

public class FilesSinkOptionsTests
{
    [Fact]
    public void Options_are_read_from_the_nwdp_sinks_files_section()
    {
        var config = ConfigurationFactory.ParseString("""
            nwdp.sinks.files {
              directory = "/data/sinks/files"
              format = avro
              avro-codec = null
              roll-size = 64 MiB
              fsync = off
            }
            """);

        var options = FilesSinkOptions.FromConfig(config.GetConfig("nwdp.sinks.files"));

        Assert.Equal("/data/sinks/files", options.Directory);
        Assert.Equal(FilesFormat.Avro, options.Format);
        Assert.Equal(FilesAvroCodec.Null, options.AvroCodec);
        Assert.Equal(64L * 1024 * 1024, options.RollSize);
        Assert.False(options.Fsync);
    }

    [Fact]
    public void Keys_left_out_keep_their_defaults()
    {
        var options = FilesSinkOptions.FromConfig(ConfigurationFactory.ParseString("directory = /tmp/x"));

        Assert.Equal(new FilesSinkOptions { Directory = "/tmp/x" }, options);
        Assert.Equal(FilesFormat.Ndjson, options.Format);
        Assert.Equal(256L * 1024 * 1024, options.RollSize);
        Assert.True(options.Fsync);
    }

    [Fact]
    public void An_empty_directory_means_the_default_directory_the_host_gives()
    {
        var config = ConfigurationFactory.ParseString("""
            directory = ""
            roll-size = 256MiB
            """);

        var options = FilesSinkOptions.FromConfig(config, defaultDirectory: "/data/sinks/files");

        Assert.Equal("/data/sinks/files", options.Directory);
        Assert.Equal(FilesSinkOptions.DefaultRollSize, options.RollSize);
    }

    [Fact]
    public void A_missing_directory_or_an_unknown_format_fails_naming_the_key()
    {
        var missing = Assert.Throws<ConfigurationException>(() => FilesSinkOptions.FromConfig(ConfigurationFactory.ParseString("format = ndjson")));
        var unknown = Assert.Throws<ConfigurationException>(() => FilesSinkOptions.FromConfig(ConfigurationFactory.ParseString("directory = /x\nformat = parquet")));

        Assert.Contains("nwdp.sinks.files.directory", missing.Message);
        Assert.Contains("nwdp.sinks.files.format", unknown.Message);
    }

    [Fact]
    public void A_roll_size_below_one_byte_is_refused_when_the_sink_is_made()
    {
        var e = Assert.Throws<ArgumentException>(() => new FilesSink(new FilesSinkOptions { Directory = "/tmp/x", RollSize = 0 }));

        Assert.Contains("roll-size", e.Message);
    }
}
