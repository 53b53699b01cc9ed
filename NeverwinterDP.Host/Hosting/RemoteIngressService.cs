using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Client;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Remote;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// Serves EmitterClients: starts the <see cref="IngressReceptionist"/> once the ingress runs and registers it
/// with the ClusterClientReceptionist (<c>/system/receptionist</c>, on every node). On shutdown, before the
/// ingress stops: unregisters it (clients' batches go to the other nodes) and lets it answer what it holds.
/// </summary>
public sealed class RemoteIngressService(IServiceProvider services, ActorSystem system, NodeConfig config, ILogger<RemoteIngressService> log) : IHostedService
{
    private IActorRef? _receptionist;

    /// <summary>The contact point clients give for this node: <c>akka.tcp://nwdp@host:port/system/receptionist</c>.</summary>
    public string ContactPoint => $"{Cluster.Get(system).SelfAddress}/system/receptionist";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = config.RemoteIngress;
        if (!options.Enabled) return Task.CompletedTask;
        // Resolved here, not in the constructor: the ingress exists once NodeService started.
        var ingress = services.GetRequiredService<EventIngress>();
        _receptionist = system.ActorOf(IngressReceptionist.Props(ingress.AcceptAsync, services.GetRequiredService<IngressContexts>(),
            services.GetServices<IHeartbeatListener>(), options with { RetryAfter = config.Ingress.RetryAfter },
            services.GetRequiredService<RemoteIngressMetrics>(), services.GetRequiredService<TimeProvider>()), IngressReceptionist.Name);
        ClusterClientReceptionist.Get(system).RegisterService(_receptionist);
        log.LogInformation("Akka-remote ingress: EmitterClients connect to {ContactPoint}", ContactPoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_receptionist is null || system.WhenTerminated.IsCompleted) return;
        ClusterClientReceptionist.Get(system).UnregisterService(_receptionist);
        try
        {
            await _receptionist.Ask<Done>(IngressReceptionist.StopAccepting.Instance, TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            log.LogWarning("The Akka-remote ingress did not confirm it stopped accepting");
        }
    }
}
