using System.Net;
using System.Text.Json;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Search;

/// <summary>A node with the files sink: events posted, delivered, and found through <c>GET /v1/search</c> and <c>nwdp search</c>.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SearchSpecs(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Events_a_node_delivered_to_its_files_sink_are_found_by_the_admin_API_and_the_CLI_with_DuckDB()
    {
        using var dir = new TempDir();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.sinks.files.fsync"] = "off" });
        output.WriteLine($"node up after {clock.ElapsedMilliseconds} ms");
        const int n = 40;
        var lines = Enumerable.Range(0, n).Select(i => i % 10 == 3
            ? $"{{\"host\":\"pay-{i % 2}\",\"level\":\"error\",\"msg\":\"payment {i} failed: card declined\",\"order\":\"o-{i}\"}}"
            : $"{{\"host\":\"web-{i % 3}\",\"msg\":\"GET /orders/{i} 200\"}}");
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(lines, type: "shop")).StatusCode);
        await Wait.UntilAsync(() => node.PublishedLines(TopicNames.ForType("shop")).Count >= n, TimeSpan.FromSeconds(15));
        output.WriteLine($"delivered after {clock.ElapsedMilliseconds} ms");

        using var admin = node.AdminClient();
        var json = JsonDocument.Parse(await admin.GetStringAsync("/v1/search?type=sh*&q=" + Uri.EscapeDataString("\"card declined\" level:error") + "&limit=3")).RootElement;
        Assert.Equal(("duckdb", "files"), (json.GetProperty("backend").GetString(), json.GetProperty("sink").GetString()));
        var hits = json.GetProperty("hits").EnumerateArray().ToList();
        Assert.Equal(3, hits.Count);
        Assert.All(hits, h => Assert.Equal(("shop", "error"), (h.GetProperty("type").GetString(), h.GetProperty("level").GetString())));
        Assert.All(hits, h => Assert.StartsWith("o-", h.GetProperty("attributes").GetProperty("order").GetString()));
        var next = json.GetProperty("next").GetString()!;
        var rest = JsonDocument.Parse(await admin.GetStringAsync("/v1/search?type=shop&q=" + Uri.EscapeDataString("\"card declined\" level:error") + "&limit=3&cursor=" + next)).RootElement;
        Assert.Single(rest.GetProperty("hits").EnumerateArray()); // 4 such events in all
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);

        var refused = await admin.GetAsync("/v1/search?type=shop&limit=100000");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("limit", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("parameter").GetString());

        var cli = await Nwdp.RunAsync("search", "host:web-1 \"orders 7\"", "--type", "shop", "--node", node.AdminNode, "--data", node.Config.DataDir);
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Contains("GET /orders/7 200", cli.Stdout);
        Assert.Contains("1 hits from duckdb over sink 'files'", cli.Stderr);
        var bad = await Nwdp.RunAsync("search", "user:bob", "--node", node.AdminNode, "--data", node.Config.DataDir);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("unknown field 'user'", bad.Stderr);
        output.WriteLine($"searched after {clock.ElapsedMilliseconds} ms");
    }
}
