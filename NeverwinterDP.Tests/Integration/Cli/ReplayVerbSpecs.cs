using System.Net;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Cli;

/// <summary><c>nwdp replay</c> and <c>nwdp dlq</c> against an in-process node (its files sink and the embedded broker).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ReplayVerbSpecs
{
    [Fact]
    public async Task Replay_runs_in_the_node_rewrites_nothing_the_files_sink_holds_and_bad_flags_and_sinks_are_refused()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var topic = TopicNames.ForType("rp");
        var sent = await node.PostNdjsonAsync(Enumerable.Range(0, 30).Select(i => $$"""{"msg":"e-{{i}}","host":"h"}"""), type: "rp");
        Assert.True(sent.IsSuccessStatusCode);
        await Wait.UntilAsync(() => node.PublishedLines(topic).Count == 30, TimeSpan.FromSeconds(60), () => $"{node.PublishedLines(topic).Count} lines in the files");

        var replay = await Nwdp.RunAsync("replay", "--type", "rp", "--from", "1h", "--sink", "files", "--node", node.AdminNode, "--quiet");
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("30 of 30 records read; 30 delivered", replay.Stdout);
        Assert.EndsWith("; done", replay.Stdout.Trim());
        Assert.Equal(30, node.PublishedLines(topic).Count); // the files sink names its files by topic-partition-offset: nothing doubled

        var json = await Nwdp.RunAsync("replay", "--type", "rp", "--from", "1h", "--sink", "files", "--node", node.AdminNode, "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var status = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(("done", 30), (status.GetProperty("state").GetString(), status.GetProperty("total").GetInt32()));

        var noSink = await Nwdp.RunAsync("replay", "--type", "rp", "--from", "1h", "--sink", "nope", "--node", node.AdminNode);
        Assert.True(noSink.ExitCode == 1, noSink.ToString());
        Assert.Contains("404", noSink.Stderr);
        Assert.Contains("configured: files", noSink.Stderr);
        var noFrom = await Nwdp.RunAsync("replay", "--type", "rp", "--sink", "files", "--node", node.AdminNode);
        Assert.True(noFrom.ExitCode == 2, noFrom.ToString());
        Assert.Contains("--from", noFrom.Stderr);
        var badTime = await Nwdp.RunAsync("replay", "--type", "rp", "--from", "yesterday-ish", "--sink", "files", "--node", node.AdminNode);
        Assert.True(badTime.ExitCode == 2, badTime.ToString());
        Assert.Contains("flag '--from'", badTime.Stderr);

        using var admin = node.AdminClient();
        var badBody = await admin.PostAsync("/v1/admin/replay", new StringContent("{\"type\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
        Assert.Contains("\"error\"", await badBody.Content.ReadAsStringAsync());
        var jobs = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/replay")).RootElement.GetProperty("jobs");
        Assert.Contains(jobs.EnumerateArray(), j => j.GetProperty("id").GetString() == status.GetProperty("id").GetString());
        using (var one = await admin.GetAsync("/v1/admin/replay/r-000000000000"))
            Assert.Equal(HttpStatusCode.NotFound, one.StatusCode);

        var dlq = await Nwdp.RunAsync("dlq", "list", "--node", node.AdminNode);
        Assert.True(dlq.ExitCode == 0, dlq.ToString());
        Assert.Contains("no dead letters (files)", dlq.Stdout);
        var show = await Nwdp.RunAsync("dlq", "show", "--node", node.AdminNode);
        Assert.True(show.ExitCode == 2, show.ToString());
    }
}
