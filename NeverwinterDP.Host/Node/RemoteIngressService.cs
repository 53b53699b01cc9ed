using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using NeverwinterDP.Actors.RemoteIngress;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Stops serving EmitterClients before the bus writer stops (registered after <see cref="BusService"/>, so it stops
/// first): unregisters the receptionist (clients' batches go to the other nodes) and lets it answer what it holds.
/// The receptionist itself is started in the actor system's chain (<see cref="RemoteIngressHosting.WithRemoteIngress"/>).
/// </summary>
public sealed class RemoteIngressService(ActorSystem system, ActorRegistry registry, ILogger<RemoteIngressService> log) : IHostedService
{
    /// <summary>The contact point clients give for this node: <c>akka.tcp://nwdp@host:port/system/receptionist</c>.</summary>
    public string ContactPoint => $"{Cluster.Get(system).SelfAddress}/system/receptionist";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (registry.TryGet<IngressReceptionist>(out _)) log.LogInformation("Akka-remote ingress: EmitterClients connect to {ContactPoint}", ContactPoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!registry.TryGet<IngressReceptionist>(out var receptionist) || system.WhenTerminated.IsCompleted) return;
        ClusterClientReceptionist.Get(system).UnregisterService(receptionist);
        try
        {
            await receptionist.Ask<Done>(IngressReceptionist.StopAccepting.Instance, TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            log.LogWarning("The Akka-remote ingress did not confirm it stopped accepting");
        }
    }
}
