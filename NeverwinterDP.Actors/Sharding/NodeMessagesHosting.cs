using Akka.Hosting;

namespace NeverwinterDP.Actors.Sharding;

public static class NodeMessagesHosting
{
    /// <summary>
    /// The serializer of every journaled or node-to-node message (<see cref="INodeMessage"/>: stable manifests, not
    /// CLR names), and Akka's JSON serializer taught to read rows written before it under type names that moved.
    /// </summary>
    public static AkkaConfigurationBuilder WithNodeMessages(this AkkaConfigurationBuilder akka) =>
        akka.AddHocon(NodeMessageSerializer.Hocon, HoconAddMode.Prepend)
            .AddSetup(LegacyTypeNames.JsonSetup);
}
