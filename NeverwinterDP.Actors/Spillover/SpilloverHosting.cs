using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Actor.Setup;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>Actor registry key of the spillover shard region.</summary>
public sealed class SpilloverRegion;

/// <summary>The spill keys the <see cref="SpillSerializer"/> seals and opens journal rows with (none: rows in the clear).</summary>
public sealed class SpillKeysSetup(SpillKeyRing keys) : Setup
{
    public SpillKeyRing Keys { get; } = keys;
}

public static class SpilloverHosting
{
    /// <summary>
    /// Spillover entities (one per topic), persisted and remembered: a node that restarts with a backlog replays
    /// it without waiting for traffic. Not passivated while they hold batches. Their <see cref="SpillContext"/>
    /// comes from the container; their journal rows are sealed and opened with <paramref name="keys"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithSpillover(this AkkaConfigurationBuilder akka, SpillKeyRing keys) =>
        akka.AddHocon(SpillSerializer.Hocon, HoconAddMode.Prepend)
            .AddSetup(new SpillKeysSetup(keys))
            .WithShardRegion<SpilloverRegion>(SpilloverEntity.TypeName,
                (_, _, resolver) => topic => SpilloverEntity.PropsFor(topic, resolver.GetService<SpillContext>()),
                new EntityMessageExtractor(EntityShards.Count),
                new ShardOptions
                {
                    ShouldPassivateIdleEntities = false,
                }.OnJournal(remember: true));
}
