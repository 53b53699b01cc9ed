using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

public class TopicNamesTests
{
    [Theory]
    [InlineData("access", "nwdp.logs.access")]
    [InlineData("App-Log_v1.2", "nwdp.logs.App-Log_v1.2")]
    [InlineData("my app/errors", "nwdp.logs.my_app_errors")]
    [InlineData("日志", "nwdp.logs.__")]
    [InlineData("", "nwdp.logs.default")]
    public void A_log_type_maps_to_its_topic_with_characters_Kafka_refuses_replaced(string type, string topic)
    {
        Assert.Equal(topic, TopicNames.ForType(type));
    }

    [Fact]
    public void A_very_long_type_is_cut_to_Kafka_s_limit_and_stays_distinct()
    {
        var a = TopicNames.ForType(new string('a', 300) + "1");
        var b = TopicNames.ForType(new string('a', 300) + "2");

        Assert.Equal(249, a.Length);
        Assert.StartsWith("nwdp.logs.aaaa", a);
        Assert.NotEqual(a, b);
        Assert.Equal(a, TopicNames.ForType(new string('a', 300) + "1"));
        Assert.Matches("^nwdp\\.logs\\.a+-[0-9a-f]{8}$", a);
    }

    [Fact]
    public void A_type_exactly_at_the_limit_is_not_cut()
    {
        var type = new string('t', 249 - "nwdp.logs.".Length);

        Assert.Equal("nwdp.logs." + type, TopicNames.ForType(type));
    }

    [Fact]
    public void The_control_topics_have_their_fixed_names()
    {
        Assert.Equal(
            ["nwdp.heartbeats", "nwdp.stats", "nwdp.watchdog", "nwdp.schemas"],
            [TopicNames.Heartbeats, TopicNames.Stats, TopicNames.Watchdog, TopicNames.Schemas]);
    }
}
