using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Host.Node;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// <c>GET /healthz</c> (ready: ingress and pumps running; 503 otherwise) and <c>GET /healthz/live</c> (the process
/// answers). <c>sinks</c> holds the health check of every sink instance this node's pumps write to (cached for a
/// few seconds, see <see cref="SinkHealthChecks"/>): a sink that cannot reach its store makes a ready node
/// <c>degraded</c>, still 200 (the node accepts events; the pump retries and the bus holds them).
/// </summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz/live", () => Results.Json(new { status = "live" }));
        app.MapGet("/healthz", async (BusWriter writer, LocalPumps local, KafkaBus bus, SinkHealthChecks sinkChecks) =>
        {
            var ingressUp = writer.IsRunning;
            var pumps = local.All.Select(p => new
            {
                sink = p.Sink.Name,
                running = p.IsRunning,
                delivered = p.Stats.Delivered,
                committed = p.Stats.Committed,
                rejected = p.Stats.Rejected,
                buffered = p.Control?.Buffered ?? 0,
                lost_on_bus = p.Control?.LostRecords ?? 0,
            }).ToList();
            var ready = ingressUp && pumps.All(p => p.running);
            var sinkHealth = await sinkChecks.CheckAsync(pumps.Select(p => p.sink).Order(StringComparer.Ordinal));
            var degraded = sinkHealth.Any(s => !s.Health.Healthy);
            return Results.Json(new
            {
                status = !ready ? "not ready" : degraded ? "degraded" : "ready",
                kafka = bus.BootstrapServers,
                embedded_kafka = bus.Embedded is not null,
                bus_epoch = bus.Epoch,
                ingress = new { running = ingressUp, queued = writer.Queued },
                pumps,
                sinks = sinkHealth.ToDictionary(s => s.Sink, s => new { status = s.Health.Healthy ? "healthy" : "unhealthy", reason = s.Health.Detail }),
            }, statusCode: ready ? 200 : 503);
        });
    }
}
