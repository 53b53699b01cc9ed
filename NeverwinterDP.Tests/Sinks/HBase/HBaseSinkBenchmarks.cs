using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>
/// The HBase sink's write rate against <see cref="FakeHBaseRest"/> on loopback, printed, never asserted. The
/// fake decodes every CellSet and stores every cell, so this bounds what the sink's encoding and HTTP can do,
/// not what a cluster does. Run with
/// <c>dotnet test --filter "FullyQualifiedName~Sinks.HBase&amp;Category=Benchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class HBaseSinkBenchmarks(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.web";
    private const int Total = 200_000;

    [Theory]
    [InlineData(1_000, 1_000)]
    [InlineData(10_000, 1_000)]
    [InlineData(10_000, 10_000)]
    public async Task Write_events_of_about_200_bytes(int batchSize, int maxRowsPerRequest)
    {
        await using var fake = await FakeHBaseRest.StartAsync();
        var table = "bench_" + batchSize + "_" + maxRowsPerRequest;
        await using var sink = new HBaseSink(new HBaseSinkOptions { Url = fake.BaseUrl, Table = table, MaxRowsPerRequest = maxRowsPerRequest });
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(TypicalEvent).ToArray();

        // Warm up (JIT, connection, table creation), then measure only the sink's calls.
        await WriteAsync(sink, 0, batchSize, events);
        var watch = new Stopwatch();
        var offset = (long)batchSize;
        for (var b = 0; b < Total / batchSize; b++)
        {
            var batch = Batch(offset, batchSize, events);
            offset += batchSize;
            watch.Start();
            var result = await sink.WriteAsync(batch, CancellationToken.None);
            watch.Stop();
            Assert.True(result.IsAllDelivered, result.Reasons?.FirstOrDefault(r => r is not null));
        }
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(Total + batchSize, fake.ReadRows(table).Count);
        output.WriteLine($"hbase sink, batch {batchSize:N0}, max-rows-per-request {maxRowsPerRequest:N0}: {Total / watch.Elapsed.TotalSeconds:N0} events/s " +
            $"({Total:N0} events, 16 cells each, against the in-memory fake on loopback)");
        output.WriteLine($"for comparison, the sink with a server that only drains the body: {await DrainOnlyRateAsync(batchSize, maxRowsPerRequest, events):N0} events/s; " +
            $"the CellSet encoding alone: {EncodeOnlyRate(batchSize, events):N0} events/s");
    }

    // The sink's own cost: encoding, the request and its body, with no server work behind them.
    private static async Task<double> DrainOnlyRateAsync(int batchSize, int maxRowsPerRequest, LogEvent[] events)
    {
        await using var sink = new HBaseSink(new HBaseSinkOptions { Url = new Uri("http://drain/"), MaxRowsPerRequest = maxRowsPerRequest }, handler: new DrainingHandler());
        await WriteAsync(sink, 0, batchSize, events);
        var watch = Stopwatch.StartNew();
        for (var b = 0; b < Total / batchSize; b++) await WriteAsync(sink, b * (long)batchSize, batchSize, events);
        return Total / watch.Elapsed.TotalSeconds;
    }

    private sealed class DrainingHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content) await content.CopyToAsync(Stream.Null, cancellationToken);
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{"name":"nwdp_logs","ColumnSchema":[{"name":"e"}]}""") };
        }
    }

    private static double EncodeOnlyRate(int batchSize, LogEvent[] events)
    {
        var encoder = new HBaseRowEncoder(new HBaseSinkOptions { Url = new Uri("http://unused/") });
        var batch = Batch(0, batchSize, events);
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.ElapsedMilliseconds < 1000)
        {
            encoder.Encode(batch);
            n += batch.Count;
        }
        return n / watch.Elapsed.TotalSeconds;
    }

    private static async Task WriteAsync(HBaseSink sink, long from, int count, LogEvent[] events) =>
        Assert.True((await sink.WriteAsync(Batch(from, count, events), CancellationToken.None)).IsAllDelivered);

    private static List<SinkRecord> Batch(long from, int count, LogEvent[] events)
    {
        var batch = new List<SinkRecord>(count);
        for (var o = from; o < from + count; o++) batch.Add(new SinkRecord(Topic, (int)(o % 4), o / 4, events[o % events.Length]));
        return batch;
    }

    // About 200 bytes as an NDJSON line, like the lines services post.
    private static LogEvent TypicalEvent(int i) => new()
    {
        Ts = 1_764_324_000_000 + i,
        SystemTs = 1_764_324_000_003 + i,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Level = "info",
        Message = $"order {i} placed by user 4711 in 23 ms",
        Attributes = new Dictionary<string, string> { ["user"] = "4711" },
        Lineage = new Lineage("node-1", i),
    };
}
