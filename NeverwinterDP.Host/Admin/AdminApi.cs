using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using NeverwinterDP.Host.Schemas;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// The admin API (what <c>nwdp cluster ...</c>, <c>cluster-sharding ...</c>, <c>actor hierarchy</c>,
/// <c>sources</c>, <c>watchdog</c>, <c>spill</c>, <c>stats</c>, <c>audit</c>, <c>report</c>, <c>lag</c>, <c>mirror</c>, <c>watermarks</c>, <c>search</c>, <c>alerts</c> and <c>check</c> call), served only on the admin listener (<c>nwdp.admin.endpoint</c>).
/// Errors are <c>{"error": "..."}</c> with a 4xx/5xx status.
/// </summary>
public static class AdminApi
{
    /// <summary>Where the admin API listens unless <c>nwdp.admin.endpoint</c> says otherwise (and the CLI's default <c>--node</c>).</summary>
    public const string DefaultEndpoint = "127.0.0.1:9110";

    /// <summary>Marks an endpoint as an admin route: served on the admin listener and nowhere else.</summary>
    public sealed class AdminRoute;

    /// <summary>
    /// Marks an admin route a browser may open (the dashboard, <c>/ui</c>): on a GET it also takes the session cookie
    /// (<see cref="SessionCookie"/>) that <c>GET ...?token=TOKEN</c> on such a route sets. The cookie opens these routes only.
    /// </summary>
    public sealed class BrowserRoute;

    /// <summary>The dashboard's session cookie: HttpOnly, SameSite=Strict, path <c>/ui</c>; its value is derived from the token, not the token.</summary>
    public const string SessionCookie = "nwdp_ui";

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
        admin.MapGet("/report/summary", ReportAdmin.Summary);
        admin.MapGet("/report/keys", ReportAdmin.Keys);
        admin.MapGet("/report/values", ReportAdmin.Values);
        admin.MapGet("/lag", LagAdmin.LagAsync);
        admin.MapGet("/mirrors", MirrorsAdmin.ListAsync);
        admin.MapPost("/mirrors/{name}/pause", MirrorsAdmin.PauseAsync);
        admin.MapPost("/mirrors/{name}/resume", MirrorsAdmin.ResumeAsync);
        admin.MapGet("/watermarks", WatermarksAdmin.Watermarks);
        admin.MapGet("/search", SearchAdmin.SearchAsync);
        admin.MapGet("/alerts", AlertsAdmin.ListAsync);
        admin.MapPost("/alerts/reload", AlertsAdmin.ReloadAsync);
        admin.MapGet("/ingress", NodeStatusAdmin.Ingress);
        admin.MapGet("/sinks", NodeStatusAdmin.SinksAsync);
        admin.MapReplayAdmin();
        admin.MapTypeSchemaAdmin();
    }

    /// <summary>
    /// Keeps the two listeners apart (admin routes only on the admin listener, the others only on the
    /// ingress listener: 404 otherwise) and checks the admin token. Runs after routing, so it sees the endpoint.
    /// </summary>
    /// <param name="isAdminConnection">Whether a request arrived on the admin listener (the node knows its listeners).</param>
    /// <param name="token">The token the admin API requires (<c>nwdp.admin.token</c> or <c>&lt;data&gt;/admin.token</c>); null only when there is no admin listener.</param>
    /// <param name="adminHost">The host the admin listener was configured with (an <c>Origin</c> naming it is its own).</param>
    public static void UseListenerSeparation(this WebApplication app, Func<HttpContext, bool> isAdminConnection, string? token, string? adminHost = null)
    {
        var expected = token is null ? null : Encoding.UTF8.GetBytes("Bearer " + token);
        var tokenBytes = token is null ? null : Encoding.UTF8.GetBytes(token);
        var session = token is null ? null : Encoding.ASCII.GetBytes(SessionValue(token));
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
            // A browser adds Origin to cross-site requests: a page open on the operator's machine must not reach the API,
            // even before the token check (which it fails anyway: it cannot send the header without a preflight, never granted).
            if (http.Request.Headers.Origin.Count > 0 && !OwnOrigin(http, adminHost))
            {
                await Error(http, 403, $"cross-origin request refused: Origin '{http.Request.Headers.Origin}' is not this admin listener (the admin API serves no browser pages and grants no CORS)");
                return;
            }
            var browserRoute = adminRoute && HttpMethods.IsGet(http.Request.Method) && http.GetEndpoint()?.Metadata.GetMetadata<BrowserRoute>() is not null;
            if (expected is not null && browserRoute && http.Request.Query.ContainsKey("token"))
            {
                // A browser's way in: the token once in the address, then a cookie; redirected to the same page without it.
                if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(http.Request.Query["token"].ToString()), tokenBytes))
                {
                    await Error(http, 401, "wrong token: open /ui?token=TOKEN with the node's nwdp.admin.token (or the one in its <data-dir>/admin.token)");
                    return;
                }
                http.Response.Cookies.Append(SessionCookie, Encoding.ASCII.GetString(session!), new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Secure = http.Request.IsHttps,
                    Path = "/ui",
                    IsEssential = true,
                });
                http.Response.Headers["Referrer-Policy"] = "no-referrer";
                http.Response.Headers.CacheControl = "no-store";
                http.Response.Redirect(http.Request.PathBase + http.Request.Path);
                return;
            }
            if (expected is not null && !Authorized(http, expected) && !(browserRoute && HasSession(http, session!)))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                await Error(http, 401, "the admin API needs 'Authorization: Bearer TOKEN' with the node's nwdp.admin.token, or else the token in its <data-dir>/admin.token (nwdp: --token, NWDP_ADMIN_TOKEN, or --data DIR on the node's machine); a browser opens the dashboard once as /ui?token=TOKEN");
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

    /// <summary>
    /// Whether <c>Origin</c> names this listener itself: http(s), the port the request arrived on, and a host that is
    /// the configured one, <c>localhost</c> on a loopback listener, or the local address the connection reached. The
    /// Host header is not trusted for this (a rebound DNS name would match it).
    /// </summary>
    private static bool OwnOrigin(HttpContext http, string? adminHost)
    {
        if (http.Request.Headers.Origin.Count != 1 || !Uri.TryCreate(http.Request.Headers.Origin.ToString(), UriKind.Absolute, out var origin)) return false;
        if (origin.Scheme != (http.Request.IsHttps ? "https" : "http") || origin.Port != http.Connection.LocalPort) return false;
        var host = origin.Host.Trim('[', ']');
        var local = http.Connection.LocalIpAddress;
        if (System.Net.IPAddress.TryParse(host, out var ip))
            return local is not null && (ip.Equals(local) || ip.Equals(local.MapToIPv4()) || (local.IsIPv4MappedToIPv6 && ip.Equals(local.MapToIPv4())));
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return local is not null && System.Net.IPAddress.IsLoopback(local);
        return adminHost is not null && host.Equals(adminHost, StringComparison.OrdinalIgnoreCase);
    }

    private static bool Authorized(HttpContext http, byte[] expected)
    {
        var given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private static bool HasSession(HttpContext http, byte[] session) =>
        http.Request.Cookies.TryGetValue(SessionCookie, out var value) && value is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(value), session);

    /// <summary>The session cookie's value: an HMAC of a fixed label under the token, so the cookie is not the token (it cannot call the rest of the API) and changes with it.</summary>
    private static string SessionValue(string token) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "nwdp dashboard session"u8));

    private static Task Error(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message), AdminJson.Default.ErrorResponse);
    }

    internal static IResult Json<T>(T value, JsonTypeInfo<T> type) => Results.Json(value, type);

    internal static IResult Fail(int status, string message) => Results.Json(new ErrorResponse(message), AdminJson.Default.ErrorResponse, statusCode: status);
}
