using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Watchdog;

/// <summary>Actor registry key of the watchdog shard region.</summary>
public sealed class WatchdogRegion;

public static class WatchdogHosting
{
    /// <summary>
    /// Watchdog entities (one per host), persisted and remembered (event-sourced store in the journal): a host's
    /// deadline is checked again after a restart or a move, not only when its next beat arrives. Their
    /// <see cref="IWatchdogPublisher"/> comes from the container.
    /// </summary>
    public static AkkaConfigurationBuilder WithWatchdog(this AkkaConfigurationBuilder akka, WatchdogOptions options) =>
        akka.WithShardRegion<WatchdogRegion>(WatchdogEntity.TypeName,
            (_, _, resolver) => host => WatchdogEntity.PropsFor(host, options, resolver.GetService<IWatchdogPublisher>()),
            new EntityMessageExtractor(EntityShards.Count),
            new ShardOptions
            {
                ShouldPassivateIdleEntities = false,
            }.OnJournal(remember: true));
}
