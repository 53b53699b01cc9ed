using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Node;

/// <summary>The spine in one process: HTTP ingress → embedded Kafka → data pump → files.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class IngressToFilesSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 40, 0, TimeSpan.Zero);

    private static string Line(string run, int i, string host = "web-1") =>
        $"{{\"host\":\"{host}\",\"process\":\"nginx\",\"level\":\"info\",\"msg\":\"{run}-{i} GET /api/orders/{i} 200\"}}";

    private static string MessageOf(string ndjson) => JsonDocument.Parse(ndjson).RootElement.GetProperty("msg").GetString()!;

    [Fact]
    public async Task Twenty_thousand_posted_events_land_in_hour_folders_exactly_once()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        await using var node = await InProcessNode.StartAsync(dir.Path, clock);
        var run = Guid.NewGuid().ToString("N")[..8];
        const int n = 20_000;
        const int batch = 500;

        for (var b = 0; b < n / batch; b++)
        {
            if (b == n / batch / 2) clock.Advance(TimeSpan.FromHours(1)); // the second half is ingested an hour later
            var response = await node.PostNdjsonAsync(Enumerable.Range(b * batch, batch).Select(i => Line(run, i, "web-" + (i % 7))), type: "spine");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"{{\"accepted\":{batch}}}", await response.Content.ReadAsStringAsync());
        }

        var topic = TopicNames.ForType("spine");
        await Eventually(() => node.PublishedLines(topic).Count >= n, TimeSpan.FromSeconds(60));
        var lines = node.PublishedLines(topic);
        Assert.Equal(n, lines.Count);
        var messages = lines.Select(MessageOf).ToList();
        Assert.Equal(n, messages.Distinct().Count());
        Assert.All(messages, m => Assert.StartsWith(run + "-", m));

        var hours = Directory.EnumerateFiles(Path.Combine(node.FilesDir, topic), "*.ndjson", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(node.FilesDir, topic), Path.GetDirectoryName(f)!))
            .Distinct().Order().ToList();
        Assert.Equal([Path.Combine("2026", "11", "28", "09"), Path.Combine("2026", "11", "28", "10")], hours);
        Assert.Equal(n / 2, lines.Count(l => JsonDocument.Parse(l).RootElement.GetProperty("system_ts").GetInt64() < Start.AddMinutes(20).ToUnixTimeMilliseconds()));
    }

    [Fact]
    public async Task A_node_restarted_on_the_embedded_broker_with_its_data_directory_stores_the_events_of_both_starts()
    {
        // The embedded broker numbers every partition from 0 again at each start, and the files sink skips offsets its
        // file names cover: without the bus epoch, the second start's events were accepted and never written.
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        var run = Guid.NewGuid().ToString("N")[..8];
        var topic = TopicNames.ForType("again");
        var epochs = new List<long>();
        for (var start = 0; start < 2; start++)
        {
            await using var node = await InProcessNode.StartAsync(dir.Path, clock);
            epochs.Add(node.Bus.Epoch);
            var response = await node.PostNdjsonAsync(Enumerable.Range(start * 100, 100).Select(i => Line(run, i)), type: "again");
            Assert.Equal($"{{\"accepted\":100}}", await response.Content.ReadAsStringAsync());
            var expected = (start + 1) * 100;
            await Eventually(() => node.PublishedLines(topic).Count >= expected, TimeSpan.FromSeconds(30));
            var health = JsonDocument.Parse(await node.Client.GetStringAsync("/healthz")).RootElement;
            Assert.Equal(node.Bus.Epoch, health.GetProperty("bus_epoch").GetInt64());
        }

        Assert.Equal(epochs[0] + 1, epochs[1]);
        await using (var third = await InProcessNode.StartAsync(dir.Path, clock))
        {
            var messages = third.PublishedLines(topic).Select(MessageOf).ToList();
            Assert.Equal(200, messages.Count);
            Assert.Equal(Enumerable.Range(0, 200).Select(i => $"{run}-{i} GET /api/orders/{i} 200").Order(), messages.Order());
        }
        // Every file of the second start names offsets above every offset of the first.
        var names = Directory.EnumerateFiles(Path.Combine(dir.Path, "sinks", "files", topic), "*.ndjson", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        var secondBase = NeverwinterDP.Actors.Kafka.Embedded.BusEpoch.OffsetBase(epochs[1]);
        Assert.Contains(names, n => long.Parse(n!.Split("-o")[1]) >= secondBase);
        Assert.Contains(names, n => long.Parse(n!.Split("-o")[2].Split('.')[0]) < secondBase);
    }

    [Fact]
    public async Task A_request_with_one_bad_line_gets_400_naming_the_line_and_none_of_its_events_reach_Kafka()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var run = Guid.NewGuid().ToString("N")[..8];
        var lines = Enumerable.Range(0, 5).Select(i => Line(run, i)).ToList();
        lines[2] = "{\"msg\":\"bad\",\"ts\":{\"not\":\"a time\"}}";

        var bad = await node.PostNdjsonAsync(lines, type: "strict");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(3, body.GetProperty("line").GetInt32());
        Assert.Contains("'ts'", body.GetProperty("error").GetString());

        // A good request after it: only its event is ever delivered.
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync([Line(run, 99)], type: "strict")).StatusCode);
        var topic = TopicNames.ForType("strict");
        await Eventually(() => node.PublishedLines(topic).Count >= 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        Assert.Equal([$"{run}-99 GET /api/orders/99 200"], node.PublishedLines(topic).Select(MessageOf));
        Assert.Equal(1, node.Pumps.Sum(p => p.Stats.Delivered));
    }

    [Fact]
    public async Task Bad_requests_get_clear_4xx_answers()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.ingress.max-request-bytes"] = "1KiB" });

        var tooLarge = await node.PostNdjsonAsync(Enumerable.Range(0, 50).Select(i => Line("big", i)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("limit", (await tooLarge.Content.ReadAsStringAsync()));

        var xml = new StringContent("<log/>", System.Text.Encoding.UTF8, "application/xml");
        var unsupported = await node.Client.PostAsync("/v1/events", xml);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        Assert.Contains("Content-Type", await unsupported.Content.ReadAsStringAsync());

        var notGzip = new ByteArrayContent("not gzip"u8.ToArray());
        notGzip.Headers.ContentType = new("application/x-ndjson");
        notGzip.Headers.ContentEncoding.Add("gzip");
        var badGzip = await node.Client.PostAsync("/v1/events", notGzip);
        Assert.Equal(HttpStatusCode.BadRequest, badGzip.StatusCode);
        Assert.Contains("gzip", await badGzip.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Gzip_and_json_array_bodies_are_accepted()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var ms = new MemoryStream();
        await using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            await gz.WriteAsync(System.Text.Encoding.UTF8.GetBytes(Line("gz", 1) + "\n" + Line("gz", 2) + "\n"));
        var gzContent = new ByteArrayContent(ms.ToArray());
        gzContent.Headers.ContentType = new("application/x-ndjson");
        gzContent.Headers.ContentEncoding.Add("gzip");
        var r1 = await node.Client.PostAsync("/v1/events?type=formats", gzContent);
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);

        var json = new StringContent($"[{Line("arr", 1)},{Line("arr", 2)},{Line("arr", 3)}]", System.Text.Encoding.UTF8, "application/json");
        var r2 = await node.Client.PostAsync("/v1/events?type=formats", json);
        Assert.Equal("{\"accepted\":3}", await r2.Content.ReadAsStringAsync());

        var health = await node.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await health.Content.ReadAsStringAsync());

        var topic = TopicNames.ForType("formats");
        await Eventually(() => node.PublishedLines(topic).Count >= 5, TimeSpan.FromSeconds(30));
        Assert.Equal(["arr-1", "arr-2", "arr-3", "gz-1", "gz-2"], node.PublishedLines(topic).Select(l => MessageOf(l).Split(' ')[0]).Order());
    }

    [Fact]
    public async Task A_slow_bus_gets_429_and_a_slow_sink_keeps_the_pump_bounded_and_every_2xx_event_arrives()
    {
        using var dir = new TempDir();
        var slow = new RecordingSink("slow", TimeSpan.FromMilliseconds(40));
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["akka.kafka.producer.parallelism"] = "2",
            ["akka.kafka.consumer.max-buffered-per-partition"] = "100",
            ["nwdp.ingress.queue-capacity"] = "2",
            ["nwdp.ingress.enqueue-timeout"] = "50ms",
            ["nwdp.pump.batch-size"] = "200",
            ["nwdp.sinks.files.enabled"] = "off",
            ["nwdp.sinks.slow.kind"] = "recording",
            // One writer: the test hands the same sink instance to whoever builds one.
            ["nwdp.pump.writers-per-sink"] = "1",
        }, configureServices: s => s.AddSinkKind("recording", _ => slow));
        var run = Guid.NewGuid().ToString("N")[..8];
        node.Bus.Embedded!.SetBrokerRtt(1, TimeSpan.FromMilliseconds(300));

        var accepted = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var senders = Enumerable.Range(0, 16).Select(s => Task.Run(async () =>
        {
            for (var b = 0; b < 10; b++)
            {
                var lines = Enumerable.Range(0, 50).Select(i => Line(run, s * 10_000 + b * 100 + i)).ToList();
                var response = await node.PostNdjsonAsync(lines, type: "overload");
                statuses.AddOrUpdate(response.StatusCode, 1, (_, c) => c + 1);
                if (response.IsSuccessStatusCode) foreach (var l in lines) accepted.Add(MessageOf(l));
                else Assert.True(response.Headers.RetryAfter is not null, $"{response.StatusCode} without Retry-After");
            }
        })).ToList();
        await Task.WhenAll(senders);
        node.Bus.Embedded.SetBrokerRtt(1, TimeSpan.Zero);
        output.WriteLine(string.Join(", ", statuses.Select(kv => $"{(int)kv.Key}={kv.Value}")));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.TooManyRequests) > 0, "the saturated bus never answered 429");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 0);

        await Eventually(() => slow.Messages.Count >= accepted.Count, TimeSpan.FromSeconds(90));
        await Task.Delay(500);
        Assert.Equal(accepted.Order(), slow.Messages.Order());
        var pump = Assert.Single(node.Pumps);
        output.WriteLine($"pump max buffered={pump.Control!.MaxBuffered}");
        Assert.InRange(pump.Control.MaxBuffered, 1, 8 * 100);
    }

    private static async Task Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in " + timeout);
            await Task.Delay(100);
        }
    }
}

/// <summary>A sink that records what it was given (deduplicated by offset, as an idempotent store would) and can be slow.</summary>
public sealed class RecordingSink(string name, TimeSpan delayPerWrite) : ISink
{
    private readonly ConcurrentDictionary<(string, int, long), string> _byOffset = new();

    public string Name => name;
    public IReadOnlyCollection<string> Messages => _byOffset.Values.ToList();
    public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        await Task.Delay(delayPerWrite, cancellation);
        foreach (var r in batch) _byOffset.TryAdd((r.Topic, r.Partition, r.Offset), r.Event.Message);
        return SinkWriteResult.AllDelivered(batch.Count);
    }

    public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
    public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(true, "in memory"));
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
