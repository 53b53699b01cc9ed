using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Kafka;

public sealed class BusEpochTests
{
    [Fact]
    public void A_new_data_directory_starts_at_epoch_0_and_each_start_draws_the_next()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data"); // absent: a new directory
        Assert.Equal(0, BusEpoch.Next(data));
        Assert.Equal(1, BusEpoch.Next(data));
        Assert.Equal(2, BusEpoch.Next(data));
        Assert.Equal("2", File.ReadAllText(Path.Combine(data, BusEpoch.FileName)).Trim());
        Assert.False(File.Exists(Path.Combine(data, BusEpoch.FileName + ".tmp")));
    }

    [Fact]
    public void A_data_directory_an_earlier_version_used_starts_at_epoch_1()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "nwdp-state.db"), "");
        Assert.Equal(1, BusEpoch.Next(dir.Path));
    }

    [Fact]
    public void An_unreadable_epoch_file_is_an_error_naming_it_not_a_guess()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, BusEpoch.FileName);
        File.WriteAllText(path, "seven\n");
        var e = Assert.Throws<InvalidOperationException>(() => BusEpoch.Next(dir.Path));
        Assert.Contains(path, e.Message);
        Assert.Equal("seven\n", File.ReadAllText(path));
    }

    [Fact]
    public void Sink_offsets_of_a_later_epoch_are_above_every_offset_of_an_earlier_one()
    {
        Assert.Equal(42, BusEpoch.SinkOffset(BusEpoch.OffsetBase(0), 42));
        var maxOfFirst = BusEpoch.SinkOffset(BusEpoch.OffsetBase(1), (1L << BusEpoch.OffsetBits) - 1);
        Assert.True(BusEpoch.SinkOffset(BusEpoch.OffsetBase(2), 0) > maxOfFirst);
        Assert.True(BusEpoch.SinkOffset(BusEpoch.OffsetBase(BusEpoch.MaxEpoch), (1L << BusEpoch.OffsetBits) - 1) > 0);
        Assert.Throws<InvalidOperationException>(() => BusEpoch.SinkOffset(BusEpoch.OffsetBase(1), 1L << BusEpoch.OffsetBits));
        Assert.Throws<ArgumentOutOfRangeException>(() => BusEpoch.OffsetBase(BusEpoch.MaxEpoch + 1));
    }
}
