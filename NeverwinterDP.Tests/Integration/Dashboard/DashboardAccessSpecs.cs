using System.Net;
using System.Text.Json;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Dashboard;

/// <summary>Who may open the dashboard, how a browser gets in, what it is sent, and how much.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DashboardAccessSpecs
{
    private static readonly string[] Assets = ["dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"];

    [Fact]
    public async Task The_dashboard_takes_the_token_once_then_a_strict_http_only_cookie_that_opens_the_dashboard_only()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var token = AdminToken.Read(node.Config.DataDir)!;
        var admin = new Uri($"http://{node.AdminNode}");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = admin };

        // No token, a wrong one: 401 saying how a browser gets in; the ingress listener does not serve it at all.
        using (var none = await http.GetAsync("/ui"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Contains("/ui?token=TOKEN", await none.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/ui?token=not-it")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Client.GetAsync("/ui")).StatusCode);

        // The token once: a session cookie (not the token) and a redirect to the page without it in the address.
        using var login = await http.GetAsync("/ui?token=" + Uri.EscapeDataString(token));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/ui", login.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(AdminApi.SessionCookie + "=", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/ui", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie.Split(';')[0];
        Assert.DoesNotContain(token, cookie);

        HttpRequestMessage WithCookie(string path, string value)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", value);
            return request;
        }

        // The page and its assets with the cookie: a strict CSP, and well under 500 KB all together.
        long total = 0;
        using (var page = await http.SendAsync(WithCookie("/ui", cookie)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
            Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
            total += (await page.Content.ReadAsByteArrayAsync()).Length;
        }
        foreach (var asset in Assets)
        {
            using var response = await http.SendAsync(WithCookie("/ui/assets/" + asset, cookie));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            total += (await response.Content.ReadAsByteArrayAsync()).Length;
        }
        Assert.True(total < 500 * 1024, $"the dashboard page weighs {total} bytes");

        // The cookie is not the admin API's credential, nor a forged one the dashboard's.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(WithCookie("/v1/cluster/members", cookie))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(WithCookie("/ui", AdminApi.SessionCookie + "=" + token))).StatusCode);
        // A page of another site cannot read it (Origin refused before anything else).
        var crossSite = WithCookie("/ui/events", cookie);
        crossSite.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(crossSite)).StatusCode);

        // The event stream: server-sent events, each a snapshot of the node.
        using var events = await http.SendAsync(WithCookie("/ui/events", cookie), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && !line.StartsWith("data: ", StringComparison.Ordinal)) { }
        Assert.NotNull(line);
        var snapshot = JsonDocument.Parse(line!["data: ".Length..]).RootElement;
        Assert.Contains(snapshot.GetProperty("cluster").GetProperty("members").EnumerateArray(), m => m.GetProperty("self").GetBoolean());
        Assert.True(snapshot.GetProperty("ingress").GetProperty("status").GetProperty("running").GetBoolean());
        Assert.Contains(snapshot.GetProperty("sinks").EnumerateArray(), s => s.GetProperty("sink").GetString() == "files");
        Assert.Equal(60, snapshot.GetProperty("minutes").GetArrayLength());

        // The bearer token still works for the dashboard, as for every admin route.
        using var bearer = node.AdminClient();
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/ui")).StatusCode);
    }
}
