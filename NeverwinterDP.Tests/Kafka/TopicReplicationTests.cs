using NeverwinterDP.Actors.Kafka;
using Xunit;

namespace NeverwinterDP.Tests.Kafka;

/// <summary><c>nwdp.kafka.topic-replication-factor</c> and <c>topic-min-insync-replicas</c>: auto from the brokers, or fixed.</summary>
public sealed class TopicReplicationTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 3, 2)]
    [InlineData(5, 3, 2)]
    public void Auto_is_3_and_2_with_three_brokers_or_more_else_1_and_1(int brokers, short factor, int minInsync) =>
        Assert.Equal((factor, minInsync), TopicReplication.Parse("auto", "auto").For(brokers));

    [Fact]
    public void Fixed_values_win_and_min_insync_follows_a_fixed_factor_when_auto()
    {
        Assert.Equal(((short)2, 1), TopicReplication.Parse("2", "1").For(5));
        Assert.True(TopicReplication.Parse("2", "1").IsFixed);
        Assert.Equal(((short)3, 2), TopicReplication.Parse("3", "auto").For(1));
        Assert.Equal(((short)1, 1), TopicReplication.Parse("1", "auto").For(5));
        Assert.Equal(((short)3, 3), TopicReplication.Parse("auto", "3").For(3));
        Assert.Equal(((short)1, 1), TopicReplication.Parse("auto", "3").For(1)); // never above the factor the cluster allows
    }

    [Theory]
    [InlineData("0", "auto", "nwdp.kafka.topic-replication-factor")]
    [InlineData("three", "auto", "nwdp.kafka.topic-replication-factor")]
    [InlineData("auto", "-1", "nwdp.kafka.topic-min-insync-replicas")]
    [InlineData("2", "3", "must not exceed")]
    public void Bad_values_are_refused_naming_the_key(string factor, string minInsync, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => TopicReplication.Parse(factor, minInsync)).Message);
}
