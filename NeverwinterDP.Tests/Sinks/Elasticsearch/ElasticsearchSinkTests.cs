using System.Text;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Framework;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Elasticsearch.EsTestKit;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>What the Elasticsearch sink does beyond the shared contract: index names, outcomes per item and per request, splitting, compression, failover.</summary>
public sealed class ElasticsearchSinkTests : IAsyncLifetime
{
    private static readonly SinkRetryOptions FastRetry = new() { MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50) };

    private FakeElasticsearch _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeElasticsearch.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Each_type_and_UTC_day_gets_its_own_lower_case_index()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        var lateOn27th = new DateTimeOffset(2025, 11, 27, 23, 59, 59, 999, TimeSpan.Zero).ToUnixTimeMilliseconds();
        // 00:30 on the 28th in UTC+2 is still the 27th in UTC: the index follows UTC.
        var earlyOn28thLocal = new DateTimeOffset(2025, 11, 28, 0, 30, 0, TimeSpan.FromHours(2)).ToUnixTimeMilliseconds();
        var batch = new List<SinkRecord>
        {
            new(Topic, 0, 1, Event(1, "Web", lateOn27th)),
            new(Topic, 0, 2, Event(2, "web", lateOn27th + 1)),
            new(Topic, 0, 3, Event(3, "Payment Service/v2", Nov28)),
            new(Topic, 0, 4, Event(4, "_internal", earlyOn28thLocal)),
        };

        await WriteAllDelivered(sink, batch);

        // A '_' is only refused at the start of a name; inside it stays.
        Assert.Equal(["logs-_internal-2025.11.27", "logs-payment_service_v2-2025.11.28", "logs-web-2025.11.27", "logs-web-2025.11.28"], _fake.IndexNames());
        var docs = _fake.Documents().ToDictionary(d => d.Id);
        Assert.Equal("logs-web-2025.11.27", docs[Id(1)].Index);
        Assert.Equal("logs-web-2025.11.28", docs[Id(2)].Index); // one millisecond later: midnight UTC
        Assert.Equal("2025-11-27T23:59:59.999Z", docs[Id(1)].Source.GetProperty("@timestamp").GetString());
        Assert.Equal(lateOn27th, docs[Id(1)].Source.GetProperty("ts").GetInt64());
        Assert.Equal("Web", docs[Id(1)].Source.GetProperty("type").GetString());
        Assert.Equal("4711", docs[Id(1)].Source.GetProperty("attributes").GetProperty("user").GetString());
        Assert.Equal(1, docs[Id(1)].Source.GetProperty("lineage").GetProperty("seq").GetInt64());
        Assert.Equal("date", _fake.MappedType("logs-web-2025.11.27", "@timestamp"));
    }

    [Fact]
    public async Task A_custom_index_template_with_an_hourly_date()
    {
        await using var sink = Sink(_fake, o => o with { Index = IndexNameTemplate.Parse("nwdp_{type}.{yyyy-MM-dd_HH}") });
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 2));
        Assert.Equal(["nwdp_web.2025-11-28_10"], _fake.IndexNames());
    }

    [Fact]
    public async Task A_replay_is_answered_409_per_document_and_counted_delivered_without_rewriting()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 100));

        // The same records with changed messages: create leaves the first copies alone.
        var replay = Records(50, 100).Select(r => r with { Event = r.Event with { Message = "changed" } }).ToList();
        await WriteAllDelivered(sink, replay);

        var docs = _fake.Documents();
        Assert.Equal(150, docs.Count);
        Assert.All(docs, d => Assert.Equal(1, d.Version));
        Assert.Equal("message 60", docs.Single(d => d.Id == Id(60)).Source.GetProperty("msg").GetString());
        Assert.Equal("changed", docs.Single(d => d.Id == Id(120)).Source.GetProperty("msg").GetString());
    }

    [Fact]
    public async Task Item_429_and_5xx_are_errored_and_only_those_items_are_sent_again()
    {
        _fake.FailItem(Id(5), 429, times: 1);
        _fake.FailItem(Id(7), 503, times: 2);
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);

        var first = await sink.WriteAsync(Records(0, 10), CancellationToken.None);
        Assert.Equal(SinkOutcome.Errored, first.Outcomes[5]);
        Assert.Contains("es_rejected_execution_exception", first.Reasons![5]);
        Assert.Equal(SinkOutcome.Errored, first.Outcomes[7]);
        Assert.Contains("unavailable_shards_exception", first.Reasons![7]);
        Assert.Equal(8, first.Outcomes.Count(o => o == SinkOutcome.Delivered));

        var delivery = new SinkDelivery(sink, FastRetry, new RecordingDeadLetters());
        var report = await delivery.DeliverAsync(Records(10, 10).Prepend(Records(5, 1)[0]).Prepend(Records(7, 1)[0]).ToList(), CancellationToken.None);
        Assert.Equal(12, report.Delivered);
        Assert.Equal(1, report.Retries); // 7 failed once more, then went alone
        Assert.Equal([10, 12, 1], _fake.BulkRequests.Select(r => r.Items));
        Assert.Equal(20, _fake.Documents().Count);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task A_whole_request_answered_with_a_retryable_status_is_errored_and_retried(int status)
    {
        _fake.FailNextBulkRequests(2, status);
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);

        var result = await sink.WriteAsync(Records(0, 20), CancellationToken.None);
        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains($"HTTP {status}", result.Reasons![0]);
        if (status is 429 or 503) Assert.Contains(status == 429 ? "es_rejected_execution_exception" : "cluster_block_exception", result.Reasons[0]);

        var delivery = new SinkDelivery(sink, FastRetry, new RecordingDeadLetters());
        var report = await delivery.DeliverAsync(Records(0, 20), CancellationToken.None);
        Assert.Equal(new DeliveryReport(20, 0, 1), report);
        Assert.Equal(20, _fake.Documents().Count);
    }

    [Theory]
    [InlineData(FakeAbort.WhileReading)]
    [InlineData(FakeAbort.BeforeStoring)]
    [InlineData(FakeAbort.AfterStoring)]
    public async Task A_dropped_connection_is_errored_and_the_retry_leaves_each_document_once(FakeAbort when)
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        _fake.AbortNextBulkRequests(1, when);

        var result = await sink.WriteAsync(Records(0, 50), CancellationToken.None);
        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("no node answered", result.Reasons![0]);
        Assert.Equal(when == FakeAbort.AfterStoring ? 50 : 0, _fake.Documents().Count);

        var delivery = new SinkDelivery(sink, FastRetry, new RecordingDeadLetters());
        var report = await delivery.DeliverAsync(Records(0, 50), CancellationToken.None);
        Assert.Equal(50, report.Delivered);
        Assert.Equal(50, _fake.Documents().Count);
        Assert.All(_fake.Documents(), d => Assert.Equal(1, d.Version));
    }

    [Fact]
    public async Task A_field_the_mapping_cannot_hold_is_rejected_with_the_error_type_and_reason()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        // Dynamic mapping: the first document maps attributes.user as text, attributes.shop as an object.
        var first = new SinkRecord(Topic, 0, 0, Event(0, attributes: new Dictionary<string, string> { ["shop.id"] = "1" }));
        await WriteAllDelivered(sink, [first]);
        var conflicting = new SinkRecord(Topic, 0, 1, Event(1, attributes: new Dictionary<string, string> { ["shop"] = "main" }));

        var result = await sink.WriteAsync([conflicting, .. Records(2, 3)], CancellationToken.None);

        Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered, SinkOutcome.Delivered, SinkOutcome.Delivered], result.Outcomes);
        Assert.StartsWith("document_parsing_exception: object mapping for [attributes.shop]", result.Reasons![0]);
        Assert.Equal(4, _fake.Documents().Count);
    }

    [Fact]
    public async Task Basic_auth_is_sent_and_wrong_credentials_error_without_dead_lettering()
    {
        _fake.RequireBasicAuth("nwdp", "s3cret");
        await using (var sink = Sink(_fake, o => o with { Username = "nwdp", Password = "s3cret" }))
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
            await WriteAllDelivered(sink, Records(0, 10));
        }
        await using (var wrong = Sink(_fake, o => o with { Username = "nwdp", Password = "wrong" }))
        {
            await wrong.OpenAsync(CancellationToken.None); // Elasticsearch is recognised by its header even on a 401
            var health = await wrong.CheckHealthAsync(CancellationToken.None);
            Assert.False(health.Healthy);
            Assert.Contains("401", health.Detail);
            var result = await wrong.WriteAsync(Records(10, 5), CancellationToken.None);
            Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
            Assert.Contains("HTTP 401", result.Reasons![0]);
            Assert.Contains("security_exception", result.Reasons![0]);
        }
        Assert.Equal(10, _fake.Documents().Count);
    }

    [Fact]
    public async Task An_api_key_is_sent_as_ApiKey_authorization()
    {
        _fake.RequireApiKey("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
        await using var sink = Sink(_fake, o => o with { ApiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==" });
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 3));
        Assert.Equal(3, _fake.Documents().Count);
    }

    [Fact]
    public async Task A_batch_is_split_into_bulk_requests_of_at_most_max_bulk_bytes()
    {
        await using var sink = Sink(_fake, o => o with { MaxBulkBytes = 8 * 1024 });
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 300));

        var requests = _fake.BulkRequests;
        Assert.True(requests.Count >= 5, $"{requests.Count} requests");
        Assert.All(requests, r => Assert.InRange(r.BodyBytes, 1, 8 * 1024));
        Assert.All(requests, r => Assert.Equal("gzip", r.ContentEncoding));
        Assert.All(requests, r => Assert.True(r.WireBytes < r.BodyBytes / 2, "gzip compresses"));
        Assert.All(requests, r => Assert.Equal("application/x-ndjson", r.ContentType));
        Assert.Equal(300, requests.Sum(r => r.Items));
        Assert.Equal(300, _fake.Documents().Count);
    }

    [Fact]
    public async Task Compression_off_sends_plain_ndjson()
    {
        await using var sink = Sink(_fake, o => o with { Compression = false });
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 10));
        var request = Assert.Single(_fake.BulkRequests);
        Assert.Null(request.ContentEncoding);
        Assert.Equal(request.BodyBytes, request.WireBytes);
    }

    [Fact]
    public async Task A_413_halves_the_request_and_a_single_document_too_large_is_rejected()
    {
        _fake.MaxContentLength = 4 * 1024;
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        var huge = new SinkRecord(Topic, 0, 40, Event(40) with { Message = new string('x', 5000) });

        var result = await sink.WriteAsync([.. Records(0, 40), huge], CancellationToken.None);

        Assert.Equal(40, result.Outcomes.Take(40).Count(o => o == SinkOutcome.Delivered));
        Assert.Equal(SinkOutcome.Rejected, result.Outcomes[40]);
        Assert.Contains("413", result.Reasons![40]);
        Assert.Equal(40, _fake.Documents().Count);
    }

    [Fact]
    public async Task Requests_go_round_robin_and_a_dead_node_is_failed_over()
    {
        await using var second = await FakeElasticsearch.StartAsync();
        await using (var sink = Sink([_fake.Url, second.Url]))
        {
            await sink.OpenAsync(CancellationToken.None);
            for (var i = 0; i < 4; i++) await WriteAllDelivered(sink, Records(i * 10, 10));
        }
        Assert.Equal(2, _fake.BulkRequests.Count);
        Assert.Equal(2, second.BulkRequests.Count);

        await using (var sink = Sink([ClosedPortUrl(), _fake.Url]))
        {
            await sink.OpenAsync(CancellationToken.None);
            for (var i = 0; i < 3; i++) await WriteAllDelivered(sink, Records(100 + i * 10, 10));
            Assert.True((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
        }
        Assert.Equal(5, _fake.BulkRequests.Count);
    }

    [Fact]
    public async Task Health_follows_the_cluster_status()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        Assert.True((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
        _fake.ClusterStatus = "yellow";
        var yellow = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(yellow.Healthy, yellow.Detail);
        Assert.Contains("yellow", yellow.Detail);
        _fake.ClusterStatus = "red";
        var red = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.False(red.Healthy);
        Assert.Contains("red", red.Detail);
    }

    [Fact]
    public async Task A_cluster_down_at_start_does_not_stop_the_sink_from_opening()
    {
        await using var sink = Sink([ClosedPortUrl()]);
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync(Records(0, 5), CancellationToken.None);
        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("no node answered", result.Reasons![0]);
    }

    [Fact]
    public async Task An_event_whose_ts_is_no_date_is_rejected()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync([new SinkRecord(Topic, 0, 0, Event(0, ts: long.MaxValue)), .. Records(1, 2)], CancellationToken.None);
        Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered, SinkOutcome.Delivered], result.Outcomes);
        Assert.Contains("is not a date", result.Reasons![0]);
    }

    [Fact]
    public async Task Flush_is_a_no_op_because_an_acknowledged_bulk_is_durable()
    {
        await using var sink = Sink(_fake);
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 5));
        var before = _fake.Requests;
        await sink.FlushAsync(CancellationToken.None);
        Assert.Equal(before, _fake.Requests);
    }
}
