using System.Reflection;
using System.Text.Json;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Dashboard;

/// <summary>
/// The live dashboard on the admin listener: <c>GET /ui</c> (the page), <c>/ui/assets/*</c> (its script and style, and
/// uPlot, embedded in this assembly: the node may have no internet) and <c>GET /ui/events</c> (server-sent events, one
/// snapshot per <see cref="DashboardFeed.Interval"/> at most). Admin routes, so the admin token rules hold; being
/// <see cref="AdminApi.BrowserRoute"/>s, a browser may also show the session cookie that <c>/ui?token=TOKEN</c> sets.
/// </summary>
public static class DashboardEndpoints
{
    private static readonly (string Name, string ContentType)[] Assets =
    [
        ("index.html", "text/html; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
        ("uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ("uPlot.min.css", "text/css; charset=utf-8"),
        ("uPlot.LICENSE", "text/plain; charset=utf-8"),
    ];

    private static readonly Dictionary<string, (byte[] Body, string ContentType)> Embedded = Assets.ToDictionary(a => a.Name, a => (Read(a.Name), a.ContentType), StringComparer.Ordinal);

    public static IServiceCollection AddDashboard(this IServiceCollection services) => services.AddSingleton<DashboardFeed>();

    public static void MapDashboard(this WebApplication app)
    {
        var ui = app.MapGroup("/ui").WithMetadata(new AdminApi.AdminRoute(), new AdminApi.BrowserRoute());
        ui.MapGet("", (HttpContext http) => Serve(http, "index.html"));
        ui.MapGet("/assets/{name}", (HttpContext http, string name) => Embedded.ContainsKey(name) && name != "index.html" ? Serve(http, name) : AdminApi.Fail(404, $"no asset '{name}'"));
        ui.MapGet("/events", StreamAsync);
    }

    private static IResult Serve(HttpContext http, string name)
    {
        var (body, type) = Embedded[name];
        var headers = http.Response.Headers;
        // Nothing inline, nothing from elsewhere, never in a frame; the token of /ui?token= never leaves in a Referer.
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = name == "index.html" ? "no-store" : "private, max-age=3600";
        return Results.Bytes(body, type);
    }

    /// <summary><c>GET /ui/events</c>: a <c>snapshot</c> event with the JSON of a <see cref="DashboardSnapshot"/>, once a second, until the page goes.</summary>
    private static async Task StreamAsync(HttpContext http, DashboardFeed feed, IHostApplicationLifetime lifetime)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var cancellation = stop.Token;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // a proxy in front must not hold the events back
        // Reconnect after 5 s when the connection drops (a node restart).
        await http.Response.WriteAsync("retry: 5000\n\n", cancellation);
        using var timer = new PeriodicTimer(DashboardFeed.Interval);
        try
        {
            do
            {
                var snapshot = await feed.GetAsync(cancellation);
                await http.Response.WriteAsync("event: snapshot\ndata: ", cancellation);
                await JsonSerializer.SerializeAsync(http.Response.Body, snapshot, DashboardJson.Default.DashboardSnapshot, cancellation);
                await http.Response.WriteAsync("\n\n", cancellation);
                await http.Response.Body.FlushAsync(cancellation);
            }
            while (await timer.WaitForNextTickAsync(cancellation));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The page closed, or the node stops.
        }
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("NeverwinterDP.Host.Dashboard.Assets." + name)
            ?? throw new InvalidOperationException($"the dashboard asset {name} is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
