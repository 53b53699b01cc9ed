using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>Actor registry key of the mirror shard region.</summary>
public sealed class MirrorRegion;

/// <summary>Where a node's mirrors run.</summary>
/// <param name="HostsMirrors">This node has the <c>pump</c> role and its pump is on: it hosts mirrors; else it only proxies.</param>
/// <param name="RoleRestricted">The cluster's nodes declare roles: mirrors run only on <c>pump</c> nodes.</param>
/// <param name="Names">The configured mirrors (<c>nwdp.mirrors</c>); none: no region at all.</param>
/// <param name="KeepAlive"><c>nwdp.mirror.keep-alive-interval</c>: how often every node asks for every mirror to run.</param>
public sealed record MirrorPlacement(bool HostsMirrors, bool RoleRestricted, IReadOnlyList<string> Names, TimeSpan KeepAlive);

public static class MirrorHosting
{
    /// <summary>
    /// The mirror entities (one per configured mirror) on the nodes with the <c>pump</c> role (a proxy elsewhere), kept
    /// running by a keeper on every node; hand-off commits and stops (<see cref="StopMirror"/>). Their
    /// <see cref="MirrorContext"/> comes from the container. Nothing at all when no mirror is configured.
    /// </summary>
    public static AkkaConfigurationBuilder WithMirrors(this AkkaConfigurationBuilder akka, MirrorPlacement placement)
    {
        if (placement.Names.Count == 0) return akka;
        var options = new ShardOptions
        {
            Role = placement.RoleRestricted ? NodeRoles.Pump : null,
            RememberEntities = false,
            ShouldPassivateIdleEntities = false,
            HandOffStopMessage = StopMirror.Instance,
        };
        akka = placement.HostsMirrors
            ? akka.WithShardRegion<MirrorRegion>(MirrorEntity.TypeName,
                (_, _, resolver) => name => MirrorEntity.PropsFor(name, resolver.GetService<MirrorContext>()),
                new MirrorMessageExtractor(), options)
            : akka.WithShardRegionProxy<MirrorRegion>(MirrorEntity.TypeName, NodeRoles.Pump, new MirrorMessageExtractor());
        return akka.WithActors((system, registry) =>
            system.ActorOf(MirrorKeeper.PropsFor(placement.Names, registry.Get<MirrorRegion>(), placement.KeepAlive), "mirror-keeper"));
    }
}
