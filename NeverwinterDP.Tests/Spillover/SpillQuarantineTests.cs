using NeverwinterDP.Actors.Spillover;
using Xunit;

namespace NeverwinterDP.Tests.Spillover;

public sealed class SpillQuarantineTests
{
    [Theory]
    [InlineData("nwdp.logs.web", 7, false, "nwdp.logs.web-000000000007.bin")]
    [InlineData("nwdp.logs.web-2", 123456789012, true, "nwdp.logs.web-2-123456789012.refused.bin")]
    public void A_kept_aside_batch_is_named_by_topic_and_sequence_and_the_name_gives_the_topic_back(string topic, long seq, bool refused, string expected)
    {
        Assert.Equal(expected, SpillQuarantine.FileName(topic, seq, refused));
        Assert.Equal(topic, SpillQuarantine.TopicOf(expected));
    }

    [Theory]
    [InlineData("nwdp.logs.web-7.bin")]
    [InlineData("nwdp.logs.web-000000000007.json")]
    [InlineData("state.db-20261205.bin")]
    public void Other_files_belong_to_no_topic(string fileName) => Assert.Null(SpillQuarantine.TopicOf(fileName));

    [Fact]
    public void Topics_and_counts_come_from_the_directory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nwdp-quarantine-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Empty(SpillQuarantine.Topics(dir));
        Assert.Equal(0, SpillQuarantine.Count(dir, "a"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var name in new[] { SpillQuarantine.FileName("a", 1, false), SpillQuarantine.FileName("a", 2, true), SpillQuarantine.FileName("b", 1, true), "notes.txt" })
                File.WriteAllBytes(Path.Combine(dir, name), [1]);
            Assert.Equal(["a", "b"], SpillQuarantine.Topics(dir).Order());
            Assert.Equal(2, SpillQuarantine.Count(dir, "a"));
            Assert.Equal(1, SpillQuarantine.Count(dir, "b"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
