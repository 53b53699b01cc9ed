using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Sinks.Elasticsearch.EsTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// The Elasticsearch sink's write rate against <see cref="FakeElasticsearch"/> in this process, printed, never
/// asserted. The fake parses every document and checks it against its mapping on the same two cores, so the
/// numbers measure sink + fake together, not what a real cluster would take. Run with
/// <c>dotnet test --filter "FullyQualifiedName~ElasticsearchSinkBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class ElasticsearchSinkBenchmarks(ITestOutputHelper output)
{
    private const int Total = 300_000;
    private const int Partitions = 4;

    [Theory]
    [InlineData(1_000, true)]
    [InlineData(10_000, true)]
    [InlineData(1_000, false)]
    [InlineData(10_000, false)]
    public async Task Write_events_of_about_300_bytes(int batchSize, bool compression)
    {
        await using var fake = await FakeElasticsearch.StartAsync();
        fake.KeepSources = false;
        await using var sink = Sink(fake, o => o with { Compression = compression });
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(i => Event(i)).ToArray();

        // Warm up (JIT, connections, the fake's first index), then measure only the sink's calls.
        var offset = 0L;
        for (var b = 0; b < 20_000 / batchSize; b++) await Write(sink, Batch(ref offset, batchSize, events));
        var requestsBefore = fake.BulkRequests.Count;
        var watch = new Stopwatch();
        for (var b = 0; b < Total / batchSize; b++)
        {
            var batch = Batch(ref offset, batchSize, events);
            watch.Start();
            await Write(sink, batch);
            watch.Stop();
        }

        var requests = fake.BulkRequests.Skip(requestsBefore).ToList();
        var rate = Total / watch.Elapsed.TotalSeconds;
        output.WriteLine($"batch {batchSize,6}, gzip {(compression ? "on " : "off")}: {rate,9:N0} events/s, " +
            $"{requests.Sum(r => r.BodyBytes) / watch.Elapsed.TotalSeconds / 1e6:N1} MB/s NDJSON, {requests.Count} _bulk requests, " +
            $"{requests.Average(r => r.BodyBytes) / 1024:N0} KiB body / {requests.Average(r => r.WireBytes) / 1024:N0} KiB on the wire");
        Assert.Equal(offset, fake.Documents().Count);
    }

    /// <summary>
    /// The sink alone: an in-memory handler answers each _bulk with "all created" after decoding the body and
    /// counting its lines (no sockets, no server), which shows what the sink's own work costs.
    /// </summary>
    [Theory]
    [InlineData(1_000, true)]
    [InlineData(10_000, true)]
    [InlineData(1_000, false)]
    [InlineData(10_000, false)]
    public async Task Sink_alone_against_an_in_memory_handler(int batchSize, bool compression)
    {
        var options = new NeverwinterDP.Actors.Sinks.Elasticsearch.ElasticsearchSinkOptions { Urls = [new Uri("http://es.invalid:9200")], Compression = compression };
        await using var sink = new NeverwinterDP.Actors.Sinks.Elasticsearch.ElasticsearchSink(options, "bench", new AllCreatedHandler());
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(i => Event(i)).ToArray();
        var offset = 0L;
        for (var b = 0; b < 20_000 / batchSize; b++) await Write(sink, Batch(ref offset, batchSize, events));
        var watch = new Stopwatch();
        for (var b = 0; b < Total / batchSize; b++)
        {
            var batch = Batch(ref offset, batchSize, events);
            watch.Start();
            await Write(sink, batch);
            watch.Stop();
        }
        output.WriteLine($"sink alone, batch {batchSize,6}, gzip {(compression ? "on " : "off")}: {Total / watch.Elapsed.TotalSeconds,9:N0} events/s");
    }

    private sealed class AllCreatedHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get)
            {
                var info = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{"version":{"number":"8.15.3"},"tagline":"You Know, for Search"}""") };
                info.Headers.Add("X-Elastic-Product", "Elasticsearch");
                return info;
            }
            var body = await request.Content!.ReadAsStreamAsync(cancellationToken);
            if (request.Content.Headers.ContentEncoding.Contains("gzip")) body = new System.IO.Compression.GZipStream(body, System.IO.Compression.CompressionMode.Decompress);
            var lines = 0;
            var buffer = new byte[65536];
            int n;
            while ((n = await body.ReadAsync(buffer, cancellationToken)) > 0) lines += buffer.AsSpan(0, n).Count((byte)'\n');
            var response = new System.Text.StringBuilder("{\"took\":1,\"errors\":false,\"items\":[");
            for (var i = 0; i < lines / 2; i++)
                response.Append(i == 0 ? "" : ",").Append("""{"create":{"_index":"logs-web-2025.11.28","_id":"x","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":1,"_primary_term":1,"status":201}}""");
            response.Append("]}");
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(response.ToString(), System.Text.Encoding.UTF8, "application/json") };
        }
    }

    private static List<SinkRecord> Batch(ref long offset, int size, NeverwinterDP.Protocol.LogEvent[] events)
    {
        var batch = new List<SinkRecord>(size);
        for (var i = 0; i < size; i++, offset++)
            batch.Add(new SinkRecord(Topic, (int)(offset % Partitions), offset / Partitions, events[offset % events.Length] with { Ts = Nov28 + offset }));
        return batch;
    }

    private static async Task Write(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, result.Reasons?.FirstOrDefault(r => r is not null));
    }
}
