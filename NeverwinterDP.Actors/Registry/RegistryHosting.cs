using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace NeverwinterDP.Actors.Registry;

/// <summary>Actor registry key of the emitter shard region.</summary>
public sealed class EmitterRegion;

/// <summary>Actor registry key of the watchdog shard region.</summary>
public sealed class WatchdogRegion;

/// <summary>The emitter and watchdog shard regions, one hosting extension each (as Akka.Hosting's own).</summary>
public static class RegistryHosting
{
    /// <summary>Shards of the emitter and watchdog regions (10 per node of the largest cluster expected is plenty).</summary>
    public const int Shards = 100;

    /// <summary>Emitter entities (one per <c>host/process</c>), persisted; not remembered (they only answer and record).</summary>
    public static AkkaConfigurationBuilder WithEmitters(this AkkaConfigurationBuilder akka) =>
        akka.WithShardRegion<EmitterRegion>(EmitterEntity.TypeName,
            (_, _, _) => EmitterEntity.PropsFor,
            new RegistryMessageExtractor(Shards),
            new ShardOptions { RememberEntities = false, PassivateIdleEntityAfter = TimeSpan.FromMinutes(10) });

    /// <summary>
    /// Watchdog entities (one per host), persisted and remembered (event-sourced store in the journal): a host's
    /// deadline is checked again after a restart or a move, not only when its next beat arrives.
    /// </summary>
    public static AkkaConfigurationBuilder WithWatchdog(this AkkaConfigurationBuilder akka, WatchdogOptions options) =>
        akka.WithShardRegion<WatchdogRegion>(WatchdogEntity.TypeName,
            (_, _, resolver) => host => WatchdogEntity.PropsFor(host, options, resolver.GetService<IWatchdogPublisher>()),
            new RegistryMessageExtractor(Shards),
            new ShardOptions
            {
                RememberEntities = true,
                RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                ShouldPassivateIdleEntities = false,
            });
}
