using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Emitter;

/// <summary>Actor registry key of the emitter shard region.</summary>
public sealed class EmitterRegion;

public static class EmitterHosting
{
    /// <summary>Emitter entities (one per <c>host/process</c>), persisted; not remembered (they only answer and record).</summary>
    public static AkkaConfigurationBuilder WithEmitters(this AkkaConfigurationBuilder akka) =>
        akka.WithShardRegion<EmitterRegion>(EmitterEntity.TypeName,
            (_, _, _) => EmitterEntity.PropsFor,
            new EntityMessageExtractor(EntityShards.Count),
            new ShardOptions { PassivateIdleEntityAfter = TimeSpan.FromMinutes(10) }.OnJournal(remember: false));
}
