using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Host.Search;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Search;

/// <summary>DuckDB for real over files the files and Hive sinks wrote (their own writer code, not hand-made files).</summary>
public sealed class DuckDbSearchTests : IDisposable
{
    /// <summary>2024-03-05T10:00:00Z.</summary>
    internal static readonly long Ten = new DateTimeOffset(2024, 3, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    internal const long Hour = 3_600_000;

    internal static readonly SearchOptions Options = new() { DefaultLimit = 10, MaxLimit = 100, TsSlack = TimeSpan.FromMinutes(10) };

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root => Path.Combine(_dir.Path, "files");

    internal static LogEvent Event(string type, long systemTs, long seq, string msg, string level = "info", string host = "web-01") => new()
    {
        Ts = systemTs - 1_000,
        SystemTs = systemTs,
        Host = host,
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = type,
        Version = "1.0",
        Level = level,
        Message = msg,
        Attributes = new Dictionary<string, string> { ["user_id"] = (4700 + seq).ToString(System.Globalization.CultureInfo.InvariantCulture), ["path"] = "/api/orders" },
        Lineage = new Lineage("node-1", seq),
    };

    /// <summary>Writes the events through the files sink (NDJSON), offsets in order per topic.</summary>
    private async Task WriteFilesAsync(IEnumerable<LogEvent> events, int partition = 0)
    {
        await using var sink = new FilesSink(new FilesSinkOptions { Directory = Root, Fsync = false });
        await sink.OpenAsync(CancellationToken.None);
        var offsets = new Dictionary<string, long>();
        var batch = events.Select(e =>
        {
            var topic = TopicNames.ForType(e.Type);
            var offset = offsets[topic] = offsets.GetValueOrDefault(topic) + 1;
            return new SinkRecord(topic, partition, offset, e);
        }).ToList();
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered);
        await sink.FlushAsync(CancellationToken.None);
    }

    private SearchService Files() => new(Options, new DuckDbSearch("files", PartTree.FilesNdjson, Root, Options));

    internal static SearchRequest Request(string? q = null, string? type = null, long? from = null, long? to = null, int? limit = null, string? cursor = null) =>
        SearchRequest.Parse(name => name switch
        {
            "q" => q,
            "type" => type,
            "from" => from?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "to" => to?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "limit" => limit?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "cursor" => cursor,
            _ => null,
        }, Options, DateTimeOffset.UtcNow);

    internal static IEnumerable<LogEvent> Mixed() =>
    [
        Event("web", Ten + 1_000, 1, "GET /api/orders 200 in 12 ms"),
        Event("web", Ten + 2_000, 2, "Connection reset by peer while reading", "error", "web-02"),
        Event("web", Ten + Hour + 5_000, 3, "GET /health 200"),
        Event("api", Ten + 3_000, 4, "order 77 failed: connection reset", "error"),
        Event("api", Ten + Hour + 6_000, 5, "timeout talking to db-1", "warn"),
        Event("web", Ten + 2 * Hour + 1_000, 6, "resetting cache"),
    ];

    [Fact]
    public async Task Words_phrases_fields_and_attributes_find_events_newest_first_as_the_files_sink_stored_them()
    {
        await WriteFilesAsync(Mixed());
        using var search = Files();

        var all = await search.SearchAsync(Request(), CancellationToken.None);
        Assert.Equal(("duckdb", "files", (string?)null), (all.Backend, all.Sink, all.Next));
        Assert.Equal(Mixed().Select(e => e.Ts).OrderDescending(), all.Hits.Select(h => h.Ts));
        Assert.Equal(["resetting cache", "timeout talking to db-1", "GET /health 200"], all.Hits.Take(3).Select(h => h.Msg));

        var reset = await search.SearchAsync(Request("\"connection reset\""), CancellationToken.None);
        Assert.Equal(["order 77 failed: connection reset", "Connection reset by peer while reading"], reset.Hits.Select(h => h.Msg));
        var hit = reset.Hits[1];
        Assert.Equal(("web", "web-02", "checkout", "error", "2024-03-05T10:00:01.000Z"), (hit.Type, hit.Host, hit.Process, hit.Level, hit.Time));
        Assert.Equal(new Dictionary<string, string> { ["user_id"] = "4702", ["path"] = "/api/orders" }, hit.Attributes);

        // Whole words only: "reset" is not "resetting".
        Assert.Equal(2, (await search.SearchAsync(Request("reset"), CancellationToken.None)).Hits.Count);
        Assert.Equal(["resetting cache"], (await search.SearchAsync(Request("resetting"), CancellationToken.None)).Hits.Select(h => h.Msg));
        Assert.Equal(["order 77 failed: connection reset"], (await search.SearchAsync(Request("reset level:error -host:web-02"), CancellationToken.None)).Hits.Select(h => h.Msg));
        Assert.Equal(["timeout talking to db-1", "order 77 failed: connection reset"],
            (await search.SearchAsync(Request("db-1 OR attributes.user_id:4704"), CancellationToken.None)).Hits.Select(h => h.Msg));
        Assert.Equal(["GET /health 200", "GET /api/orders 200 in 12 ms"], (await search.SearchAsync(Request("GET", type: "w?b"), CancellationToken.None)).Hits.Select(h => h.Msg));
        Assert.Empty((await search.SearchAsync(Request("\"x'); DROP TABLE t; --\""), CancellationToken.None)).Hits);
    }

    [Fact]
    public async Task Directories_are_pruned_by_type_and_hour_before_DuckDB_sees_a_file()
    {
        await WriteFilesAsync(Mixed());
        // A file DuckDB cannot read, in an hour and type a search must not open.
        var pruned = Path.Combine(Root, TopicNames.ForType("web"), "2024", "03", "05", "13");
        Directory.CreateDirectory(pruned);
        await File.WriteAllTextAsync(Path.Combine(pruned, "nwdp.logs.web-p0000-o00000000000000000100-o00000000000000000101.ndjson"), "{not json\n");
        var exact = Options with { TsSlack = TimeSpan.Zero };
        var backend = new DuckDbSearch("files", PartTree.FilesNdjson, Root, exact);
        using var search = new SearchService(exact, backend);

        var elevenOClock = Request(type: "web", from: Ten + Hour, to: Ten + 2 * Hour);
        var files = backend.Files(elevenOClock);
        Assert.Equal([Path.Combine("nwdp.logs.web", "2024", "03", "05", "11")], files.Select(f => Path.GetRelativePath(Root, Path.GetDirectoryName(f)!)).Distinct());
        Assert.Equal(["GET /health 200"], (await search.SearchAsync(elevenOClock, CancellationToken.None)).Hits.Select(h => h.Msg));

        // ts-slack widens the hours read: an event whose ts is 10:59:59 but arrived at 11:00:00.5 is in the hour-11 directory.
        var late = Event("web", Ten + Hour + 500, 9, "late by a second");
        late = late with { Ts = Ten + Hour - 1_000 };
        await WriteFilesAsync([late], partition: 1);
        var tenOClock = Request(type: "web", from: Ten, to: Ten + Hour);
        Assert.DoesNotContain("late by a second", (await search.SearchAsync(tenOClock, CancellationToken.None)).Hits.Select(h => h.Msg));
        var slack = Options with { TsSlack = TimeSpan.FromMinutes(10) };
        using var widened = new SearchService(slack, new DuckDbSearch("files", PartTree.FilesNdjson, Root, slack));
        Assert.Equal("late by a second", (await widened.SearchAsync(tenOClock, CancellationToken.None)).Hits[0].Msg);
        Assert.Equal(3, new DuckDbSearch("files", PartTree.FilesNdjson, Root, slack).Files(tenOClock).Count);

        Assert.Equal(["timeout talking to db-1", "order 77 failed: connection reset"], (await search.SearchAsync(Request(type: "api"), CancellationToken.None)).Hits.Select(h => h.Msg));
        // Without from/to every hour is read, the broken file too: DuckDB fails on it, so pruning is what kept it out above.
        var broken = await Assert.ThrowsAsync<SearchBackendException>(() => search.SearchAsync(Request(type: "web"), CancellationToken.None));
        Assert.Contains("DuckDB could not search sink 'files'", broken.Message);
    }

    [Fact]
    public async Task Pages_follow_the_cursor_through_runs_of_equal_timestamps_without_losing_or_repeating_an_event()
    {
        // 47 events, in runs of up to 7 that share ts, system_ts and seq (several senders in one millisecond).
        var events = Enumerable.Range(0, 47).Select(i => Event("web", Ten + i / 7 * 1000, i / 7, $"event {i}")).ToList();
        await WriteFilesAsync(events);
        using var search = Files();

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await search.SearchAsync(Request(limit: 5, cursor: cursor), CancellationToken.None);
            Assert.True(page.Hits.Count == 5 || page.Next is null);
            seen.AddRange(page.Hits.Select(h => h.Msg));
            cursor = page.Next;
            pages++;
        } while (cursor is not null);

        Assert.Equal(10, pages);
        Assert.Equal(events.Select(e => e.Message).Order(), seen.Order());
        var all = await search.SearchAsync(Request(limit: 100), CancellationToken.None);
        Assert.Equal(all.Hits.Select(h => h.Msg), seen);
    }

    [Fact]
    public async Task More_files_than_max_files_after_pruning_is_refused_naming_a_parameter()
    {
        await WriteFilesAsync(Mixed());
        var tight = Options with { MaxFiles = 2, TsSlack = TimeSpan.Zero };
        using var search = new SearchService(tight, new DuckDbSearch("files", PartTree.FilesNdjson, Root, tight));
        var e = await Assert.ThrowsAsync<SearchRequestException>(() => search.SearchAsync(Request(), CancellationToken.None));
        Assert.Contains("nwdp.search.max-files", e.Message);
        Assert.Single((await search.SearchAsync(Request(type: "web", from: Ten + Hour, to: Ten + 2 * Hour), CancellationToken.None)).Hits);
    }

    [Fact]
    public async Task The_Hive_sinks_parquet_files_are_searched_the_same_way()
    {
        var root = Path.Combine(_dir.Path, "hive");
        await using (var hive = new HiveSink(new HiveSinkOptions { Directory = root, Fsync = false }))
        {
            await hive.OpenAsync(CancellationToken.None);
            var offset = 0L;
            var result = await hive.WriteAsync(Mixed().Select(e => new SinkRecord(TopicNames.ForType(e.Type), 0, offset++, e)).ToList(), CancellationToken.None);
            Assert.True(result.IsAllDelivered);
            await hive.FlushAsync(CancellationToken.None);
        }
        var exact = Options with { TsSlack = TimeSpan.Zero };
        var backend = new DuckDbSearch("hive", PartTree.HiveParquet, root, exact);
        using var search = new SearchService(exact, backend);

        var reset = await search.SearchAsync(Request("\"connection reset\""), CancellationToken.None);
        Assert.Equal(["order 77 failed: connection reset", "Connection reset by peer while reading"], reset.Hits.Select(h => h.Msg));
        Assert.Equal(("api", "2024-03-05T10:00:02.000Z", "4704"), (reset.Hits[0].Type, reset.Hits[0].Time, reset.Hits[0].Attributes["user_id"]));
        Assert.Equal(["timeout talking to db-1"], (await search.SearchAsync(Request("level:warn", type: "api"), CancellationToken.None)).Hits.Select(h => h.Msg));
        var eleven = Request(type: "web", from: Ten + Hour, to: Ten + 2 * Hour);
        Assert.All(backend.Files(eleven), f => Assert.Contains(Path.Combine("type=web", "dt=2024-03-05", "hour=11"), f));
        Assert.Equal(["GET /health 200"], (await search.SearchAsync(eleven, CancellationToken.None)).Hits.Select(h => h.Msg));

        var page1 = await search.SearchAsync(Request(limit: 4), CancellationToken.None);
        var page2 = await search.SearchAsync(Request(limit: 4, cursor: page1.Next), CancellationToken.None);
        Assert.Equal(6, page1.Hits.Concat(page2.Hits).Select(h => h.Msg).Distinct().Count());
        Assert.Null(page2.Next);
    }

    [Fact]
    public async Task Typed_columns_of_the_Hive_sinks_files_are_searched_and_shown_as_attributes()
    {
        var root = Path.Combine(_dir.Path, "hive");
        var schema = Sinks.TypedWebSchemas.Compile(Sinks.TypedWebSchemas.V1);
        const string topic = "nwdp.logs.web";
        await using (var hive = new HiveSink(new HiveSinkOptions { Directory = root, Fsync = false }))
        {
            await hive.OpenAsync(CancellationToken.None);
            var typed = Event("web", Ten + 1_000, 1, "GET /api/orders") with
            {
                Attributes = new Dictionary<string, string> { ["status"] = "503", ["bytes"] = "10", ["latency_ms"] = "1.5", ["ratio"] = "0.5", ["path"] = "/api/orders" },
            };
            var result = await hive.WriteAsync(
            [
                Sinks.TypedWebSchemas.Record(schema, topic, 0, typed),
                new SinkRecord(topic, 0, 1, Event("web", Ten + 2_000, 2, "plain") with { Attributes = new Dictionary<string, string> { ["status"] = "200" } }),
            ], CancellationToken.None);
            Assert.True(result.IsAllDelivered, string.Join("; ", result.Reasons ?? []));
            await hive.FlushAsync(CancellationToken.None);
        }
        var exact = Options with { TsSlack = TimeSpan.Zero };
        using var search = new SearchService(exact, new DuckDbSearch("hive", PartTree.HiveParquet, root, exact));

        var hit = Assert.Single((await search.SearchAsync(Request("attributes.status:503"), CancellationToken.None)).Hits);
        Assert.Equal("GET /api/orders", hit.Msg);
        // The typed columns as text, the null optional (user) left out, the map's keys as they were.
        Assert.Equal(
            new Dictionary<string, string> { ["status"] = "503", ["bytes"] = "10", ["latency_ms"] = "1.5", ["ratio"] = "0.5", ["cached"] = "false", ["path"] = "/api/orders" }.OrderBy(a => a.Key),
            hit.Attributes.OrderBy(a => a.Key));
        // The untyped row of the type keeps its string attribute (the null column does not hide it).
        Assert.Equal("plain", Assert.Single((await search.SearchAsync(Request("attributes.status:200"), CancellationToken.None)).Hits).Msg);
    }

    [Fact]
    public async Task Cancelling_a_DuckDB_command_interrupts_a_query_that_runs_on_which_the_search_timeout_relies()
    {
        // What DuckDbSearch does on nwdp.search.timeout: command.Cancel() from the token's registration.
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"; // hours of work
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        using var registration = timeout.Token.Register(command.Cancel);
        var run = Task.Run(() => command.ExecuteScalar());
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.Same(run, finished); // not still running a minute later
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run); // what SearchService turns into 504
    }
}
