using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Issue 5's crash safety, with real processes: a node is SIGKILLed while it spills (the bus down) and while it
/// replays (the bus back); restarted on the same data directory, it loses no event it acknowledged. The bus is a
/// separate <c>nwdp broker</c> process, so it outlives the node and its outage is the broker's fault injection.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class SpillCrashSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(150);

    private static string[] Settings(params string[] more) =>
    [
        .. NodeProcess.FastPump,
        "nwdp.sinks.files.fsync=off",
        "nwdp.spill.after=2s",
        "nwdp.spill.probe-interval=500ms",
        .. more,
    ];

    /// <summary>Posts batches of 200 from several connections until stopped; returns what was acknowledged (2xx).</summary>
    private static async Task<List<string>> PostUntilAsync(NodeProcess node, string type, string run, Func<int, bool> keepGoing, int connections = 4)
    {
        var acked = new ConcurrentBag<string>();
        var next = -1;
        using var client = Ingress.NewClient();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            while (true)
            {
                var b = Interlocked.Increment(ref next);
                if (!keepGoing(acked.Count)) return;
                var lines = Enumerable.Range(b * 200, 200).Select(i => $"{run}-{i}").ToList();
                try
                {
                    using var response = await Ingress.PostAsync(client, node.Http, type, lines.Select(m => Ingress.Line(m, "h" + (b % 3))));
                    if (response.IsSuccessStatusCode) foreach (var m in lines) acked.Add(m);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return; // the node was killed under this request: not acknowledged
                }
            }
        }));
        return acked.ToList();
    }

    private static async Task<JsonElement> SpillStatusAsync(NodeProcess node)
    {
        using var client = node.AdminClient();
        return await client.GetFromJsonAsync<JsonElement>("/v1/spill/status");
    }

    private static long Backlog(JsonElement status) => status.GetProperty("topics").EnumerateArray().Sum(t => t.GetProperty("events").GetInt64());

    private static long Replayed(JsonElement status) => status.GetProperty("topics").EnumerateArray().Sum(t => t.GetProperty("replayed_events").GetInt64());

    private void AssertExactlyOnce(IReadOnlyCollection<string> acked, IReadOnlyList<string> published, string what)
    {
        var duplicated = published.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var missing = acked.Except(published).ToList();
        output.WriteLine($"{what}: {acked.Count} acknowledged, {published.Count} published, {missing.Count} missing, {duplicated.Count} duplicated");
        Assert.Empty(missing);
        Assert.Empty(duplicated);
    }

    [Fact]
    public async Task A_node_SIGKILLed_while_spilling_restarts_with_the_bus_still_down_and_loses_nothing_it_acknowledged()
    {
        using var dir = new TempDir();
        await using var broker = await BrokerProcess.StartAsync("broker", "--topic", "nwdp.logs.crash-spill");
        var run = Guid.NewGuid().ToString("N")[..8];
        Assert.Equal("ok down 1", await broker.CommandAsync("down 1"));

        // A node that starts while the bus is down (nothing to create topics on) and spills from its first request.
        await using var first = await NodeProcess.StartAsync("node-a", dir.Path, kafka: broker.Bootstrap, settings: Settings());
        var posting = PostUntilAsync(first, "crash-spill", run + "a", _ => true);
        var clock = Stopwatch.StartNew();
        while (Backlog(await SpillStatusAsync(first)) < 5_000)
        {
            Assert.True(clock.Elapsed < Delivery, $"nothing spilled. {first.Child.Describe()}");
            await Task.Delay(100);
        }
        first.Child.Signal(ChildProcess.SIGKILL); // while requests are being spilled
        await first.Child.WaitForExitAsync(Limits.ShortVerb);
        var ackedBeforeKill = await posting;
        output.WriteLine($"killed after {ackedBeforeKill.Count} acknowledged (spilled) events");
        Assert.NotEmpty(ackedBeforeKill);

        // Restarted with the bus still down: it comes up, still has the backlog, and spills more.
        await using var second = await NodeProcess.StartAsync("node-b", dir.Path, kafka: broker.Bootstrap, settings: Settings());
        var recovered = Backlog(await SpillStatusAsync(second));
        Assert.True(recovered >= ackedBeforeKill.Count, $"after the restart {recovered} events are spilled; {ackedBeforeKill.Count} were acknowledged");
        var ackedAfter = await PostUntilAsync(second, "crash-spill", run + "b", n => n < 4_000);

        Assert.Equal("ok up 1", await broker.CommandAsync("up 1"));
        var acked = ackedBeforeKill.Concat(ackedAfter).ToList();
        var mine = new HashSet<string>(acked);
        var published = await PublishedFiles.WaitForAsync(second.FilesDir, "crash-spill", m => mine.IsSubsetOf(m),
            m => $"{mine.Count(a => !m.Contains(a))} of {acked.Count} acknowledged events not published yet", Delivery, () => second.Child.Describe());
        // Everything published is either acknowledged or was in the journal when the kill came (written, not yet answered).
        AssertExactlyOnce(acked, published, "spill, kill, restart, replay");
        Assert.Equal(0, await second.StopGracefullyAsync());
    }

    [Fact]
    public async Task A_node_SIGKILLed_while_replaying_its_spill_restarts_and_loses_nothing_it_acknowledged()
    {
        using var dir = new TempDir();
        await using var broker = await BrokerProcess.StartAsync("broker", "--topic", "nwdp.logs.crash-replay");
        var run = Guid.NewGuid().ToString("N")[..8];
        // Replay paced slowly (4,000 events/s) so the kill lands in the middle of it.
        var settings = Settings("nwdp.spill.replay-rate=4000");
        await using var first = await NodeProcess.StartAsync("node-a", dir.Path, kafka: broker.Bootstrap, settings: settings);
        Assert.Equal("ok down 1", await broker.CommandAsync("down 1"));
        var acked = await PostUntilAsync(first, "crash-replay", run, n => n < 40_000);
        Assert.Equal(acked.Count, Backlog(await SpillStatusAsync(first)));
        output.WriteLine($"{acked.Count} events acknowledged and spilled");

        Assert.Equal("ok up 1", await broker.CommandAsync("up 1"));
        var clock = Stopwatch.StartNew();
        while (Replayed(await SpillStatusAsync(first)) < 8_000)
        {
            Assert.True(clock.Elapsed < Delivery, $"the replay did not start. {first.Child.Describe()}");
            await Task.Delay(50);
        }
        var status = await SpillStatusAsync(first);
        first.Child.Signal(ChildProcess.SIGKILL);
        await first.Child.WaitForExitAsync(Limits.ShortVerb);
        output.WriteLine($"killed with {Replayed(status)} events replayed and {Backlog(status)} still spilled");
        Assert.True(Backlog(status) > 0, "the replay was over before the kill");

        await using var second = await NodeProcess.StartAsync("node-b", dir.Path, kafka: broker.Bootstrap, settings: settings);
        var mine = new HashSet<string>(acked);
        var published = await PublishedFiles.WaitForAsync(second.FilesDir, "crash-replay", m => mine.IsSubsetOf(m),
            m => $"{mine.Count(a => !m.Contains(a))} of {acked.Count} acknowledged events not published yet", Delivery, () => second.Child.Describe());
        AssertExactlyOnce(acked, published, "spill, replay, kill, restart");
        clock.Restart();
        while (Backlog(await SpillStatusAsync(second)) > 0)
        {
            Assert.True(clock.Elapsed < Delivery, $"the backlog was not emptied. {second.Child.Describe()}");
            await Task.Delay(100);
        }
        Assert.Equal(0, await second.StopGracefullyAsync());
    }
}
