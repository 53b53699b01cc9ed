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
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watermarks");
                var ids = sp.GetRequiredService<ClusterNodeIds>();
                return new WatermarkHub(config.Watermarks, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IPartitionCounts>(),
                    sp.GetRequiredService<KafkaWatermarkPublisher>(), goneNodes: ids.Gone, warn: m => log.LogWarning("{Message}", m),
                    stateDirectory: Path.Combine(config.DataDir, "watermarks"));
            })
            .AddHostedService<WatermarkService>();
    }
}

/// <summary>
/// Runs the marker writer and the trackers' checks. Started after the bus writer and stopped before it (hosted services
/// stop in reverse), so the last markers still get through.
/// </summary>
/// <remarks>The publisher and the partition counts are disposed by the container.</remarks>
public sealed class WatermarkService(HourMarkerWriter markers, WatermarkHub hub, NodeConfig config)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        markers.Start();
        if (config.PumpEnabled) hub.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await markers.DisposeAsync();
        await hub.DisposeAsync();
    }
}
