using System.Diagnostics;
using System.Globalization;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.ClickHouse;

[Trait("Category", TestCategories.Integration)]
public sealed class ClickHouseSinkTests : IAsyncLifetime
{
    private const string Topic = "nwdp.logs.web";
    private static readonly long TenOClock = new DateTimeOffset(2024, 3, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private readonly string _table = ClickHouseServer.UniqueTable("sink");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClickHouseServer.QueryAsync($"DROP TABLE IF EXISTS `{_table}`");

    private ClickHouseSink Sink(TimeSpan? timeout = null, bool createTable = true, string? user = null, string? password = null) =>
        new(new ClickHouseSinkOptions
        {
            Url = ClickHouseServer.Url,
            Table = _table,
            CreateTable = createTable,
            RequestTimeout = timeout ?? ClickHouseSinkOptions.DefaultRequestTimeout,
            User = user,
            Password = password,
        });

    private static LogEvent Event(long offset, string? message = null, IReadOnlyDictionary<string, string>? attributes = null) => new()
    {
        Ts = TenOClock + offset - 5,
        SystemTs = TenOClock + offset,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Version = "2.1.0",
        Level = "info",
        Message = message ?? $"message {offset}",
        Attributes = attributes ?? new Dictionary<string, string> { ["user"] = "4711", ["offset"] = offset.ToString(CultureInfo.InvariantCulture) },
        Lineage = new Lineage("node-3", 500 + offset),
    };

    private static List<SinkRecord> Records(long from, int count, int partition = 0) =>
        Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, partition, from + i, Event(from + i))).ToList();

    private async Task<long> CountAsync(bool final) =>
        long.Parse((await ClickHouseServer.QueryAsync($"SELECT count() FROM `{_table}`{(final ? " FINAL" : "")}")).Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task Creates_the_table_as_a_ReplacingMergeTree_ordered_by_topic_partition_offset()
    {
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        await sink.OpenAsync(CancellationToken.None); // IF NOT EXISTS: a second open changes nothing

        var create = await ClickHouseServer.QueryAsync($"SHOW CREATE TABLE `{_table}`");
        Assert.Contains("ENGINE = ReplacingMergeTree", create);
        Assert.Matches(@"ORDER BY \(`?topic`?, `?partition`?, `?offset`?\)", create);
        var columns = (await ClickHouseServer.RowsAsync($"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{_table}'"))
            .Select(r => (r.GetProperty("name").GetString(), r.GetProperty("type").GetString())).ToList();
        Assert.Equal(
        [
            ("date", "Date"), ("ts", "Int64"), ("system_ts", "Int64"), ("host", "String"), ("ip", "String"), ("process", "String"),
            ("type", "String"), ("version", "String"), ("level", "String"), ("message", "String"),
            ("attributes.key", "Array(String)"), ("attributes.value", "Array(String)"), ("lineage_ingress_node", "String"),
            ("lineage_source_seq", "Int64"), ("topic", "String"), ("partition", "Int32"), ("offset", "Int64"), ("lineage_sender", "String"),
        ], columns);
    }

    [Fact]
    public async Task A_table_made_before_lineage_sender_gets_it_at_open_and_keeps_its_rows()
    {
        // The table as the first release made it: every column but lineage_sender.
        await using (var first = Sink())
            await ClickHouseServer.QueryAsync(first.CreateTableSql.Replace(", " + ClickHouseRows.SenderColumn, "", StringComparison.Ordinal));
        await using (var old = Sink(createTable: false))
        {
            // Left to a DBA (create-table = off): refused at open, naming the statement, since every insert would fail.
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => old.OpenAsync(CancellationToken.None));
            Assert.Contains(old.AddSenderSql, refused.Message, StringComparison.Ordinal);
        }
        await ClickHouseServer.QueryAsync($"INSERT INTO `{_table}` (date, ts, topic, partition, offset) VALUES ('2024-03-05', 1, '{Topic}', 0, 0)");

        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var keyed = Records(1, 2).Select(r => r with { Event = r.Event with { Lineage = r.Event.Lineage with { Sender = "edge" } } }).ToList();
        Assert.True((await sink.WriteAsync(keyed, CancellationToken.None)).IsAllDelivered);

        var rows = await ClickHouseServer.RowsAsync($"SELECT offset, lineage_sender FROM `{_table}` FINAL ORDER BY offset");
        Assert.Equal([(0L, ""), (1L, "edge"), (2L, "edge")], rows.Select(r => (ClickHouseServer.Int64(r.GetProperty("offset")), r.GetProperty("lineage_sender").GetString())));
    }

    [Fact]
    public async Task Every_field_reads_back_as_written()
    {
        var odd = "quotes \" backslash \\ newline \n tab \t nul \u0001 ünïcode 😀 €";
        var batch = new List<SinkRecord>
        {
            new(Topic, 2, 40, Event(40, odd, new Dictionary<string, string> { ["k \"1\""] = odd, ["empty"] = "" })),
            new(Topic, 2, 41, Event(41, attributes: LogEvent.NoAttributes) with { Lineage = new Lineage("node-3", 541, "billing-key") }),
        };
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        Assert.True((await sink.WriteAsync(batch, CancellationToken.None)).IsAllDelivered);

        var rows = await ClickHouseServer.RowsAsync($"SELECT * FROM `{_table}` FINAL ORDER BY offset");
        Assert.Equal(2, rows.Count);
        for (var i = 0; i < 2; i++)
        {
            var (r, e) = (rows[i], batch[i].Event);
            Assert.Equal("2024-03-05", r.GetProperty("date").GetString());
            Assert.Equal(e.Ts, ClickHouseServer.Int64(r.GetProperty("ts")));
            Assert.Equal(e.SystemTs, ClickHouseServer.Int64(r.GetProperty("system_ts")));
            Assert.Equal([e.Host, e.Ip, e.Process, e.Type, e.Version, e.Level, e.Message],
                new[] { "host", "ip", "process", "type", "version", "level", "message" }.Select(n => r.GetProperty(n).GetString()));
            var keys = r.GetProperty("attributes.key").EnumerateArray().Select(k => k.GetString()!).ToList();
            var values = r.GetProperty("attributes.value").EnumerateArray().Select(v => v.GetString()!).ToList();
            Assert.Equal(e.Attributes.OrderBy(a => a.Key), keys.Zip(values, KeyValuePair.Create).OrderBy(a => a.Key));
            Assert.Equal(e.Lineage.IngressNode, r.GetProperty("lineage_ingress_node").GetString());
            Assert.Equal(e.Lineage.SourceSeq, ClickHouseServer.Int64(r.GetProperty("lineage_source_seq")));
            Assert.Equal(e.Lineage.Sender ?? "", r.GetProperty("lineage_sender").GetString());
            Assert.Equal((Topic, 2, batch[i].Offset), (r.GetProperty("topic").GetString(), r.GetProperty("partition").GetInt32(), ClickHouseServer.Int64(r.GetProperty("offset"))));
        }
    }

    [Fact]
    public async Task A_replay_is_merged_away_FINAL_at_once_and_OPTIMIZE_on_disk()
    {
        await using (var sink = Sink())
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(0, 100), CancellationToken.None)).IsAllDelivered);
        }
        await using (var sink = Sink())
        {
            await sink.OpenAsync(CancellationToken.None);
            Assert.True((await sink.WriteAsync(Records(50, 100), CancellationToken.None)).IsAllDelivered);
        }

        Assert.Equal(150, await CountAsync(final: true));
        await ClickHouseServer.QueryAsync($"OPTIMIZE TABLE `{_table}` FINAL");
        Assert.Equal(150, await CountAsync(final: false));
    }

    [Fact]
    public async Task Bisects_a_batch_to_the_rows_the_server_refuses_and_rejects_only_those_with_its_message()
    {
        var batch = Records(0, 200);
        foreach (var bad in new[] { 3, 117, 118 }) batch[bad] = batch[bad] with { Event = Event(bad, "lone \uD800 surrogate") };
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);

        var result = await sink.WriteAsync(batch, CancellationToken.None);

        Assert.Equal([3, 117, 118], result.Outcomes.Select((o, i) => (o, i)).Where(x => x.o == SinkOutcome.Rejected).Select(x => x.i));
        Assert.Equal(197, result.Outcomes.Count(o => o == SinkOutcome.Delivered));
        Assert.Contains("code 25", result.Reasons![3]);
        Assert.Contains("surrogate", result.Reasons[3]);
        Assert.Equal(197, await CountAsync(final: true));
    }

    [Fact]
    public async Task A_missing_table_errors_the_batch_rather_than_rejecting_it()
    {
        await using var sink = Sink(createTable: false);
        await sink.OpenAsync(CancellationToken.None);

        var result = await sink.WriteAsync(Records(0, 10), CancellationToken.None);

        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("code 60", result.Reasons![0]);
    }

    [Fact]
    public async Task Rejects_a_system_ts_no_Date_column_can_hold_without_asking_the_server()
    {
        await using var sink = Sink();
        await sink.OpenAsync(CancellationToken.None);
        var batch = Records(0, 3);
        batch[1] = batch[1] with { Event = Event(1) with { SystemTs = -1 } };

        var result = await sink.WriteAsync(batch, CancellationToken.None);

        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.Contains("system_ts", result.Reasons![1]);
        Assert.Equal(2, await CountAsync(final: true));
    }

    [Fact]
    public async Task A_server_that_stops_answering_errors_the_batch_and_the_retry_after_it_resumes_leaves_no_duplicate()
    {
        await using var sink = Sink(timeout: TimeSpan.FromSeconds(1));
        await sink.OpenAsync(CancellationToken.None);
        var pid = ClickHouseServer.ProcessId;
        SinkWriteResult frozen;
        Signal("STOP", pid);
        try
        {
            frozen = await sink.WriteAsync(Records(0, 50), CancellationToken.None);
        }
        finally
        {
            Signal("CONT", pid);
        }
        Assert.All(frozen.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("request-timeout", frozen.Reasons![0]);

        // The frozen INSERT may still run once the server resumes: the retry's rows have the same key.
        Assert.True((await sink.WriteAsync(Records(0, 50), CancellationToken.None)).IsAllDelivered);
        Assert.Equal(50, await CountAsync(final: true));
    }

    [Fact]
    public async Task Health_reports_a_wrong_password_and_passes_with_the_right_one()
    {
        await using (var wrong = Sink(user: "nwdp", password: "wrong"))
        {
            var health = await wrong.CheckHealthAsync(CancellationToken.None);
            Assert.False(health.Healthy);
            Assert.Contains("401", health.Detail);
        }
        await using var right = Sink(user: "nwdp", password: "nwdp-secret");
        var ok = await right.CheckHealthAsync(CancellationToken.None);
        Assert.True(ok.Healthy, ok.Detail);
        await right.OpenAsync(CancellationToken.None);
        Assert.True((await right.WriteAsync(Records(0, 5), CancellationToken.None)).IsAllDelivered);
    }

    [Fact]
    public void Options_read_from_hocon_with_defaults_and_named_errors()
    {
        var defaults = ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://ch:8123/\""));
        Assert.Equal((new Uri("http://ch:8123/"), "default", "nwdp_logs", (string?)null, (string?)null, true, TimeSpan.FromSeconds(30)),
            (defaults.Url, defaults.Database, defaults.Table, defaults.User, defaults.Password, defaults.CreateTable, defaults.RequestTimeout));
        var set = ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch",
            "url = \"https://ch:8443/\", database = logs, table = events_v2, user = nwdp, password = s3cret, create-table = off, request-timeout = 5s"));
        Assert.Equal(("logs", "events_v2", "nwdp", "s3cret", false, TimeSpan.FromSeconds(5)),
            (set.Database, set.Table, set.User, set.Password, set.CreateTable, set.RequestTimeout));

        Assert.Equal("nwdp.sinks.ch.url", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", ""))).Key);
        Assert.Equal("nwdp.sinks.ch.url", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"ftp://x/\""))).Key);
        Assert.Equal("nwdp.sinks.ch.table", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://x/\", table = \"a;drop\""))).Key);
        Assert.Equal("nwdp.sinks.ch.database", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://x/\", database = \"1db\""))).Key);
        Assert.Equal("nwdp.sinks.ch.password", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://x/\", password = p"))).Key);
        Assert.Equal("nwdp.sinks.ch.request-timeout", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://x/\", request-timeout = soon"))).Key);
        Assert.Equal("nwdp.sinks.ch.create-table", Assert.Throws<SinkConfigException>(() => ClickHouseSinkOptions.FromSection(SinkSection.Parse("ch", "url = \"http://x/\", create-table = maybe"))).Key);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
