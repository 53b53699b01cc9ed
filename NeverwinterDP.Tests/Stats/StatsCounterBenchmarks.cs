using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Stats;

/// <summary>
/// The counter's cost on the ingress hot path: events/s through Accepted + WrittenToBus (what every durable batch
/// costs), and through Delivered, at batches of 1k and 10k, single-threaded and from 4 threads at once; 16 hosts,
/// 4 processes, 200-byte messages, 1 in 10 errors. Run:
/// dotnet test -c Release --filter "FullyQualifiedName~StatsCounterBenchmarks".
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class StatsCounterBenchmarks(ITestOutputHelper output)
{
    private static LogEvent[] Events(int n, long now)
    {
        var hosts = Enumerable.Range(0, 16).Select(i => "web-" + i).ToArray();
        var processes = new[] { "nginx", "api", "worker", "cron" };
        var message = new string('x', 190) + " GET /ä";
        return Enumerable.Range(0, n).Select(i => new LogEvent
        {
            Host = hosts[i % 16], Process = processes[i / 16 % 4], Type = "bench", Level = i % 10 == 0 ? "error" : "info", Message = message, SystemTs = now + i % 1000,
        }).ToArray();
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public void Accepted_and_written_to_bus_rates(int batch)
    {
        var counter = new StatsCounter(new StatsOptions(), TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = Events(batch, now);
        const int total = 3_000_000;
        var rounds = total / batch;
        for (var i = 0; i < 10; i++) counter.Accepted(events); // warm-up

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            counter.Accepted(events);
            counter.WrittenToBus(events);
        }
        var single = rounds * batch / watch.Elapsed.TotalSeconds;

        watch.Restart();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < rounds / 4; i++)
            {
                counter.Accepted(events);
                counter.WrittenToBus(events);
            }
        });
        var parallel = rounds / 4 * 4 * batch / watch.Elapsed.TotalSeconds;

        var records = events.Select((e, i) => new SinkRecord("t", 0, i, e)).ToList();
        watch.Restart();
        for (var i = 0; i < rounds; i++) counter.Delivered("files", records);
        var delivered = rounds * batch / watch.Elapsed.TotalSeconds;

        output.WriteLine($"batch {batch}: Accepted+WrittenToBus {single:N0} events/s on one thread ({1e9 / single:N0} ns/event; " +
                         $"{300_000 / single * 100:N1}% of a core at 300k events/s), {parallel:N0} events/s from 4 threads; Delivered {delivered:N0} events/s");
        Assert.Equal(64, counter.Totals().Count);
        Assert.True(single > 300_000, $"the counter takes {single:N0} events/s on one thread, less than ingress's 300k");
    }
}
