using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Host.Node;

namespace NeverwinterDP.Host.Http;

/// <summary><c>GET /healthz</c> (ready: ingress and pumps running) and <c>GET /healthz/live</c> (the process answers).</summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz/live", () => Results.Json(new { status = "live" }));
        app.MapGet("/healthz", (BusWriter writer, LocalPumps local, KafkaBus bus) =>
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
            return Results.Json(new
            {
                status = ready ? "ready" : "not ready",
                kafka = bus.BootstrapServers,
                embedded_kafka = bus.Embedded is not null,
                ingress = new { running = ingressUp, queued = writer.Queued },
                pumps,
            }, statusCode: ready ? 200 : 503);
        });
    }
}
