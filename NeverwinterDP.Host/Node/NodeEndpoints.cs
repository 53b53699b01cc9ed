using NeverwinterDP.Actors;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Dashboard;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Host.Inputs;
using NeverwinterDP.Host.Schemas;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Host.Node;

public static class NodeEndpoints
{
    /// <summary>Every route of a node: ingress, health, the schema registry, the admin API (on its own listener) and /metrics.</summary>
    public static WebApplication MapNodeEndpoints(this WebApplication app, NodeConfig config)
    {
        app.UseRouting();
        app.UseListenerSeparation(app.Services.GetRequiredService<NodeListeners>().IsAdminConnection,
            config.Admin.Enabled ? AdminToken.Ensure(config.DataDir, config.Admin.Token) : null, config.Admin.Endpoint?.Host);
        if (config.Cluster.HasRole(NodeRoles.Ingress))
        {
            // Avro bodies (REST Proxy v2 records, Confluent frames) by their Content-Type; everything else is /v1/events' own.
            app.MapPost("/v1/events", (HttpContext http, IngressEndpoint endpoint) =>
                IngressTransportErrors.HandleAsync(http, h => endpoint.HandleAsync(h, AvroInput.DialectFor(h) ?? EventsDialect.Default)));
            app.MapFluentBitInput();
            app.MapHecInput(config.HecTokens);
            app.MapOtlpInput();
            app.MapBulkInput(config.BulkVersion);
        }
        else
            app.MapPost("/v1/events", () => Results.Json(
                new { error = $"this node does not have the '{NodeRoles.Ingress}' role (nwdp.cluster.roles = {string.Join(",", config.Cluster.Roles)}); send events to a node that has it" },
                statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapHealthEndpoints();
        app.MapSchemaRegistry(config.Schemas);
        if (config.Admin.Enabled)
        {
            app.MapAdminApi();
            app.MapDashboard();
        }
        app.MapNodeStats();
        return app;
    }
}
