using System.Text.Json;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Bench;

/// <summary><c>nwdp bench --e2e</c> against a node in this process: what it acknowledged is what it finds in the files.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class BenchEndToEndSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_with_e2e_finds_every_acknowledged_event_in_the_files_exactly_once()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        const int events = 5_000;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var args = CliApp.Parse("bench", "--url", node.Http.ToString(), "--events", events.ToString(), "--batch", "100", "--concurrency", "4",
            "--warmup", "0", "--e2e", dir.Path, "--e2e-wait", "90s", "--pid", Environment.ProcessId.ToString(), "--json");

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        output.WriteLine(stderr.ToString());
        output.WriteLine(stdout.ToString());
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        Assert.Equal(events, root.GetProperty("events").GetInt64());
        var e2e = root.GetProperty("e2e");
        Assert.Equal(events, e2e.GetProperty("acknowledged").GetInt64());
        Assert.Equal(events, e2e.GetProperty("in_files").GetInt64());
        Assert.Equal(0, e2e.GetProperty("missing").GetInt64());
        Assert.Equal(0, e2e.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, e2e.GetProperty("unacknowledged_in_files").GetInt64());
        Assert.True(e2e.GetProperty("exactly_once").GetBoolean());
        Assert.Equal(Path.Combine(node.FilesDir, "nwdp.logs.bench"), e2e.GetProperty("directory").GetString());
        // The files say the same as the bench: every message of the run once.
        Assert.Equal(events, node.PublishedLines("nwdp.logs.bench").Count);

        var steady = root.GetProperty("steady");
        Assert.Equal(JsonValueKind.Object, steady.ValueKind); // no warm-up: the whole load is the window
        Assert.True(steady.GetProperty("p50_ms").GetDouble() <= steady.GetProperty("p99_ms").GetDouble());
        var process = root.GetProperty("node");
        Assert.Equal(Environment.ProcessId, process.GetProperty("pid").GetInt32());
        Assert.True(process.GetProperty("rss_max_mib").GetDouble() > 0);
    }
}
