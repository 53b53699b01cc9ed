using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

/// <summary>
/// The files sink's write rate, printed, never asserted (timings vary by machine). Run with
/// <c>dotnet test --filter "FullyQualifiedName~Sinks&amp;Category=Benchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class FilesSinkBenchmarks(ITestOutputHelper output)
{
    private const int BatchSize = 5000;         // the pump's default batch-size
    private const int FlushEvery = 100;         // batches: the pump's default flush-records, 500k
    private const int Partitions = 4;

    [Theory]
    [InlineData(FilesFormat.Ndjson)]
    [InlineData(FilesFormat.Avro)]
    public async Task Write_events_of_about_200_bytes(FilesFormat format)
    {
        using var dir = new TempDir();
        await using var sink = new FilesSink(new FilesSinkOptions { Directory = dir.Path, Format = format });
        await sink.OpenAsync(CancellationToken.None);
        var total = format == FilesFormat.Ndjson ? 3_000_000 : 1_000_000;
        var events = Enumerable.Range(0, 1000).Select(i => TypicalEvent(i)).ToArray();
        var lineBytes = events.Average(e => LogEventJson.ToLine(e).Length);

        // Warm up (JIT, first files), then measure only the sink's calls.
        await Run(sink, 0, 50_000, events);
        await sink.FlushAsync(CancellationToken.None);
        var watch = new Stopwatch();
        var flushWatch = new Stopwatch();
        var offset = 50_000L;
        for (var b = 0; b < total / BatchSize; b++)
        {
            var batch = new List<SinkRecord>(BatchSize);
            for (var i = 0; i < BatchSize; i++, offset++) batch.Add(new SinkRecord(Topic, (int)(offset % Partitions), offset / Partitions, events[offset % events.Length]));
            watch.Start();
            var result = await sink.WriteAsync(batch, CancellationToken.None);
            if ((b + 1) % FlushEvery == 0)
            {
                flushWatch.Start();
                await sink.FlushAsync(CancellationToken.None);
                flushWatch.Stop();
            }
            watch.Stop();
            Assert.True(result.IsAllDelivered);
        }
        watch.Start();
        await sink.FlushAsync(CancellationToken.None);
        watch.Stop();

        var rate = total / watch.Elapsed.TotalSeconds;
        var bytes = PublishedFiles(dir.Path).Sum(f => new FileInfo(f).Length);
        output.WriteLine($"files sink ({format}, fsync {(sink.Options.Fsync ? "on" : "off")}): {rate:N0} events/s, {bytes / watch.Elapsed.TotalSeconds / 1_048_576:N0} MiB/s on disk " +
            $"({lineBytes:N0} bytes/NDJSON line, {total:N0} events, {Partitions} partitions, flush every {FlushEvery * BatchSize:N0}, " +
            $"{flushWatch.Elapsed.TotalSeconds / watch.Elapsed.TotalSeconds:P0} of the time in flushes)");
        output.WriteLine($"for comparison, LogEventJson alone into memory: {EncodeOnlyRate(events):N0} events/s");
    }

    // About 200 bytes as an NDJSON line, like the lines services post (the HDFS benchmark's events too).
    internal static LogEvent TypicalEvent(int i) => new()
    {
        Ts = TenOClock + i - 3,
        SystemTs = TenOClock + i,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Level = "info",
        Message = $"order {i} placed by user 4711 in 23 ms",
        Attributes = new Dictionary<string, string> { ["user"] = "4711" },
        Lineage = new Lineage("node-1", i),
    };

    private static double EncodeOnlyRate(LogEvent[] events)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.ElapsedMilliseconds < 1000)
        {
            buffer.ResetWrittenCount();
            foreach (var e in events) LogEventJson.WriteLine(e, buffer);
            n += events.Length;
        }
        return n / watch.Elapsed.TotalSeconds;
    }

    private static async Task Run(FilesSink sink, long from, int count, LogEvent[] events)
    {
        var batch = new List<SinkRecord>(count);
        for (var o = from; o < from + count; o++) batch.Add(new SinkRecord(Topic, (int)(o % Partitions), o / Partitions, events[o % events.Length]));
        await sink.WriteAsync(batch, CancellationToken.None);
    }
}
