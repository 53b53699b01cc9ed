using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Sinks.Hdfs.HdfsSinkTestKit;
using NeverwinterDP.Tests.Sinks.Files;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>
/// The HDFS sink's write rate against the WebHDFS fake (loopback HTTP, in-memory tree), printed, never asserted.
/// Run with <c>dotnet test --filter "FullyQualifiedName~Sinks.Hdfs&amp;Category=Benchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class HdfsSinkBenchmarks(ITestOutputHelper output)
{
    private const int Total = 1_000_000;
    private const int FlushEvery = 500_000; // the pump's default flush-records
    private const int Partitions = 4;

    [Theory]
    [InlineData(10_000)]
    [InlineData(1_000)]
    public async Task Write_events_of_about_200_bytes(int batchSize)
    {
        await using var fake = await FakeWebHdfs.StartAsync();
        var root = NewRoot();
        await using var sink = new HdfsSink(Options(fake, root));
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(FilesSinkBenchmarks.TypicalEvent).ToArray();

        // Warm up (JIT, first files, hour listing), then measure only the sink's calls.
        await sink.WriteAsync(Batch(0, 50_000, events), CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
        var watch = new Stopwatch();
        var flushWatch = new Stopwatch();
        var offset = 50_000L;
        var sinceFlush = 0;
        for (var b = 0; b < Total / batchSize; b++)
        {
            var batch = Batch(offset, batchSize, events);
            offset += batchSize;
            watch.Start();
            var result = await sink.WriteAsync(batch, CancellationToken.None);
            sinceFlush += batchSize;
            if (sinceFlush >= FlushEvery)
            {
                flushWatch.Start();
                await sink.FlushAsync(CancellationToken.None);
                flushWatch.Stop();
                sinceFlush = 0;
            }
            watch.Stop();
            Assert.True(result.IsAllDelivered);
        }
        watch.Start();
        await sink.FlushAsync(CancellationToken.None);
        watch.Stop();

        var bytes = fake.Files(root).Sum(f => (long)f.Content.Length);
        output.WriteLine($"hdfs sink (avro deflate, fake WebHDFS on loopback), batch {batchSize:N0}: {Total / watch.Elapsed.TotalSeconds:N0} events/s, " +
            $"{bytes / 1_048_576.0:N1} MiB uploaded, {Partitions} partitions, flush every {FlushEvery:N0}, " +
            $"{flushWatch.Elapsed.TotalSeconds / watch.Elapsed.TotalSeconds:P0} of the time in flushes");
    }

    private static List<SinkRecord> Batch(long from, int count, LogEvent[] events)
    {
        var batch = new List<SinkRecord>(count);
        for (var o = from; o < from + count; o++) batch.Add(new SinkRecord(Topic, (int)(o % Partitions), o / Partitions, events[o % events.Length]));
        return batch;
    }
}
