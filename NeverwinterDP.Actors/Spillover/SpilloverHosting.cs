using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>Actor registry key of the spillover shard region.</summary>
public sealed class SpilloverRegion;

public static class SpilloverHosting
{
    /// <summary>
    /// Spillover entities (one per topic), persisted and remembered: a node that restarts with a backlog replays
    /// it without waiting for traffic. Not passivated while they hold batches. Their <see cref="SpillContext"/>
    /// comes from the container.
    /// </summary>
    public static AkkaConfigurationBuilder WithSpillover(this AkkaConfigurationBuilder akka) =>
        akka.AddHocon(SpillSerializer.Hocon, HoconAddMode.Prepend)
            .WithShardRegion<SpilloverRegion>(SpilloverEntity.TypeName,
                (_, _, resolver) => topic => SpilloverEntity.PropsFor(topic, resolver.GetService<SpillContext>()),
                new EntityMessageExtractor(EntityShards.Count),
                new ShardOptions
                {
                    RememberEntities = true,
                    RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                    ShouldPassivateIdleEntities = false,
                });
}
