using System.Net;
using System.Text;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Host.Search;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Sinks.Elasticsearch;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.Search.DuckDbSearchTests;

namespace NeverwinterDP.Tests.Search;

/// <summary>The Elasticsearch path: documents written by the Elasticsearch sink into the fake, found through its <c>_search</c>.</summary>
public sealed class ElasticsearchSearchTests : IAsyncLifetime
{
    private FakeElasticsearch _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private async Task<ElasticsearchSinkOptions> WriteAsync(IEnumerable<LogEvent> events, string index = "nwdp-{type}-{yyyy.MM.dd}")
    {
        var options = new ElasticsearchSinkOptions { Urls = [_fake.Url], Index = IndexNameTemplate.Parse(index), RequestTimeout = TimeSpan.FromSeconds(10) };
        await using var sink = new ElasticsearchSink(options, "es");
        await sink.OpenAsync(CancellationToken.None);
        var offsets = new Dictionary<string, long>();
        var batch = events.Select(e =>
        {
            var topic = TopicNames.ForType(e.Type);
            var offset = offsets[topic] = offsets.GetValueOrDefault(topic) + 1;
            return new SinkRecord(topic, 0, offset, e);
        }).ToList();
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join(", ", result.Reasons?.Where(r => r is not null) ?? []));
        return options;
    }

    private SearchService Service(ElasticsearchSinkOptions options) => new(Options, new ElasticsearchSearch("es", options, TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task Elasticsearch_and_DuckDB_over_the_same_events_give_the_same_answers()
    {
        using var search = Service(await WriteAsync(Mixed()));
        using var dir = new TempDir();
        await using (var files = new FilesSink(new FilesSinkOptions { Directory = dir.Path, Fsync = false }))
        {
            var offset = 0L;
            Assert.True((await files.WriteAsync(Mixed().Select(e => new SinkRecord(TopicNames.ForType(e.Type), 0, offset++, e)).ToList(), CancellationToken.None)).IsAllDelivered);
            await files.FlushAsync(CancellationToken.None);
        }
        using var duck = new SearchService(Options, new DuckDbSearch("files", PartTree.FilesNdjson, dir.Path, Options));

        foreach (var request in new[]
                 {
                     Request(), Request("\"connection reset\""), Request("reset"), Request("resetting"), Request("reset level:error -host:web-02"),
                     Request("db-1 OR attributes.user_id:4704"), Request("GET", type: "w?b"), Request(type: "api"), Request("NOT GET"),
                     Request(type: "web", from: Ten + Hour, to: Ten + 2 * Hour), Request("\"x'); DROP TABLE t; --\""), Request("\"say \\\"hi\\\"\""),
                 })
        {
            var es = await search.SearchAsync(request, CancellationToken.None);
            var db = await duck.SearchAsync(request, CancellationToken.None);
            Assert.Equal(("elasticsearch", "es"), (es.Backend, es.Sink));
            Assert.True(db.Hits.Count > 0 || request.QueryText.Contains("DROP") || request.QueryText.Contains("hi"), request.ToString());
            Assert.Equal(db.Hits.Select(h => h with { Attributes = null! }), es.Hits.Select(h => h with { Attributes = null! }));
            Assert.Equal(db.Hits.Select(h => string.Join(",", h.Attributes.OrderBy(a => a.Key))), es.Hits.Select(h => string.Join(",", h.Attributes.OrderBy(a => a.Key))));
        }
        // What was sent: the index pattern of the template, the filters, the sort, query_string written back from q.
        using var body = System.Text.Json.JsonDocument.Parse(_fake.SearchBodies[^1]);
        Assert.Equal("msg:\"say \\\"hi\\\"\"", body.RootElement.GetProperty("query").GetProperty("bool").GetProperty("must")[0].GetProperty("query_string").GetProperty("query").GetString());
    }

    [Fact]
    public async Task Pages_follow_search_after_through_runs_of_equal_timestamps_without_losing_or_repeating_an_event()
    {
        var events = Enumerable.Range(0, 47).Select(i => Event("web", Ten + i / 7 * 1000, i / 7, $"event {i}")).ToList();
        using var search = Service(await WriteAsync(events));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await search.SearchAsync(Request(limit: 5, cursor: cursor), CancellationToken.None);
            seen.AddRange(page.Hits.Select(h => h.Msg));
            cursor = page.Next;
            pages++;
        } while (cursor is not null);

        Assert.Equal(10, pages);
        Assert.Equal(events.Select(e => e.Message).Order(), seen.Order());
        Assert.Contains(_fake.SearchBodies, b => b.Contains("\"search_after\":[", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_a_logs_data_stream_strings_are_keywords_so_a_field_matches_its_whole_value()
    {
        using var search = Service(await WriteAsync(Mixed(), ElasticsearchSinkOptions.DefaultIndex));
        Assert.Contains(_fake.IndexNames(), n => n.StartsWith("logs-web-", StringComparison.Ordinal));

        Assert.Equal(["Connection reset by peer while reading"], (await search.SearchAsync(Request("host:web-02"), CancellationToken.None)).Hits.Select(h => h.Msg));
        Assert.Equal(2, (await search.SearchAsync(Request("level:error"), CancellationToken.None)).Hits.Count);
        Assert.Empty((await search.SearchAsync(Request("reset"), CancellationToken.None)).Hits); // msg is a keyword: no word inside it matches
        Assert.Equal(["GET /health 200"], (await search.SearchAsync(Request("\"GET /health 200\"", type: "WEB"), CancellationToken.None)).Hits.Select(h => h.Msg));
    }

    [Fact]
    public async Task A_refusal_or_an_unreachable_cluster_is_a_backend_error_with_the_reason()
    {
        var options = await WriteAsync(Mixed());
        _fake.RequireBasicAuth("nwdp", "secret");
        using (var search = Service(options))
        {
            var e = await Assert.ThrowsAsync<SearchBackendException>(() => search.SearchAsync(Request(), CancellationToken.None));
            Assert.Contains("401", e.Message);
            Assert.Contains("authentication credentials", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        using (var search = Service(options with { Username = "nwdp", Password = "secret" }))
            Assert.Equal(6, (await search.SearchAsync(Request(), CancellationToken.None)).Hits.Count);
        using (var search = Service(options with { Urls = [EsTestKit.ClosedPortUrl()] }))
        {
            var e = await Assert.ThrowsAsync<SearchBackendException>(() => search.SearchAsync(Request(), CancellationToken.None));
            Assert.Contains("could be reached", e.Message);
        }
    }

    [Theory]
    [InlineData("{\"sort\":[{\"msg\":\"desc\"}]}", "Text fields are not optimised")]
    [InlineData("{\"sort\":[{\"nope\":\"desc\"}]}", "No mapping found for [nope]")]
    [InlineData("{\"sort\":[{\"ts\":\"desc\"}],\"search_after\":[1,2]}", "search_after has 2 value(s) but sort has 1")]
    [InlineData("{\"size\":10001}", "Result window is too large")]
    [InlineData("{\"query\":{\"query_string\":{\"query\":\"msg:(a\"}}}", "Failed to parse query")]
    [InlineData("{\"query\":{\"fuzzy\":{\"msg\":\"a\"}}}", "unknown query [fuzzy]")]
    public async Task The_fake_refuses_searches_as_Elasticsearch_does(string body, string reason)
    {
        await WriteAsync(Mixed());
        using var http = new HttpClient { BaseAddress = _fake.Url };
        var response = await http.PostAsync("nwdp-*/_search", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync());
        var missing = await http.PostAsync("nope/_search", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("nope/_search?ignore_unavailable=true", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
    }
}
