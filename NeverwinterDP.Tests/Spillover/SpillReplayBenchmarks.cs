using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Spillover;

/// <summary>
/// Replay throughput: 200k events spilled (200 requests of 1000) with the broker down, then the time from the
/// broker coming back until the spill backlog is empty (every batch acknowledged by Kafka and recorded replayed).
/// Once with the default pacing (replay-interval 200ms, replay-rate 50k/s) and once unpaced (1ms, 10M/s), which
/// shows the per-batch cost of the replay itself.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class SpillReplayBenchmarks(ITestOutputHelper output)
{
    private const int Requests = 200, PerRequest = 1000;

    [Theory]
    [InlineData("200ms", 50_000)]
    [InlineData("1ms", 10_000_000)]
    public async Task Replay_of_200k_spilled_events(string interval, int rate)
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms", // how soon the replay notices the broker is back
            ["nwdp.spill.replay-interval"] = interval,
            ["nwdp.spill.replay-rate"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["nwdp.sinks.files.fsync"] = "off",
            ["nwdp.pump.enabled"] = "off",
        });
        var topic = TopicNames.ForType("bench");
        // The topic exists before the outage (as it would in production).
        Assert.True((await node.PostNdjsonAsync([JsonSerializer.Serialize(new { host = "h", msg = "first" })], type: "bench")).IsSuccessStatusCode);
        node.Bus.Embedded!.BrokerDown(1);
        var next = -1;
        var spilling = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            int r;
            while ((r = Interlocked.Increment(ref next)) < Requests)
            {
                var lines = Enumerable.Range(r * PerRequest, PerRequest).Select(i => JsonSerializer.Serialize(new { host = $"h{i % 64}", msg = $"m-{i}", n = i }));
                var response = await node.PostNdjsonAsync(lines, type: "bench");
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
        }));
        output.WriteLine($"spilled {Requests * PerRequest} events in {spilling.Elapsed.TotalSeconds:F1}s");
        var spillover = node.App.Services.GetRequiredService<SpillWriter>();
        var before = (await spillover.StatusAsync([topic], CancellationToken.None)).Single();
        Assert.Equal((long)Requests * PerRequest, before.Events);

        var replay = Stopwatch.StartNew();
        node.Bus.Embedded.BrokerUp(1);
        SpillStatus status;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while ((status = (await spillover.StatusAsync([topic], CancellationToken.None)).Single()).Batches > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"replay not done in 5 minutes: {status}");
            await Task.Delay(20);
        }
        replay.Stop();
        Assert.Equal((long)Requests * PerRequest, status.ReplayedEvents);
        output.WriteLine($"replay-interval {interval}, replay-rate {rate}: {status.ReplayedBatches} batches, {status.ReplayedEvents} events replayed in " +
                         $"{replay.Elapsed.TotalSeconds:F2}s = {status.ReplayedEvents / replay.Elapsed.TotalSeconds:F0} events/s, " +
                         $"{replay.Elapsed.TotalMilliseconds / status.ReplayedBatches:F1} ms/batch");
    }
}
