using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>What is particular to the HBase sink: row keys, cells, the table, batching, bisection, replays, failures.</summary>
public sealed class HBaseSinkTests : IAsyncLifetime
{
    private const string Topic = "nwdp.logs.web";
    private const string Table = "logs";
    private FakeHBaseRest _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeHBaseRest.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private static LogEvent Event(long ts, string host = "web-1", string message = "hello", long seq = 1) => new()
    {
        Ts = ts,
        SystemTs = ts + 5,
        Host = host,
        Ip = "10.1.2.3",
        Process = "nginx",
        Type = "web",
        Version = "2",
        Level = "warn",
        Message = message,
        Attributes = new Dictionary<string, string> { ["status"] = "502", ["path"] = "/api" },
        Lineage = new Lineage("node-7", seq),
    };

    private static List<SinkRecord> Records(int count, long firstOffset = 0, int partition = 0) =>
        Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, partition, firstOffset + i, Event(1_764_300_000_000 + firstOffset + i, message: $"m{firstOffset + i}", seq: firstOffset + i))).ToList();

    private HBaseSink Sink(Func<HBaseSinkOptions, HBaseSinkOptions>? change = null)
    {
        var options = HBaseTestKit.Options(_fake, Table);
        return new HBaseSink(change is null ? options : change(options));
    }

    private static async Task<SinkWriteResult> WriteAsync(HBaseSink sink, IReadOnlyList<SinkRecord> batch)
    {
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
        return result;
    }

    [Fact]
    public async Task The_row_key_follows_the_template_with_reverse_ts_zero_padded()
    {
        await using var sink = Sink();
        var result = await WriteAsync(sink, [new SinkRecord(Topic, 3, 42, Event(1_764_300_000_123))]);

        Assert.True(result.IsAllDelivered);
        var row = Assert.Single(_fake.ReadRows(Table));
        Assert.Equal($"web|{long.MaxValue - 1_764_300_000_123:D19}|web-1|{Topic}|3|0000000000000000042", row.KeyText);
        Assert.Equal("9223370272554775684", (long.MaxValue - 1_764_300_000_123).ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Rows_of_one_type_and_host_sort_newest_first()
    {
        await using var sink = Sink();
        // Timestamps of different digit counts and out of order: byte order must still be newest first.
        long[] stamps = [5, 1_764_300_000_000, 999, 1_764_300_000_001, 10_000_000_000, 0];
        var batch = stamps.Select((ts, i) => new SinkRecord(Topic, 0, i, Event(ts))).ToList();
        Assert.True((await WriteAsync(sink, batch)).IsAllDelivered);

        var stored = _fake.ReadRows(Table).Select(r => long.Parse(r.Latest("e:ts")!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(stamps.OrderDescending(), stored);
    }

    [Fact]
    public async Task Every_field_is_one_documented_cell_with_the_event_ts_as_cell_timestamp()
    {
        await using var sink = Sink();
        var e = Event(1_764_300_000_500, message: "GET /api 502 ünïcode");
        Assert.True((await WriteAsync(sink, [new SinkRecord(Topic, 2, 77, e)])).IsAllDelivered);

        var row = Assert.Single(_fake.ReadRows(Table));
        var expected = new Dictionary<string, string>
        {
            ["e:ts"] = "1764300000500",
            ["e:system_ts"] = "1764300000505",
            ["e:host"] = "web-1",
            ["e:ip"] = "10.1.2.3",
            ["e:process"] = "nginx",
            ["e:type"] = "web",
            ["e:version"] = "2",
            ["e:level"] = "warn",
            ["e:msg"] = "GET /api 502 ünïcode",
            ["e:ingress"] = "node-7",
            ["e:source_seq"] = "1",
            ["e:a.status"] = "502",
            ["e:a.path"] = "/api",
            ["e:topic"] = Topic,
            ["e:partition"] = "2",
            ["e:offset"] = "77",
        };
        Assert.Equal(expected.OrderBy(c => c.Key), row.Columns.Select(c => KeyValuePair.Create(c.Key, row.Latest(c.Key)!)).OrderBy(c => c.Key));
        Assert.All(row.Columns.Values, versions => Assert.Equal(1_764_300_000_500, Assert.Single(versions).Timestamp));
    }

    [Fact]
    public async Task A_written_row_reads_back_through_the_rest_api_as_a_base64_cellset()
    {
        await using var sink = Sink();
        Assert.True((await WriteAsync(sink, [new SinkRecord(Topic, 0, 9, Event(1_764_300_000_000, message: "over REST"))])).IsAllDelivered);
        var key = Assert.Single(_fake.ReadRows(Table)).KeyText;

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_fake.BaseUrl, $"{Table}/{Uri.EscapeDataString(key)}"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var row = Assert.Single(doc.RootElement.GetProperty("Row").EnumerateArray().ToList());
        Assert.Equal(key, Encoding.UTF8.GetString(row.GetProperty("key").GetBytesFromBase64()));
        var cells = row.GetProperty("Cell").EnumerateArray().ToDictionary(
            c => Encoding.UTF8.GetString(c.GetProperty("column").GetBytesFromBase64()),
            c => Encoding.UTF8.GetString(c.GetProperty("$").GetBytesFromBase64()));
        Assert.Equal("over REST", cells["e:msg"]);
        Assert.Equal("9", cells["e:offset"]);
    }

    [Fact]
    public async Task A_missing_table_is_created_once_with_the_column_family()
    {
        await using var sink = Sink(o => o with { Namespace = "ops", ColumnFamily = "d" });
        Assert.False(_fake.TableExists("ops:" + Table));

        Assert.True((await WriteAsync(sink, Records(10))).IsAllDelivered);
        Assert.True((await sink.WriteAsync(Records(10, 10), CancellationToken.None)).IsAllDelivered);

        Assert.Equal(["d"], _fake.Families("ops:" + Table));
        Assert.Equal(1, _fake.SchemaCreates);
        Assert.Equal(20, _fake.ReadRows("ops:" + Table).Count);
        Assert.All(_fake.ReadRows("ops:" + Table), r => Assert.True(r.Columns.Keys.All(c => c.StartsWith("d:", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task With_create_table_off_a_missing_table_leaves_the_batch_errored_with_the_reason()
    {
        await using var sink = Sink(o => o with { CreateTable = false });
        var result = await WriteAsync(sink, Records(5));

        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("create-table is off", result.Reasons![0], StringComparison.Ordinal);
        Assert.False(_fake.TableExists(Table));
        Assert.Equal(0, _fake.WriteRequests);

        _fake.CreateTable(Table, 1, "e");
        Assert.True((await sink.WriteAsync(Records(5), CancellationToken.None)).IsAllDelivered);
    }

    [Fact]
    public async Task An_existing_table_without_the_family_is_reported_not_written()
    {
        _fake.CreateTable(Table, 1, "other");
        await using var sink = Sink();
        var result = await WriteAsync(sink, Records(3));

        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("no column family 'e'", result.Reasons![0], StringComparison.Ordinal);
        Assert.Equal(0, _fake.WriteRequests);
    }

    [Fact]
    public async Task A_batch_is_sent_in_puts_of_at_most_max_rows_per_request()
    {
        await using var sink = Sink(o => o with { MaxRowsPerRequest = 1000 });
        Assert.True((await WriteAsync(sink, Records(2500))).IsAllDelivered);

        Assert.Equal([1000, 1000, 500], _fake.RowsPerWrite);
        Assert.Equal(2500, _fake.ReadRows(Table).Count);
    }

    [Fact]
    public async Task A_replay_rewrites_the_same_cell_versions_and_adds_no_row_or_version()
    {
        // Keep up to 5 versions, so an extra version from a replay would show.
        _fake.CreateTable(Table, 5, "e");
        var batch = Records(300);
        await using (var sink = Sink()) Assert.True((await WriteAsync(sink, batch)).IsAllDelivered);
        var before = _fake.ReadRows(Table);

        await using (var sink = Sink()) Assert.True((await WriteAsync(sink, batch.Skip(100).Concat(Records(50, 300)).ToList())).IsAllDelivered);

        var after = _fake.ReadRows(Table);
        Assert.Equal(350, after.Count);
        Assert.All(after, r => Assert.All(r.Columns.Values, v => Assert.Single(v)));
        var afterByKey = after.ToDictionary(r => r.KeyText);
        Assert.All(before, b => Assert.Equal(b.Latest("e:msg"), afterByKey[b.KeyText].Latest("e:msg")));
    }

    [Fact]
    public async Task A_write_applied_but_unanswered_is_errored_and_its_retry_leaves_one_version()
    {
        _fake.CreateTable(Table, 5, "e");
        await using var sink = Sink();
        _fake.DropNextWrites(1, afterApplying: true);
        var first = await WriteAsync(sink, Records(20));
        Assert.All(first.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("unreachable", first.Reasons![0], StringComparison.Ordinal);

        Assert.True((await sink.WriteAsync(Records(20), CancellationToken.None)).IsAllDelivered);
        var rows = _fake.ReadRows(Table);
        Assert.Equal(20, rows.Count);
        Assert.All(rows, r => Assert.All(r.Columns.Values, v => Assert.Single(v)));
    }

    [Fact]
    public async Task A_400_is_bisected_down_to_the_refused_rows_which_alone_are_rejected()
    {
        _fake.MaxCellSize = 4096;
        await using var sink = Sink(o => o with { MaxRowsPerRequest = 64 });
        var batch = Records(200);
        int[] bad = [10, 77, 78, 199];
        foreach (var i in bad) batch[i] = batch[i] with { Event = batch[i].Event with { Message = new string('x', 5000) } };

        var result = await WriteAsync(sink, batch);

        for (var i = 0; i < batch.Count; i++)
            Assert.Equal(bad.Contains(i) ? SinkOutcome.Rejected : SinkOutcome.Delivered, result.Outcomes[i]);
        Assert.All(bad, i => Assert.Contains("KeyValue size too large", result.Reasons![i], StringComparison.Ordinal));
        Assert.Equal(196, _fake.ReadRows(Table).Count);
        // Puts of 64, 64, 64 and 8 rows; a put holding k bad rows costs at most 1 + 2 * k * depth requests
        // (depth log2(64) = 6, log2(8) = 3): 13 + 25 + 1 + 7.
        Assert.InRange(_fake.WriteRequests, 4 + 2, 46);
    }

    [Fact]
    public async Task A_413_splits_the_put_in_halves_that_fit()
    {
        await using var sink = Sink();
        await WriteAsync(sink, Records(1));
        _fake.FailNextWrites(1, 413);

        var result = await sink.WriteAsync(Records(100, 1), CancellationToken.None);

        Assert.True(result.IsAllDelivered);
        Assert.Equal([1, 50, 50], _fake.RowsPerWrite);
        Assert.Equal(101, _fake.ReadRows(Table).Count);
    }

    [Fact]
    public async Task Rows_known_to_be_too_large_are_rejected_without_being_sent()
    {
        await using var sink = Sink(o => o with { MaxCellSize = 1024 });
        var batch = Records(3);
        batch[1] = batch[1] with { Event = batch[1].Event with { Message = new string('y', 2000) } };
        batch[2] = batch[2] with { Event = batch[2].Event with { Ts = -1 } };

        var result = await WriteAsync(sink, batch);

        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("e:msg", result.Reasons![1], StringComparison.Ordinal);
        Assert.Contains("max-cell-size", result.Reasons![1], StringComparison.Ordinal);
        Assert.Contains("negative", result.Reasons![2], StringComparison.Ordinal);
        Assert.Equal([1], _fake.RowsPerWrite);
    }

    [Fact]
    public async Task A_503_errors_the_rest_of_the_batch_without_sending_it()
    {
        await using var sink = Sink(o => o with { MaxRowsPerRequest = 100 });
        await WriteAsync(sink, Records(1)); // the table exists now
        var requestsBefore = _fake.WriteRequests;
        _fake.FailNextWrites(1, 503);

        var result = await sink.WriteAsync(Records(500, 1), CancellationToken.None);

        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("503", result.Reasons![0], StringComparison.Ordinal);
        Assert.Contains("NotServingRegionException", result.Reasons![499], StringComparison.Ordinal);
        Assert.Equal(requestsBefore + 1, _fake.WriteRequests);
        Assert.Single(_fake.ReadRows(Table));
    }

    [Fact]
    public async Task A_dropped_connection_is_errored_and_the_next_write_goes_through()
    {
        await using var sink = Sink();
        await WriteAsync(sink, Records(1));
        _fake.DropNextWrites(1);

        var failed = await sink.WriteAsync(Records(10, 1), CancellationToken.None);
        var retried = await sink.WriteAsync(Records(10, 1), CancellationToken.None);

        Assert.All(failed.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.True(retried.IsAllDelivered);
        Assert.Equal(11, _fake.ReadRows(Table).Count);
    }

    [Fact]
    public async Task A_table_dropped_under_the_sink_is_errored_then_created_again()
    {
        await using var sink = Sink();
        await WriteAsync(sink, Records(5));
        _fake.DropTable(Table);

        var failed = await sink.WriteAsync(Records(5, 5), CancellationToken.None);
        var retried = await sink.WriteAsync(Records(5, 5), CancellationToken.None);

        Assert.All(failed.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("404", failed.Reasons![0], StringComparison.Ordinal);
        Assert.True(retried.IsAllDelivered);
        Assert.Equal(2, _fake.SchemaCreates);
        Assert.Equal(5, _fake.ReadRows(Table).Count);
    }

    [Fact]
    public async Task Health_names_the_cluster_version_and_fails_on_a_503()
    {
        await using var sink = Sink();
        var healthy = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(healthy.Healthy, healthy.Detail);
        Assert.Contains(FakeHBaseRest.Version, healthy.Detail, StringComparison.Ordinal);

        _fake.FailNextRequests(1, 503);
        var sick = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.False(sick.Healthy);
        Assert.Contains("503", sick.Detail, StringComparison.Ordinal);
    }
}
