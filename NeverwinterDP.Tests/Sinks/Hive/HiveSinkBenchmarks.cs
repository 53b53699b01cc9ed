using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Hive;

/// <summary>
/// The Hive sink's write rate at batches of 1k and 10k events, printed, never asserted. Run with
/// <c>dotnet test --filter "FullyQualifiedName~HiveSinkBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class HiveSinkBenchmarks(ITestOutputHelper output)
{
    private const int Total = 1_000_000;
    private const int FlushEvery = 250_000; // records, as the pump's flush-records would
    private const int Partitions = 4;
    private const int Warmup = 250_000;

    [Theory]
    [InlineData(HiveFormat.Parquet, 1_000)]
    [InlineData(HiveFormat.Parquet, 10_000)]
    [InlineData(HiveFormat.Avro, 1_000)]
    [InlineData(HiveFormat.Avro, 10_000)]
    public async Task Write_events_of_about_200_bytes(HiveFormat format, int batchSize)
    {
        using var dir = new TempDir();
        await using var sink = new HiveSink(new HiveSinkOptions { Directory = dir.Path, Format = format });
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(TypicalEvent).ToArray();

        await Run(sink, 0, Warmup, batchSize, events); // warm-up: JIT, and Parquet row groups (100k rows) written at least once
        var watch = Stopwatch.StartNew();
        await Run(sink, Warmup, Total, batchSize, events);
        watch.Stop();

        var bytes = Directory.GetFiles(dir.Path, "*." + format.ToString().ToLowerInvariant(), SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        output.WriteLine($"hive sink ({format}, batch {batchSize:N0}, fsync on): {Total / watch.Elapsed.TotalSeconds:N0} events/s " +
            $"({Total:N0} events, {Partitions} partitions, flush every {FlushEvery:N0}, {bytes / (double)(Total + Warmup):N1} bytes/event on disk)");
    }

    private static async Task Run(ISink sink, long from, int count, int batchSize, LogEvent[] events)
    {
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batchSize, count - done);
            var batch = new List<SinkRecord>(n);
            for (var i = 0; i < n; i++)
            {
                var o = from + done + i;
                batch.Add(new SinkRecord("nwdp.logs.web", (int)(o % Partitions), o / Partitions, events[o % events.Length]));
            }
            var result = await sink.WriteAsync(batch, CancellationToken.None);
            Assert.True(result.IsAllDelivered);
            done += n;
            if (done % FlushEvery < n || done == count) await sink.FlushAsync(CancellationToken.None);
        }
    }

    internal static LogEvent TypicalEvent(int i) => new()
    {
        Ts = 1_709_632_800_000 + i - 3,
        SystemTs = 1_709_632_800_000 + i,
        Host = "web-0" + (i % 4),
        Ip = "10.1.2." + (i % 16),
        Process = "checkout",
        Type = "web",
        Level = i % 20 == 0 ? "warn" : "info",
        Message = $"order {i} placed by user 4711 in 23 ms",
        Attributes = new Dictionary<string, string> { ["user"] = "4711" },
        Lineage = new Lineage("node-1", i),
    };
}
