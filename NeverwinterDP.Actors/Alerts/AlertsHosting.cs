using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>Actor registry key of the alert evaluator's singleton proxy.</summary>
public sealed class AlertEvaluatorProxy;

public static class AlertsHosting
{
    /// <summary>
    /// The alert evaluator as a cluster singleton (on the oldest node; it moves when that node leaves or is downed)
    /// and its proxy on every node. Its <see cref="IAlertSignals"/> comes from the container.
    /// </summary>
    /// <param name="reload">Reads nwdp.alerts again from this node's configuration (a reload).</param>
    public static AkkaConfigurationBuilder WithAlerts(this AkkaConfigurationBuilder akka, AlertSettings settings, Func<AlertSettings> reload, TimeProvider clock) =>
        akka.WithSingleton<AlertEvaluatorProxy>(AlertEvaluatorActor.Name,
            (_, _, resolver) => AlertEvaluatorActor.PropsFor(settings, reload, resolver.GetService<IAlertSignals>(), clock),
            new ClusterSingletonOptions(), createProxyToo: true);
}

/// <summary>What the admin API asks the evaluator, wherever in the cluster it runs.</summary>
public sealed class AlertsQueries(ActorRegistry registry)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public Task<AlertsView> ViewAsync(CancellationToken cancellation) =>
        registry.Get<AlertEvaluatorProxy>().Ask<AlertsView>(GetAlerts.Instance, Timeout, cancellation);

    public Task<AlertsReloaded> ReloadAsync(CancellationToken cancellation) =>
        registry.Get<AlertEvaluatorProxy>().Ask<AlertsReloaded>(ReloadAlerts.Instance, Timeout, cancellation);
}
