using NeverwinterDP.Actors.Stats;
using Xunit;
using Microsoft.Extensions.Time.Testing;

namespace NeverwinterDP.Tests.Stats;

public sealed class StatsStoreTests
{
    private static readonly DateTimeOffset Minute0 = new(2026, 11, 28, 21, 18, 0, TimeSpan.Zero);
    private static readonly long M0 = Minute0.ToUnixTimeMilliseconds();

    private static StatsRecord Flow(string node, string point, long lines, string type = "app", string? sink = null, long minute = 0, long published = 0) => new()
    {
        Node = node, Point = point, Sink = sink, Type = type, MinuteMs = minute == 0 ? M0 : minute, Minute = StatsRecord.FormatMinute(minute == 0 ? M0 : minute),
        Lines = lines, Bytes = lines * 10, PublishedMs = published,
    };

    private static StatsRecord Ingress(string node, string host, long normal, long error) => new()
    {
        Node = node, Point = StatsPoints.Ingress, Type = "app", Process = "web", Host = host, MinuteMs = M0, Minute = StatsRecord.FormatMinute(M0), Lines = normal + error,
        CategoryLines = StatsCategories.Names.ToDictionary(n => n, n => n == "normal" ? normal : n == "error" ? error : 0L),
        CategoryBytes = StatsCategories.Names.ToDictionary(n => n, n => n == "normal" ? normal * 10 : 0L),
    };

    [Fact]
    public void Stats_sum_the_nodes_and_the_newest_record_of_a_node_wins()
    {
        var clock = new FakeTimeProvider(Minute0.AddMinutes(2));
        var store = new StatsStore(new StatsOptions(), clock);
        store.Add(Ingress("n1", "h1", 5, 1));
        store.Add(Ingress("n1", "h1", 7, 1) with { PublishedMs = 1 });
        store.Add(Ingress("n2", "h1", 3, 0));
        store.Add(Ingress("n2", "h2", 2, 2));
        var rows = store.Stats(M0 - 1);
        Assert.Equal(["h1", "h2"], rows.Select(r => r.Host));
        Assert.Equal(10, rows[0].Lines["normal"]);
        Assert.Equal(1, rows[0].Lines["error"]);
        Assert.Equal(100, rows[0].Bytes["normal"]);
        Assert.Single(store.Stats(M0 - 1, host: "h2"));
        Assert.Empty(store.Stats(M0 - 1, type: "other"));
        Assert.Empty(store.Stats(M0 + 60_000));
    }

    [Fact]
    public void Audit_is_pending_until_the_minute_settled_then_ok_lost_or_duplicated_per_sink()
    {
        var clock = new FakeTimeProvider(Minute0.AddMinutes(1).AddSeconds(10));
        var store = new StatsStore(new StatsOptions { SettleTime = TimeSpan.FromMinutes(2) }, clock);
        store.Add(Flow("n1", StatsPoints.Accepted, 6));
        store.Add(Flow("n2", StatsPoints.Accepted, 4));
        store.Add(Flow("n1", StatsPoints.Bus, 10));
        store.Add(Flow("n1", StatsPoints.Delivered, 10, sink: "files"));
        store.Add(Flow("n2", StatsPoints.Delivered, 8, sink: "drop"));
        store.Add(Flow("n2", StatsPoints.Delivered, 12, sink: "dup"));
        var takesAll = new Dictionary<string, Func<string, bool>> { ["files"] = _ => true, ["es"] = t => t == "app", ["other"] = t => t == "db" };

        var row = Assert.Single(store.Audit(M0 - 1, takesAll));
        Assert.False(row.Settled);
        Assert.All(row.Sinks, s => Assert.Equal(AuditVerdicts.Pending, s.Verdict));

        clock.Advance(TimeSpan.FromMinutes(2));
        row = Assert.Single(store.Audit(M0 - 1, takesAll));
        Assert.True(row.Settled);
        Assert.Equal((10L, 10L), (row.Accepted, row.OnBus));
        Assert.Equal(
            [("drop", 8L, "lost"), ("dup", 12L, "duplicated"), ("es", 0L, "lost"), ("files", 10L, "ok")],
            row.Sinks.Select(s => (s.Sink, s.Delivered, s.Verdict)));

        // A late delivery changes the minute: pending again for a settle time, then ok.
        store.Add(Flow("n2", StatsPoints.Delivered, 10, sink: "drop", published: 1));
        Assert.Equal(AuditVerdicts.Pending, store.Audit(M0 - 1, takesAll)[0].Sinks.Single(s => s.Sink == "drop").Verdict);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(AuditVerdicts.Ok, store.Audit(M0 - 1, takesAll)[0].Sinks.Single(s => s.Sink == "drop").Verdict);
    }

    [Fact]
    public void Minutes_past_the_window_and_past_the_record_bound_are_evicted_oldest_first()
    {
        var clock = new FakeTimeProvider(Minute0.AddMinutes(1));
        var store = new StatsStore(new StatsOptions { Window = TimeSpan.FromMinutes(30), MaxStoredRecords = 3 }, clock);
        for (var i = 0; i < 3; i++) store.Add(Flow("n1", StatsPoints.Accepted, 1, minute: M0 + i * 60_000L));
        Assert.Equal(3, store.Count);
        store.Add(Flow("n1", StatsPoints.Accepted, 1, minute: M0 + 3 * 60_000L));
        Assert.Equal(3, store.Count);
        Assert.Equal([M0 + 60_000, M0 + 120_000, M0 + 180_000], store.Audit(0).Select(r => r.MinuteMs));
        clock.Advance(TimeSpan.FromMinutes(32));
        store.Add(Flow("n1", StatsPoints.Accepted, 1, minute: M0 + 30 * 60_000L));
        Assert.Equal([M0 + 120_000, M0 + 180_000, M0 + 30 * 60_000L], store.Audit(0).Select(r => r.MinuteMs));
        store.Add(Flow("n1", StatsPoints.Accepted, 1, minute: M0)); // older than the window: ignored
        Assert.Equal(3, store.Count);
    }

    [Fact]
    public async Task Counted_positions_keep_the_highest_of_any_node_per_sink_and_partition_and_are_not_counts()
    {
        var clock = new FakeTimeProvider(Minute0.AddMinutes(5));
        var store = new StatsStore(new StatsOptions { SettleTime = TimeSpan.Zero, PositionsWait = TimeSpan.FromMinutes(5) }, clock);
        StatsRecord Counted(string node, string sink, int partition, long offset) => new()
        {
            Node = node, Point = StatsPoints.Counted, Sink = sink, Topic = "nwdp.logs.app", Partition = partition, Offset = offset, MinuteMs = M0,
            Minute = StatsRecord.FormatMinute(M0),
        };
        store.Add(Counted("n1", "pg", 0, 40));
        store.Add(Counted("n2", "pg", 0, 25)); // an older owner's position, read later: the highest stays
        store.Add(Counted("n2", "pg", 1, 7));
        store.Add(Flow("n1", StatsPoints.Accepted, 3));
        Assert.Equal(40, store.CountedNext("pg", "nwdp.logs.app", 0));
        Assert.Equal(7, store.CountedNext("pg", "nwdp.logs.app", 1));
        Assert.Equal(long.MinValue, store.CountedNext("files", "nwdp.logs.app", 0));
        Assert.Equal(long.MinValue, store.CountedNext("pg", "nwdp.logs.web", 0));
        // Not in the audit, not in the stats.
        var row = Assert.Single(store.Audit(0));
        Assert.Equal((3L, 0), (row.Accepted, row.Sinks.Count));
        Assert.Equal(1, store.Count);
        // Ready once the feed caught up.
        var ready = store.ReadyAsync(CancellationToken.None);
        Assert.False(ready.IsCompleted);
        store.CaughtUp();
        await ready.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("pg|nwdp.logs.app|0", Counted("n1", "pg", 0, 1).Key);
        // Its JSON carries topic, partition and offset; the counts' JSON does not.
        var json = System.Text.Encoding.UTF8.GetString(Counted("n1", "pg", 0, 40).ToJson());
        Assert.Contains("\"offset\":40", json);
        Assert.DoesNotContain("\"offset\"", System.Text.Encoding.UTF8.GetString(Flow("n1", StatsPoints.Accepted, 3).ToJson()));
        Assert.Equal(40, StatsRecord.FromJson(Counted("n1", "pg", 0, 40).ToJson()).Offset);
    }
}
