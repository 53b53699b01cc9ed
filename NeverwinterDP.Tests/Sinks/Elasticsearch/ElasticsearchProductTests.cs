using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Elasticsearch.EsTestKit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>The sink against each server flavour the fake plays, and the product check against servers that are something else.</summary>
public sealed class ElasticsearchProductTests
{
    [Theory]
    [InlineData(FakeFlavor.Elasticsearch7Legacy, "Elasticsearch 7.10.2", "mapper_parsing_exception")]
    [InlineData(FakeFlavor.Elasticsearch7, "Elasticsearch 7.17.25", "mapper_parsing_exception")]
    [InlineData(FakeFlavor.Elasticsearch8, "Elasticsearch 8.15.3", "document_parsing_exception")]
    [InlineData(FakeFlavor.Elasticsearch9, "Elasticsearch 9.0.0", "document_parsing_exception")]
    [InlineData(FakeFlavor.OpenSearch, "OpenSearch 2.17.1", "mapper_parsing_exception")]
    public async Task Every_flavour_delivers_rejects_and_answers_a_replay_409(FakeFlavor flavor, string product, string parsingError)
    {
        await using var fake = await FakeElasticsearch.StartAsync(flavor);
        // Not logs-*-*: on 8 and 9 those are data streams, whose mappings an index creation cannot set.
        await using var sink = Sink(fake, o => o with { Index = IndexNameTemplate.Parse("nwdp-{type}-{yyyy.MM.dd}") });
        await sink.OpenAsync(CancellationToken.None);
        var health = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(health.Healthy, health.Detail);
        Assert.Contains(product, health.Detail);

        // The first record goes alone, so the batch below replays it (a 409, counted delivered).
        var batch = Records(0, 10);
        await WriteAllDelivered(sink, batch[..1]);
        using (var http = new HttpClient())
        {
            // An attribute the operator mapped as long takes numbers (and numeric strings, coerced) only.
            var mapping = """{"mappings":{"properties":{"attributes":{"properties":{"code":{"type":"long"}}}}}}""";
            using var created = await http.PutAsync(new Uri(fake.Url, "nwdp-web-2025.11.29"), new StringContent(mapping, Encoding.UTF8, "application/json"));
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        var nextDay = Nov28 + 86_400_000;
        var rejectable = new SinkRecord(Topic, 0, 10, Event(10, ts: nextDay, attributes: new Dictionary<string, string> { ["code"] = "x1" }));
        var coerced = new SinkRecord(Topic, 0, 11, Event(11, ts: nextDay, attributes: new Dictionary<string, string> { ["code"] = "42" }));

        var result = await sink.WriteAsync([.. batch, rejectable, coerced], CancellationToken.None);

        Assert.Equal(Enumerable.Repeat(SinkOutcome.Delivered, 10).Append(SinkOutcome.Rejected).Append(SinkOutcome.Delivered), result.Outcomes);
        Assert.StartsWith($"{parsingError}: failed to parse field [attributes.code] of type [long]", result.Reasons![10]);
        Assert.Contains("For input string", result.Reasons[10]);
        Assert.Equal(11, fake.Documents().Count);
    }

    [Theory]
    [InlineData(FakeFlavor.Elasticsearch7Legacy, true, false)]
    [InlineData(FakeFlavor.Elasticsearch7, true, true)]
    [InlineData(FakeFlavor.Elasticsearch8, false, true)]
    [InlineData(FakeFlavor.Elasticsearch9, false, true)]
    [InlineData(FakeFlavor.OpenSearch, false, false)]
    public async Task The_fake_answers_in_the_shape_of_its_flavour(FakeFlavor flavor, bool hasType, bool productHeader)
    {
        await using var fake = await FakeElasticsearch.StartAsync(flavor);
        using var http = new HttpClient();
        var body = "{\"create\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"create\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{\"a\":2}\n";
        using var response = await http.PostAsync(new Uri(fake.Url, "_bulk"), new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(productHeader, response.Headers.TryGetValues("X-Elastic-Product", out var values) && values.Single() == "Elasticsearch");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("took").GetInt64() >= 0);
        Assert.True(doc.RootElement.GetProperty("errors").GetBoolean());
        var items = doc.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("create")).ToList();
        Assert.Equal(201, items[0].GetProperty("status").GetInt32());
        Assert.Equal("created", items[0].GetProperty("result").GetString());
        Assert.Equal(hasType, items[0].TryGetProperty("_type", out _));
        Assert.Equal(409, items[1].GetProperty("status").GetInt32());
        Assert.Equal("version_conflict_engine_exception", items[1].GetProperty("error").GetProperty("type").GetString());

        var info = await http.GetFromJsonAsync<JsonElement>(fake.Url);
        Assert.Equal(fake.Version, info.GetProperty("version").GetProperty("number").GetString());
        Assert.Equal(flavor == FakeFlavor.OpenSearch, info.GetProperty("version").TryGetProperty("distribution", out _));
        var count = await http.GetFromJsonAsync<JsonElement>(new Uri(fake.Url, "t/_count"));
        Assert.Equal(1, count.GetProperty("count").GetInt64());
        var got = await http.GetFromJsonAsync<JsonElement>(new Uri(fake.Url, "t/_doc/1"));
        Assert.Equal(1, got.GetProperty("_source").GetProperty("a").GetInt32());
        using var plain = await http.PostAsync(new Uri(fake.Url, "_bulk"), new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.Equal(406, (int)plain.StatusCode);
        using var unterminated = await http.PostAsync(new Uri(fake.Url, "_bulk"), new StringContent(body.TrimEnd('\n'), Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(400, (int)unterminated.StatusCode);
    }

    [Theory]
    [InlineData(FakeFlavor.Elasticsearch8)]
    [InlineData(FakeFlavor.Elasticsearch9)]
    public async Task On_8_and_9_the_default_names_are_data_streams_the_sink_writes_with_create_and_timestamp(FakeFlavor flavor)
    {
        await using var fake = await FakeElasticsearch.StartAsync(flavor);
        await using var sink = Sink(fake);
        await sink.OpenAsync(CancellationToken.None);
        var noIp = new SinkRecord(Topic, 0, 3, Event(3) with { Ip = "" });
        var hostname = new SinkRecord(Topic, 0, 4, Event(4) with { Ip = "web-01.local" });

        var result = await sink.WriteAsync([.. Records(0, 3), noIp, hostname], CancellationToken.None);

        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Delivered, SinkOutcome.Delivered, SinkOutcome.Delivered, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("'web-01.local' is not an IP string literal", result.Reasons![4]);
        Assert.Equal("ip", fake.MappedType("logs-web-2025.11.28", "ip"));
        Assert.False(fake.Documents().Single(d => d.Id == Id(3)).Source.TryGetProperty("ip", out _));

        // The fake keeps the data stream's rules for other clients too: index is refused, items name the backing index.
        using var http = new HttpClient();
        var body = "{\"index\":{\"_index\":\"logs-web-2025.11.28\",\"_id\":\"z\"}}\n{\"@timestamp\":\"2025-11-28T00:00:00Z\"}\n" +
                   "{\"create\":{\"_index\":\"logs-web-2025.11.28\",\"_id\":\"y\"}}\n{\"msg\":\"no time\"}\n";
        using var response = await http.PostAsync(new Uri(fake.Url, "_bulk"), new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var items = doc.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains("only write ops with an op_type of create", items[0].GetProperty("index").GetProperty("error").GetProperty("reason").GetString());
        Assert.Contains("[@timestamp] is missing", items[1].GetProperty("create").GetProperty("error").GetProperty("reason").GetString());
        Assert.StartsWith(".ds-logs-web-2025.11.28-", items[1].GetProperty("create").GetProperty("_index").GetString());
    }

    [Fact]
    public async Task A_server_that_is_neither_Elasticsearch_nor_OpenSearch_is_refused()
    {
        await using var server = await StubServer.StartAsync(async context =>
        {
            // Answers 200 to anything, _bulk included: a sink that believed it would lose everything.
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html><body>It works!</body></html>");
        });
        await using var sink = Sink([server.Url]);

        var open = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.OpenAsync(CancellationToken.None));
        Assert.Contains("neither Elasticsearch nor OpenSearch", open.Message);
        var health = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.False(health.Healthy);
        Assert.Contains("neither Elasticsearch nor OpenSearch", health.Detail);
        await Assert.ThrowsAsync<InvalidOperationException>(() => sink.WriteAsync(Records(0, 3), CancellationToken.None));
        Assert.Equal(0, server.Posts);
    }

    [Theory]
    [InlineData("8.15.0", "no X-Elastic-Product header")]
    [InlineData("6.8.23", "version 7 or later is required")]
    public async Task An_Elasticsearch_look_alike_without_the_product_header_or_too_old_is_refused(string version, string words)
    {
        await using var server = await StubServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"name":"n","version":{"number":"{{version}}","build_flavor":"default"},"tagline":"You Know, for Search"}""");
        });
        await using var sink = Sink([server.Url]);
        var open = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.OpenAsync(CancellationToken.None));
        Assert.Contains(words, open.Message);
    }

    /// <summary>Any HTTP server: answers every request with the given handler.</summary>
    private sealed class StubServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _posts;

        private StubServer(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public int Posts => _posts;

        public static async Task<StubServer> StartAsync(RequestDelegate handler)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new StubServer(app);
            app.Run(context =>
            {
                if (context.Request.Method == "POST") Interlocked.Increment(ref server._posts);
                return handler(context);
            });
            await app.StartAsync();
            server.Url = new Uri(app.Urls.Single() + "/");
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
