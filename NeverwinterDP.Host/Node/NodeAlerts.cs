using System.Runtime.InteropServices;
using Akka.Hosting;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

public static class NodeAlerts
{
    /// <summary>
    /// The alerts' side of the node: the signals the evaluator reads (<see cref="AlertSignals"/>), the queries the
    /// admin API sends it, and the reload on SIGHUP. The evaluator itself is a singleton of the actor system
    /// (<see cref="AlertsHosting.WithAlerts"/>, in <see cref="NodeActorSystem"/>).
    /// </summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services) => services
        .AddSingleton<IAlertSignals>(sp => new AlertSignals(sp))
        .AddSingleton(sp => new AlertsQueries(sp.GetRequiredService<ActorRegistry>()))
        .AddHostedService<AlertsReloadOnHangup>();
}

/// <summary>SIGHUP asks the cluster's alert evaluator to re-read nwdp.alerts (as <c>nwdp alerts reload</c> does).</summary>
public sealed class AlertsReloadOnHangup(AlertsQueries alerts, ILogger<AlertsReloadOnHangup> log) : IHostedService
{
    private PosixSignalRegistration? _hangup;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows()) return Task.CompletedTask;
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP reloads, it does not stop the node
            _ = ReloadAsync();
        });
        return Task.CompletedTask;
    }

    private async Task ReloadAsync()
    {
        try
        {
            var result = await alerts.ReloadAsync(CancellationToken.None);
            if (result.Ok) log.LogInformation("SIGHUP: alerts reloaded on {Evaluator}: {Rules} rules, {Webhooks} webhooks", result.Evaluator, result.Rules, result.Webhooks);
            else log.LogError("SIGHUP: alerts reload refused, the previous rules stay: {Error}", result.Error);
        }
        catch (Exception e)
        {
            log.LogError("SIGHUP: alerts reload failed: {Error}", e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _hangup?.Dispose();
        return Task.CompletedTask;
    }
}
