using Confluent.Kafka;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;
using Prometheus;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>Per-minute monitoring, the loss audit and <c>/metrics</c> (<c>nwdp.stats</c>): one call each for services and routes.</summary>
public static class StatsHosting
{
    /// <summary>The counter (an ingress, heartbeat and delivery observer), its publisher, the cluster-wide store and the metrics.</summary>
    public static IServiceCollection AddNodeStats(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton(config.Stats)
        .AddSingleton(sp => new StatsCounter(sp.GetRequiredService<StatsOptions>(), sp.GetRequiredService<TimeProvider>()))
        .AddSingleton<IIngressObserver>(sp => sp.GetRequiredService<StatsCounter>())
        .AddSingleton<IHeartbeatListener>(sp => sp.GetRequiredService<StatsCounter>())
        .AddSingleton<IDeliveryObserver>(sp => sp.GetRequiredService<StatsCounter>())
        .AddSingleton(sp => new StatsStore(sp.GetRequiredService<StatsOptions>(), sp.GetRequiredService<TimeProvider>()))
        .AddSingleton<NodeMetrics>()
        .AddGanglia(config.Ganglia);

    /// <summary>
    /// The publisher and the feed of <c>nwdp.stats</c>. Registered before the actor system, so it stops after it: the
    /// pumps draining at a stop publish their last delivered counts before they commit (hosted services stop in
    /// reverse order).
    /// </summary>
    public static IServiceCollection AddNodeStatsPublishing(this IServiceCollection services) => services.AddHostedService<StatsService>();

    /// <summary>The gmetric exporter, when <c>nwdp.monitoring.ganglia.host</c> names a gmond.</summary>
    private static IServiceCollection AddGanglia(this IServiceCollection services, GangliaOptions ganglia) =>
        ganglia.Enabled ? services.AddSingleton(ganglia).AddHostedService<NeverwinterDP.Host.Monitoring.GangliaExporter>() : services;

    /// <summary><c>GET /metrics</c> (Prometheus), and the ingress request counter (the stats API is the admin API's <c>/v1/stats</c> and <c>/v1/audit</c>).</summary>
    public static WebApplication MapNodeStats(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<NodeMetrics>();
        app.Services.GetRequiredService<MirrorMetrics>(); // the mirrors' series join the registry (none without mirrors)
        app.Use(async (http, next) =>
        {
            await next(http);
            if (http.Request.Path == "/v1/events" && HttpMethods.IsPost(http.Request.Method) || http.Items.ContainsKey(IngressEndpoint.IngressRequestItem))
                metrics.IngressRequest(http.Response.StatusCode, http.Items.TryGetValue(IngressEndpoint.RefusalReasonItem, out var reason) ? reason as string : null);
        });
        app.MapMetrics("/metrics", metrics.Registry);
        return app;
    }
}

/// <summary>Publishes this node's counts to <c>nwdp.stats</c> and reads every node's into the store.</summary>
public sealed class StatsService(StatsCounter counter, StatsStore store, StatsOptions options, KafkaBus bus, NodeIdentity identity, ILogger<StatsService> log)
    : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task _starting = Task.CompletedTask;
    private StatsPublisher? _publisher;
    private StatsFeed? _feed;

    public StatsPublisher Publisher => _publisher ?? throw new InvalidOperationException("stats are not started");

    /// <summary>
    /// Starts publishing and reading once the stats topic exists. In the background: a node must come up (and
    /// spill) while Kafka is down; the counts wait in the counter until then.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _starting = Task.Run(() => StartWhenBusAnswersAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StartWhenBusAnswersAsync(CancellationToken stop)
    {
        if (!await ControlTopics.EnsureAsync(bus, TopicNames.Stats, "per-minute stats are kept", log, stop)) return;
        // No linger: ingress waits for these records before it answers (the publisher already gathers them per flush).
        var producer = ControlTopics.Producer(bus, lingerMs: 0);
        void Warn(string m) => log.LogWarning("{Message}", m);
        lock (_stop)
        {
            if (stop.IsCancellationRequested)
            {
                producer.Dispose();
                return;
            }
            _publisher = new StatsPublisher(counter, producer, () => identity.Id, Warn);
            _feed = new StatsFeed(bus.Clients, store, options, Warn);
            _publisher.Start();
            _feed.Start();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stop) _stop.Cancel();
        await _starting;
        if (_publisher is not null) await _publisher.DisposeAsync();
        if (_feed is not null) await _feed.DisposeAsync();
    }
}
