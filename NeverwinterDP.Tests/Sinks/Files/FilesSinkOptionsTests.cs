using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.PartFiles;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Files;

public class FilesSinkOptionsTests
{
    [Fact]
    public void Options_are_read_from_the_nwdp_sinks_files_section()
    {
        var options = FilesSinkOptions.FromSection(SinkSection.Parse("files", """
            directory = "/data/sinks/files"
            format = avro
            avro-codec = null
            roll-size = 64 MiB
            fsync = off
            """));

        Assert.Equal("/data/sinks/files", options.Directory);
        Assert.Equal(FilesFormat.Avro, options.Format);
        Assert.Equal(AvroCodec.Null, options.AvroCodec);
        Assert.Equal(64L * 1024 * 1024, options.RollSize);
        Assert.False(options.Fsync);
    }

    [Fact]
    public void Keys_left_out_keep_their_defaults()
    {
        var options = FilesSinkOptions.FromSection(SinkSection.Parse("files", "directory = /tmp/x"));

        Assert.Equal(new FilesSinkOptions { Directory = "/tmp/x" }, options);
        Assert.Equal(FilesFormat.Ndjson, options.Format);
        Assert.Equal(256L * 1024 * 1024, options.RollSize);
        Assert.True(options.Fsync);
    }

    [Fact]
    public void An_empty_or_missing_directory_means_the_sinks_directory_under_the_data_directory()
    {
        var options = FilesSinkOptions.FromSection(SinkSection.Parse("archive", """
            directory = ""
            roll-size = 256MiB
            """, dataDir: "/data"));

        Assert.Equal(Path.Combine("/data", "sinks", "archive"), options.Directory);
        Assert.Equal(FilesSinkOptions.DefaultRollSize, options.RollSize);
        Assert.Equal(Path.Combine("/data", "sinks", "files"), FilesSinkOptions.FromSection(SinkSection.Parse("files", "format = ndjson", dataDir: "/data")).Directory);
    }

    [Fact]
    public void An_unknown_value_fails_naming_the_key()
    {
        SinkConfigException Refused(string hocon) => Assert.Throws<SinkConfigException>(() => FilesSinkOptions.FromSection(SinkSection.Parse("files", hocon)));

        Assert.Equal("nwdp.sinks.files.format", Refused("directory = /x\nformat = parquet").Key);
        Assert.Equal("nwdp.sinks.files.avro-codec", Refused("format = avro\navro-codec = lzo").Key);
        Assert.Equal("nwdp.sinks.files.roll-size", Refused("roll-size = 0").Key);
        Assert.Equal("nwdp.sinks.files.fsync", Refused("fsync = maybe").Key);
    }

    [Fact]
    public void A_roll_size_below_one_byte_is_refused_when_the_sink_is_made()
    {
        var e = Assert.Throws<ArgumentException>(() => new FilesSink(new FilesSinkOptions { Directory = "/tmp/x", RollSize = 0 }));

        Assert.Contains("roll-size", e.Message);
    }
}
