using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Actors.RemoteIngress;

public static class RemoteIngressHosting
{
    /// <summary>
    /// Serves EmitterClients: starts the <see cref="IngressReceptionist"/> (registered under its own type in the
    /// actor registry) and registers it with the ClusterClientReceptionist (<c>/system/receptionist</c>, on every
    /// node). Comes after the shard regions in the chain: ingress spills through the spillover region. Its
    /// <see cref="EventIngress"/>, contexts, heartbeat listeners and metrics come from the container.
    /// </summary>
    public static AkkaConfigurationBuilder WithRemoteIngress(this AkkaConfigurationBuilder akka, RemoteIngressOptions options) =>
        !options.Enabled
            ? akka
            : akka.WithActors((system, registry, resolver) =>
            {
                var receptionist = system.ActorOf(IngressReceptionist.Props(resolver.GetService<EventIngress>().AcceptAsync, resolver.GetService<IngressContexts>(),
                    resolver.GetService<IEnumerable<IHeartbeatListener>>(), options, resolver.GetService<RemoteIngressMetrics>(),
                    resolver.GetService<TimeProvider>()), IngressReceptionist.Name);
                registry.Register<IngressReceptionist>(receptionist);
                ClusterClientReceptionist.Get(system).RegisterService(receptionist);
            });
}
