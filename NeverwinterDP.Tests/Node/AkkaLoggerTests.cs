using NeverwinterDP.Host.Node;
using Xunit;

namespace NeverwinterDP.Tests.Node;

public sealed class AkkaLoggerTests
{
    [Theory]
    [InlineData("akka.tcp://nwdp@127.0.0.1:43875/system/sharding/emitter", "/system/sharding/emitter")]
    [InlineData("akka://nwdp/user/StreamSupervisor-0", "/user/StreamSupervisor-0")]
    [InlineData("Cluster (akka://nwdp)", "Cluster")]
    [InlineData("remoting (akka://nwdp)", "remoting")]
    [InlineData("kafka consumer", "kafka consumer")]
    [InlineData("akka.tcp://nwdp@127.0.0.1:43875", "akka.tcp://nwdp@127.0.0.1:43875")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void A_log_source_loses_the_node_address_every_line_would_repeat(string? source, string expected) =>
        Assert.Equal(expected, AkkaLogger.ShortSource(source));
}
