using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/ingress</c> (this node's ingress: running, the bytes-in-flight budget, events accepted and requests
/// refused) and <c>GET /v1/sinks</c> (every sink instance's health check and this node's writers of it): what
/// <c>nwdp check ingress</c> and <c>nwdp check sinks</c> read.
/// </summary>
public static class NodeStatusAdmin
{
    public static IResult Ingress(BusWriter writer, IngressBudget budget, StatsCounter stats, NodeMetrics metrics) =>
        AdminApi.Json(IngressStatus(writer, budget, stats, metrics), AdminJson.Default.IngressStatusResponse);

    /// <summary>This node's ingress now (<c>GET /v1/ingress</c> and the dashboard).</summary>
    public static IngressStatusResponse IngressStatus(BusWriter writer, IngressBudget budget, StatsCounter stats, NodeMetrics metrics) =>
        new(writer.IsRunning, budget.InFlight, budget.Limit, writer.Queued, stats.AcceptedEvents, stats.SpilledEvents, metrics.RefusedRequests);

    public static async Task<IResult> SinksAsync(SinkCatalog catalog, SinkHealthChecks checks, LocalPumps pumps) =>
        AdminApi.Json(await SinksStatusAsync(catalog, checks, pumps), AdminJson.Default.SinksStatusResponse);

    /// <summary>Every sink instance's health and this node's writers of it (<c>GET /v1/sinks</c> and the dashboard).</summary>
    public static async Task<SinksStatusResponse> SinksStatusAsync(SinkCatalog catalog, SinkHealthChecks checks, LocalPumps pumps)
    {
        var local = pumps.All;
        var health = await checks.CheckAsync(catalog.Names);
        var rows = catalog.Sections.Zip(health, (section, h) =>
        {
            var mine = local.Where(p => p.Sink.Name == section.Name).ToList();
            return new SinkStatusInfo(section.Name, section.Kind, h.Health.Healthy, h.Health.Detail, mine.Count, mine.Count(p => p.IsRunning),
                mine.Sum(p => p.Stats.Delivered), mine.Sum(p => p.Stats.Rejected));
        }).ToList();
        return new SinksStatusResponse(rows);
    }
}
