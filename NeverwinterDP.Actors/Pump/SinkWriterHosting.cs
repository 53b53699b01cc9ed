using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Pump;

/// <summary>Actor registry key of the sink-writer shard region.</summary>
public sealed class SinkWriterRegion;

/// <summary>Where a node's sink writers run and how they are kept running.</summary>
/// <param name="HostsWriters">This node has the <c>pump</c> role and its pump is on: it hosts writers; else it only proxies.</param>
/// <param name="RoleRestricted">The cluster's nodes declare roles: writers run only on <c>pump</c> nodes.</param>
/// <param name="KeepAlive"><c>nwdp.pump.keep-alive-interval</c>: how often every node asks for every sink writer to run.</param>
public sealed record SinkWriterPlacement(bool HostsWriters, bool RoleRestricted, bool PumpEnabled, TimeSpan KeepAlive);

public static class SinkWriterHosting
{
    /// <summary>
    /// Sink writers (one per sink and slot) on the nodes with the <c>pump</c> role (a proxy elsewhere), kept
    /// running by a keeper on every node; hand-off drains and commits (<see cref="StopSinkWriter"/>). Their
    /// <see cref="SinkWriterContext"/> and the <see cref="ISinkCatalog"/> come from the container.
    /// </summary>
    public static AkkaConfigurationBuilder WithSinkWriters(this AkkaConfigurationBuilder akka, SinkWriterPlacement placement)
    {
        var options = new ShardOptions
        {
            Role = placement.RoleRestricted ? NodeRoles.Pump : null,
            ShouldPassivateIdleEntities = false,
            HandOffStopMessage = StopSinkWriter.Instance,
        }.OnJournal(remember: false);
        akka = placement.HostsWriters
            ? akka.WithShardRegion<SinkWriterRegion>(SinkWriterEntity.TypeName,
                (_, _, resolver) => id => SinkWriterEntity.PropsFor(id, resolver.GetService<SinkWriterContext>()),
                new SinkWriterMessageExtractor(), options)
            : akka.WithShardRegionProxy<SinkWriterRegion>(SinkWriterEntity.TypeName, NodeRoles.Pump, new SinkWriterMessageExtractor());
        if (!placement.PumpEnabled) return akka;
        return akka.WithActors((system, registry, resolver) =>
        {
            var catalog = resolver.GetService<ISinkCatalog>();
            system.ActorOf(SinkWriterKeeper.PropsFor(catalog.EntityIds, registry.Get<SinkWriterRegion>(), placement.KeepAlive), "sink-writer-keeper");
        });
    }
}
