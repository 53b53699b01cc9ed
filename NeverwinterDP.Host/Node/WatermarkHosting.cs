using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Hour markers and watermarks (<c>nwdp.watermarks</c>, docs/watermarks.md): the bus writer's per-hour counts, the marker
/// writer, the pump's trackers and where their completions go (<c>nwdp.watermarks</c>, <c>GET /v1/watermarks</c>).
/// </summary>
public static class WatermarkHosting
{
    public static IServiceCollection AddWatermarks(this IServiceCollection services, NodeConfig config)
    {
        if (!config.Watermarks.Enabled) return services;
        return services
            .AddSingleton<HourCounts>()
            .AddSingleton(sp => new KafkaPartitionCounts(sp.GetRequiredService<KafkaBus>().Clients))
            .AddSingleton<IPartitionCounts>(sp => sp.GetRequiredService<KafkaPartitionCounts>())
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watermarks");
                var identity = sp.GetRequiredService<INodeIdentity>();
                return new HourMarkerWriter(sp.GetRequiredService<BusWriter>(), sp.GetRequiredService<HourCounts>(), () => identity.Id,
                    sp.GetRequiredService<IPartitionCounts>(), config.Watermarks, sp.GetRequiredService<TimeProvider>(), m => log.LogWarning("{Message}", m));
            })
            .AddSingleton(sp =>
            {
                return new KafkaWatermarkPublisher(NodeServices.Producer(sp).CreateKafkaProducer(), sp.GetRequiredService<KafkaBus>().Topics);
            })
            // Node ids that left the cluster: a node that wrote in the hour before and is gone is not waited for.
            .AddSingleton<ClusterNodeIds>().AddHostedService(sp => sp.GetRequiredService<ClusterNodeIds>())
            // Cluster-wide decisions: the pump nodes share what they read on nwdp.watermarks.observed.
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watermarks");
                var identity = sp.GetRequiredService<INodeIdentity>();
                var bus = sp.GetRequiredService<KafkaBus>();
                return new WatermarkExchangeHolder(config.Watermarks.Share && config.PumpEnabled
                    ? new KafkaWatermarkExchange(bus.Clients, bus.Topics, () => identity.Id, config.Watermarks.MaxKept, m => log.LogWarning("{Message}", m))
                    : null);
            })
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watermarks");
                var ids = sp.GetRequiredService<ClusterNodeIds>();
                var identity = sp.GetRequiredService<INodeIdentity>();
                return new WatermarkHub(config.Watermarks, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IPartitionCounts>(),
                    sp.GetRequiredService<KafkaWatermarkPublisher>(), goneNodes: ids.Gone, warn: m => log.LogWarning("{Message}", m),
                    stateDirectory: Path.Combine(config.DataDir, "watermarks"), exchange: sp.GetRequiredService<WatermarkExchangeHolder>().Exchange,
                    self: () => identity.Id);
            })
            .AddHostedService<WatermarkService>();
    }
}

/// <summary>The node's watermark exchange when it shares observations (pump role, <c>nwdp.watermarks.share</c>); else null.</summary>
public sealed record WatermarkExchangeHolder(KafkaWatermarkExchange? Exchange);

/// <summary>
/// Runs the marker writer and the trackers' checks. Started after the bus writer and stopped before it (hosted services
/// stop in reverse), so the last markers still get through.
/// </summary>
/// <remarks>The publisher and the partition counts are disposed by the container.</remarks>
public sealed class WatermarkService(HourMarkerWriter markers, WatermarkHub hub, WatermarkExchangeHolder shared, NodeConfig config,
    IHostApplicationLifetime lifetime, ILoggerFactory logs) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private CancellationTokenRegistration _started;
    private Task _hubStart = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        markers.Start();
        // Checked once the host started: the node id its shared observations carry may take the HTTP port, bound by then.
        if (config.PumpEnabled) _started = lifetime.ApplicationStarted.Register(() => _hubStart = StartHubAsync(_stop.Token));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts the exchange (its topics made once the bus answers), then the hub. In the background: a node must come up
    /// and spill while the bus is down, and the hub has nothing to decide until it is back.
    /// </summary>
    private async Task StartHubAsync(CancellationToken stop)
    {
        if (shared.Exchange is { } exchange)
        {
            var log = logs.CreateLogger("watermarks");
            while (true)
            {
                try
                {
                    await exchange.StartAsync(stop);
                    break;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    log.LogWarning("watermark exchange not started ({Reason}); trying again in 5 s", e.GetBaseException().Message);
                    try { await Task.Delay(TimeSpan.FromSeconds(5), stop); } catch (OperationCanceledException) { return; }
                }
            }
        }
        hub.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _started.Dispose();
        _stop.Cancel();
        try { await _hubStart.WaitAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { } // an exchange start stuck on a gone bus
        await markers.DisposeAsync();
        await hub.DisposeAsync();
        if (shared.Exchange is { } exchange) await exchange.DisposeAsync();
    }
}
