using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// The admin API (what <c>nwdp cluster ...</c>, <c>cluster-sharding ...</c>, <c>actor hierarchy</c>,
/// <c>sources</c>, <c>watchdog</c>, <c>spill</c>, <c>stats</c> and <c>audit</c> call), served only on the admin listener (<c>nwdp.admin.endpoint</c>).
/// Errors are <c>{"error": "..."}</c> with a 4xx/5xx status.
/// </summary>
public static class AdminApi
{
    /// <summary>Where the admin API listens unless <c>nwdp.admin.endpoint</c> says otherwise (and the CLI's default <c>--node</c>).</summary>
    public const string DefaultEndpoint = "127.0.0.1:9110";

    /// <summary>Marks an endpoint as an admin route: served on the admin listener and nowhere else.</summary>
    public sealed class AdminRoute;

    public static void MapAdminApi(this WebApplication app)
    {
        var admin = app.MapGroup("/v1").WithMetadata(new AdminRoute());
        admin.MapGet("/cluster/members", ClusterAdmin.Members);
        admin.MapGet("/cluster/status", ClusterAdmin.Status);
        admin.MapGet("/cluster/leader", ClusterAdmin.Leader);
        admin.MapPost("/cluster/leave", ClusterAdmin.Leave);
        admin.MapPost("/cluster/join", ClusterAdmin.Join);
        admin.MapPost("/cluster/down", ClusterAdmin.Down);
        admin.MapPost("/cluster/down-unreachable", ClusterAdmin.DownUnreachable);
        admin.MapGet("/cluster/events", MembershipStream.StreamAsync);
        admin.MapGet("/sharding/regions", ShardingAdmin.RegionsAsync);
        admin.MapGet("/sharding/region-stats", ShardingAdmin.RegionStatsAsync);
        admin.MapGet("/sharding/shard-stats", ShardingAdmin.ShardStatsAsync);
        admin.MapGet("/actors", ActorHierarchy.Get);
        admin.MapGet("/sources", RegistryAdmin.SourcesAsync);
        admin.MapGet("/watchdog", RegistryAdmin.WatchdogAsync);
        admin.MapGet("/spill/status", SpillAdmin.StatusAsync);
        admin.MapGet("/spill/check", SpillAdmin.Check);
        admin.MapGet("/stats", StatsAdmin.Stats);
        admin.MapGet("/audit", StatsAdmin.Audit);
    }

    /// <summary>
    /// Keeps the two listeners apart (admin routes only on the admin listener, the others only on the
    /// ingress listener: 404 otherwise) and checks the admin token. Runs after routing, so it sees the endpoint.
    /// </summary>
    /// <param name="isAdminConnection">Whether a request arrived on the admin listener (the node knows its listeners).</param>
    /// <param name="token">The node's <c>nwdp.admin.token</c>; null = none required.</param>
    public static void UseListenerSeparation(this WebApplication app, Func<HttpContext, bool> isAdminConnection, string? token)
    {
        var expected = token is null ? null : Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (http, next) =>
        {
            var onAdminListener = isAdminConnection(http);
            var adminRoute = http.GetEndpoint()?.Metadata.GetMetadata<AdminRoute>() is not null;
            if (!onAdminListener)
            {
                if (adminRoute) await Error(http, 404, "not found: the admin API has its own listener (nwdp.admin.endpoint)");
                else await next(http);
                return;
            }
            if (expected is not null && !Authorized(http, expected))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                await Error(http, 401, "the admin API needs 'Authorization: Bearer TOKEN' with the node's nwdp.admin.token (nwdp: --token or NWDP_ADMIN_TOKEN)");
                return;
            }
            if (!adminRoute)
            {
                await Error(http, 404, $"no admin route {http.Request.Method} {http.Request.Path}");
                return;
            }
            try
            {
                await next(http);
            }
            catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
            {
                // An actor that did not answer in time (a shard region, a remote member) or anything else: JSON, as every error here.
                var timeout = e is Akka.Actor.AskTimeoutException or TimeoutException;
                await Error(http, timeout ? 504 : 500, $"{(timeout ? "timed out" : "failed")}: {e.Message}");
            }
        });
    }

    private static bool Authorized(HttpContext http, byte[] expected)
    {
        var given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private static Task Error(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message), AdminJson.Default.ErrorResponse);
    }

    internal static IResult Json<T>(T value, JsonTypeInfo<T> type) => Results.Json(value, type);

    internal static IResult Fail(int status, string message) => Results.Json(new ErrorResponse(message), AdminJson.Default.ErrorResponse, statusCode: status);
}
