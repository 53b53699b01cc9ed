using Microsoft.Playwright;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Tests.Sinks.Elasticsearch;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium (<c>/usr/bin/chromium</c>, scripts/services/chromium.sh; never a
/// downloaded one) driven by Playwright. Screenshots are kept under <see cref="ScreenshotDirectory"/>.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DashboardBrowserSpecs(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Where the screenshots go: <c>artifacts/dashboard</c> under the test output directory (bin/Release/net10.0).</summary>
    public static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard");

    private static string Line(string run, int i) =>
        $"{{\"host\":\"web-1\",\"process\":\"nginx\",\"level\":\"info\",\"msg\":\"{run}-{i} GET /api/orders/{i} 200\"}}";

    [Fact]
    public async Task The_page_shows_the_ingress_rate_and_a_types_count_move_with_load_and_turns_a_sink_red_when_its_server_stops()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (test.sh does, from scripts/services/chromium.sh)");
        // Playwright first: it sets Console.OutputEncoding, which takes the console's lock and then flushes Console.Out,
        // while a node's console logger holds Console.Out and asks for the console's lock: a node started first
        // deadlocked the test run once (CI, session 11: both threads in Monitor.Enter for half an hour).
        using var playwright = await Playwright.CreateAsync();
        using var dir = new TempDir();
        await using var es = await FakeElasticsearch.StartAsync();
        var sinks = $$"""
            nwdp.sinks.es { kind = elasticsearch, urls = ["{{es.Url}}"] }
            nwdp.pump.retry-max-backoff = 2s
            """;
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "node"), overrides: new() { ["nwdp.sinks.files.fsync"] = "off" }, extraHocon: sinks);
        var token = AdminToken.Read(node.Config.DataDir)!;

        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // As root (CI) Chromium needs --no-sandbox; no GPU in a container.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        // A phone-sized window: the page must be readable there too.
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 412, Height = 915 }, DeviceScaleFactor = 1 });
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, m) => { lock (console) console.Add($"{m.Type}: {m.Text}"); };
        page.PageError += (_, e) => { lock (console) console.Add("pageerror: " + e); };
        page.SetDefaultTimeout(90_000);

        await page.GotoAsync($"http://{node.AdminNode}/ui?token={Uri.EscapeDataString(token)}");
        Assert.EndsWith("/ui", page.Url); // the token left the address
        await page.WaitForSelectorAsync("#connection[data-state=live]");
        await page.WaitForSelectorAsync("#sinks tr[data-sink=es][data-state=ok]");
        Directory.CreateDirectory(ScreenshotDirectory);

        // Load: events of a type of their own, posted until the page shows them (the rate and the type's count).
        var run = Guid.NewGuid().ToString("N")[..8];
        var posted = 0;
        using var load = new CancellationTokenSource();
        var loader = Task.Run(async () =>
        {
            while (!load.IsCancellationRequested)
            {
                var response = await node.PostNdjsonAsync(Enumerable.Range(posted, 50).Select(i => Line(run, i)), type: "dashcheck");
                response.EnsureSuccessStatusCode();
                Interlocked.Add(ref posted, 50);
                await Task.Delay(100, load.Token).ContinueWith(_ => { });
            }
        });
        try
        {
            await page.WaitForFunctionAsync("() => parseFloat(document.getElementById('ingress-rate').textContent.replace(/,/g, '')) > 0");
            await page.WaitForFunctionAsync("() => { const c = document.querySelector('#types tr[data-type=dashcheck] .count'); return c && parseInt(c.textContent.replace(/,/g, '')) >= 100; }");
            var first = await CountAsync(page);
            await page.WaitForFunctionAsync($"() => parseInt(document.querySelector('#types tr[data-type=dashcheck] .count').textContent.replace(/,/g, '')) > {first}");
        }
        finally
        {
            await load.CancelAsync();
            await loader;
        }
        await page.WaitForFunctionAsync($"() => parseInt(document.querySelector('#types tr[data-type=dashcheck] .count').textContent.replace(/,/g, '')) === {posted}");
        output.WriteLine($"posted {posted} events; the page counted them all");
        // The coverage summary of the last hour (nwdp report) counts them too; no replay runs.
        await page.WaitForFunctionAsync($"() => {{ const c = document.querySelector('#coverage tr[data-type=dashcheck] .events'); return c && parseInt(c.textContent.replace(/,/g, '')) === {posted}; }}");
        Assert.Equal("no replay on this node", await page.TextContentAsync("#replays td"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, "dashboard-load.png"), FullPage = true });

        // The Elasticsearch server goes away: its sink turns red.
        await es.StopAsync();
        output.WriteLine("elasticsearch stopped");
        await node.PostNdjsonAsync(Enumerable.Range(0, 20).Select(i => Line(run + "-outage", i)), type: "dashcheck");
        await page.WaitForSelectorAsync("#sinks tr[data-sink=es][data-state=failing]");
        // One read of the row's state and its pill's colour together: the page replaces the rows every second.
        var seen = await page.EvaluateAsync<string>("() => { const tr = document.querySelector('#sinks tr[data-sink=es]'); " +
            "return tr.dataset.state + ' ' + getComputedStyle(tr.querySelector('.pill')).backgroundColor; }");
        Assert.Equal("failing rgb(200, 30, 30)", seen);
        // The files sink is unaffected; its row's title carries the sink's detail, which says why if it is not.
        var files = await page.EvaluateAsync<string>("() => { const tr = document.querySelector('#sinks tr[data-sink=files]'); return tr.dataset.state + ' ' + tr.title; }");
        Assert.True(files.StartsWith("ok", StringComparison.Ordinal), $"the files row: {files}");
        var shot = Path.Combine(ScreenshotDirectory, "dashboard-sink-failing.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshots in {ScreenshotDirectory}");

        // No script errors on the way; and a page is sent at most one update a second (counted on a second stream over 5 s:
        // the first snapshot at once, then one per tick; a slow node sends fewer, never more).
        lock (console)
        {
            foreach (var m in console) output.WriteLine("console " + m);
            Assert.DoesNotContain(console, m => m.StartsWith("error", StringComparison.Ordinal) || m.StartsWith("pageerror", StringComparison.Ordinal));
        }
        var updates = await page.EvaluateAsync<int>("""
            () => new Promise(done => {
              let n = 0;
              const source = new EventSource('/ui/events');
              source.addEventListener('snapshot', () => n++);
              setTimeout(() => { source.close(); done(n); }, 5000);
            })
            """);
        output.WriteLine($"{updates} updates in 5 s");
        Assert.True(updates <= 6, $"{updates} updates in 5 s");
        await context.CloseAsync();
    }

    private static async Task<long> CountAsync(IPage page) =>
        long.Parse((await page.TextContentAsync("#types tr[data-type=dashcheck] .count"))!.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
}
