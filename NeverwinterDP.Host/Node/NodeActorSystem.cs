using Akka.Cluster;
using Akka.Hosting;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol.Remote;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Actors.Journal;
using NeverwinterDP.Host.Persistence;
using Akka.Actor;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Protocol.AtRest;

using NeverwinterDP.Host.Discovery;

namespace NeverwinterDP.Host.Node;

public static class NodeActorSystem
{
    /// <summary>
    /// The actor system from the node's HOCON, as one chain of the entities' own hosting extensions; with no seed
    /// nodes it forms a cluster of its own (unless <c>nwdp.cluster.join-self = off</c>: then it waits for
    /// <c>nwdp cluster join</c>). The remote ingress comes last: it spills through the node's spill store.
    /// </summary>
    public static IServiceCollection AddNodeActorSystem(this IServiceCollection services, NodeConfig config) =>
        services.AddAkka(ClusterOptions.SystemName, (akka, sp) => akka
            .AddHocon(config.Hocon, HoconAddMode.Prepend)
            .WithClusterTls(config.ClusterTls)
            // GracefulLeave stops the data path in this phase when the cluster removes the node: give it the
            // time the host gives the data path.
            .AddHocon($"akka.coordinated-shutdown.phases.before-service-unbind.timeout = {(long)(config.ShutdownTimeout + TimeSpan.FromSeconds(30)).TotalMilliseconds}ms",
                HoconAddMode.Prepend)
            .AddHocon(config.Persistence.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            // Under the node's configuration: the emitter protocol's serializer and frames large enough for its batches.
            .AddHocon(RemoteIngressHocon.Node, HoconAddMode.Append)
            .WithNodeLogging()
            .WithNodeMessages()
            .WithEmitters()
            .WithWatchdog(config.Watchdog with { Clock = sp.GetRequiredService<TimeProvider>() })
            .WithSinkWriters(new SinkWriterPlacement(
                HostsWriters: config.PumpEnabled, // on, and this node has the pump role
                RoleRestricted: config.Cluster.Roles.Count > 0,
                PumpEnabled: config.PumpEnabled,
                KeepAlive: config.SinkWriterKeepAlive))
            .WithMirrors(new MirrorPlacement(
                HostsMirrors: config.PumpEnabled, // mirrors run where sink writers do
                RoleRestricted: config.Cluster.Roles.Count > 0,
                Names: config.Mirrors.Select(m => m.Options.Name).ToList(),
                KeepAlive: config.MirrorKeepAlive))
            .WithSpillover(sp.GetRequiredService<SpillKeyRing>(), sp.GetRequiredService<SpillStoreInfo>())
            // Nodes that joined a cluster check that they write its journal, and leave (exit 3) when not.
            .WithJournalGuard(cancellation => JournalIdentityReader.ReadAsync(config.Persistence, cancellation),
                JournalIdentityReader.Location(config.Persistence),
                new JournalGuardOptions(config.Persistence.AllowPrivateJournal, TimeSpan.FromSeconds(2)),
                reason =>
                {
                    sp.GetRequiredService<NodeExit>().Fail(NodeExit.JournalRefused, reason);
                    CoordinatedShutdown.Get(sp.GetRequiredService<Akka.Actor.ActorSystem>()).Run(JournalMismatchReason.Instance);
                })
            .WithRemoteIngress(config.RemoteIngress with { RetryAfter = config.Ingress.RetryAfter })
            .WithAlerts(config.Alerts, config.ReloadAlerts, sp.GetRequiredService<TimeProvider>()) // the alert evaluator, a cluster singleton
            .AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                // A node that finds its seeds (nwdp.cluster.discovery.method) joins once it looked (Discovery/NodeDiscovery).
                if (config.Cluster.Seeds.Count == 0 && config.Cluster.JoinSelf && !NodeDiscovery.FindsSeeds(config)) cluster.Join(cluster.SelfAddress);
            }));

    /// <summary><c>nwdp.cluster.tls</c>: the certificate and the peer check go to the transport as a setup (<see cref="RemoteTlsSetup"/>); the overlay turned enable-ssl on.</summary>
    private static AkkaConfigurationBuilder WithClusterTls(this AkkaConfigurationBuilder akka, NeverwinterDP.Protocol.Remote.RemoteTls? tls) =>
        tls is null ? akka : akka.AddSetup(tls.ToSetup());
}
