using Akka.Actor;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Keeps the host and the cluster membership stopping in one order, whoever starts it:
/// <list type="bullet">
/// <item>SIGTERM / Ctrl-C: the host stops Kestrel, ingress and the pumps, then Akka.Hosting runs
/// CoordinatedShutdown, whose cluster phases leave the cluster gracefully (Leaving, Exiting, Removed).</item>
/// <item>The cluster removes the node first (<c>nwdp cluster leave ADDR</c>, a down, the split-brain
/// resolver): CoordinatedShutdown starts; its first phase here stops the host (ingress, pumps) and waits for
/// that before the actors go, and when the actor system has terminated the process exits.</item>
/// </list>
/// Registered right after the actor system, so it stops after everything that uses the actors.
/// </summary>
public sealed class GracefulLeave(ActorSystem system, IHostApplicationLifetime lifetime, ILogger<GracefulLeave> log) : IHostedService
{
    private readonly TaskCompletionSource _dataPathStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "nwdp-stop-host", async () =>
        {
            if (!_dataPathStopped.Task.IsCompleted)
            {
                log.LogInformation("The node is leaving the cluster ({Reason}): stopping ingress and the pumps first", shutdown.ShutdownReason);
                lifetime.StopApplication();
                await _dataPathStopped.Task;
            }
            return Akka.Done.Instance;
        });
        system.WhenTerminated.ContinueWith(_ =>
        {
            if (!lifetime.ApplicationStopping.IsCancellationRequested)
                log.LogWarning("The actor system terminated: stopping the node");
            lifetime.StopApplication();
        }, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>Everything registered after the actor system has stopped: CoordinatedShutdown may take the actors down.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _dataPathStopped.TrySetResult();
        return Task.CompletedTask;
    }
}
