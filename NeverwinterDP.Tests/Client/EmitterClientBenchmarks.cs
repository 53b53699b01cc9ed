using System.Diagnostics;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Client;

/// <summary>Events per second an EmitterClient gets acknowledged (durable on the embedded broker) by one in-process node.</summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class EmitterClientBenchmarks(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Acknowledged_events_per_second(int batchSize)
    {
        using var dir = new TempDir();
        // Ingress only: the pump would share the two cores and its backlog limit would throttle the sender.
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        await using var client = EmitterClient.Start(ClientTestKit.Options(node) with { MaxBatchEvents = batchSize, MaxBatchBytes = 3_500_000, AckTimeout = TimeSpan.FromSeconds(30) });
        const int sources = 8;
        var total = Math.Max(200_000, batchSize * sources * 4);
        var batches = Enumerable.Range(0, total / batchSize)
            .Select(b => Enumerable.Range(0, batchSize).Select(i => ClientTestKit.Event("bench", "src-" + b % sources, b * batchSize + i, "bench")).ToList())
            .ToList();
        await client.EmitAsync(batches[0].Take(10).ToList()); // connected and warm

        var watch = Stopwatch.StartNew();
        await Task.WhenAll(batches.Select(b => client.EmitAsync(b))).WaitAsync(TimeSpan.FromMinutes(5));
        watch.Stop();
        var rate = total / watch.Elapsed.TotalSeconds;
        output.WriteLine($"batch {batchSize}: {total} events acknowledged in {watch.Elapsed.TotalSeconds:F2} s = {rate:N0} events/s; {client.Metrics}");
        Assert.Equal(total + 10, client.Metrics.EventsAcked);
    }
}
