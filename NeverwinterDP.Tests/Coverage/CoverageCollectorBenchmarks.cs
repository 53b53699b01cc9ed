using System.Diagnostics;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Coverage;

/// <summary>
/// The collector's cost: what ingress pays per batch (<see cref="CoverageCollector.Accepted"/>: a queue write), and how
/// many events/s the background sketcher takes (5 attributes per event: a user id of 50k values, a status of 6, a
/// numeric latency, a path of 200, a sometimes-empty ref). Prints only. Run:
/// dotnet test -c Release --filter "FullyQualifiedName~CoverageCollectorBenchmarks".
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class CoverageCollectorBenchmarks(ITestOutputHelper output)
{
    private static LogEvent[] Events(int n, long now)
    {
        var random = new Random(5);
        var statuses = new[] { "200", "200", "200", "404", "500", "302" };
        return Enumerable.Range(0, n).Select(i => new LogEvent
        {
            Host = "web-" + i % 16, Process = "api", Type = "bench", Level = i % 10 == 0 ? "error" : "info", Message = "GET /item " + i, SystemTs = now + i % 1000,
            Attributes = new Dictionary<string, string>
            {
                ["user"] = "u" + random.Next(50_000), ["status"] = statuses[i % 6], ["latency_ms"] = (i % 997).ToString(),
                ["path"] = "/p/" + i % 200, ["ref"] = i % 3 == 0 ? "" : "https://example.org/" + i % 50,
            },
        }).ToArray();
    }

    [Fact]
    public async Task Ingress_cost_per_batch_and_sketching_rate()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = Events(1_000, now);

        await using (var sketcher = new CoverageCollector(new CoverageOptions(), TimeProvider.System))
        {
            sketcher.Count(events); // warm up
            const int rounds = 500;
            var watch = Stopwatch.StartNew();
            for (var r = 0; r < rounds; r++) sketcher.Count(events);
            watch.Stop();
            output.WriteLine($"sketching (background task): {rounds * events.Length / watch.Elapsed.TotalSeconds:N0} events/s with 5 attributes, single thread");
        }

        // What ingress pays: a bounded channel write per batch (a full queue counts the batch without sketching it).
        await using var collector = new CoverageCollector(new CoverageOptions { QueueBatches = 100_000 }, TimeProvider.System);
        const int batches = 20_000;
        var accepted = Stopwatch.StartNew();
        for (var b = 0; b < batches; b++) collector.Accepted(events);
        accepted.Stop();
        output.WriteLine($"Accepted (ingress path): {accepted.Elapsed.TotalMilliseconds * 1e6 / batches:N0} ns per batch of {events.Length}");
    }
}
