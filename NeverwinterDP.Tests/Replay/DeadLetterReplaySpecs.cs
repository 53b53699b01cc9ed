using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Replay;

/// <summary>
/// Issue 16 item 4 with a real PostgreSQL (from test.sh): events dead-lettered because a column is too short, the
/// column fixed, the dead letters replayed: the rows appear once, and a second replay adds nothing.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DeadLetterReplaySpecs
{
    [Fact]
    public async Task Letters_refused_for_a_short_column_are_delivered_once_after_the_fix_and_a_second_replay_adds_nothing()
    {
        await using var kit = await ReplayKit.StartAsync();
        var dlqTopic = KafkaDeadLetterQueue.TopicFor(ReplayKit.SinkName);
        kit.Kafka.CreateTopic(dlqTopic, 1);
        // The table as an operator made it: host too short for some hosts.
        await kit.ExecuteAsync(SqlColumns.CreateTableSql(new PostgreSqlDialect(), SqlSinkOptions.DefaultTable));
        await kit.ExecuteAsync($"ALTER TABLE {SqlSinkOptions.DefaultTable} ALTER COLUMN host TYPE varchar(5)");

        // What the pump does with a batch: the sink refuses the long hosts (PostgreSQL 22001), they go to nwdp.dlq.pg.
        var records = Enumerable.Range(0, 10).Select(i => new SinkRecord("nwdp.logs.dlq", 0, i,
            new LogEvent { Message = "m-" + i, Host = i % 3 == 0 ? "a-very-long-host-name" : "h", Type = "dlq", Ts = 1_790_000_000_000 + i })).ToList();
        await using (var sink = kit.CreateSink())
        {
            await sink.OpenAsync(CancellationToken.None);
            var report = await new SinkDelivery(sink, kit.Context.Retry, kit.DeadLetters).DeliverAsync(records, CancellationToken.None);
            Assert.Equal((6, 4), (report.Delivered, report.DeadLettered));
        }
        Assert.Equal(6, (await kit.RowsAsync()).Count);

        var dlq = new DeadLetterReplay(kit.Context);
        var count = Assert.Single(dlq.Count([ReplayKit.SinkName]));
        Assert.Equal((ReplayKit.SinkName, "dlq", 4L, 1), (count.Sink, count.Type, count.Count, count.MaxAttempts));
        Assert.Contains("22001", count.Reason);
        var shown = dlq.Show(ReplayKit.SinkName, "too long", limit: 2);
        Assert.Equal([0L, 3L], shown.Select(l => l.SourceOffset));
        Assert.All(shown, l => Assert.Equal(("nwdp.logs.dlq", 0, "a-very-long-host-name", 1), (l.SourceTopic, l.SourcePartition, l.Host, l.Attempts)));
        Assert.Empty(dlq.Show(ReplayKit.SinkName, "some other reason", limit: 10));

        // Replayed before the fix: refused again, back in the DLQ with attempt 2; the position moved past the first letters.
        var early = await dlq.ReplayAsync(ReplayKit.SinkName, null, CancellationToken.None);
        Assert.Equal((4L, 4L, 0L, 4L), (early.Read, early.Matched, early.Delivered, early.Rejected));
        Assert.Equal(2, dlq.Count([ReplayKit.SinkName]).Max(c => c.MaxAttempts));

        // The fix, then the replay: the rows appear once.
        await kit.ExecuteAsync($"ALTER TABLE {SqlSinkOptions.DefaultTable} ALTER COLUMN host TYPE text");
        var fixedReplay = await dlq.ReplayAsync(ReplayKit.SinkName, null, CancellationToken.None);
        Assert.Equal((4L, 4L, 0L), (fixedReplay.Read, fixedReplay.Delivered, fixedReplay.Rejected));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "m-" + i).Order(StringComparer.Ordinal), await kit.RowsAsync());

        // Each letter is replayed once: a second replay reads nothing and adds nothing.
        var again = await dlq.ReplayAsync(ReplayKit.SinkName, null, CancellationToken.None);
        Assert.Equal((0L, 0L), (again.Read, again.Delivered));
        Assert.Equal(10, (await kit.RowsAsync()).Count);
    }

    [Fact]
    public async Task A_reason_filter_replays_only_the_matching_letters_in_a_group_of_its_own()
    {
        await using var kit = await ReplayKit.StartAsync();
        kit.Kafka.CreateTopic(KafkaDeadLetterQueue.TopicFor(ReplayKit.SinkName), 1);
        var letters = Enumerable.Range(0, 6).Select(i => new DeadLetterRecord(
            new SinkRecord("nwdp.logs.r", 0, i, new LogEvent { Message = "m-" + i, Host = "h", Type = "r" }), i % 2 == 0 ? "reason even" : "reason odd")).ToList();
        await kit.DeadLetters.SendAsync(ReplayKit.SinkName, letters, CancellationToken.None);

        var dlq = new DeadLetterReplay(kit.Context);
        Assert.Equal([("reason even", 3L), ("reason odd", 3L)], dlq.Count([ReplayKit.SinkName]).Select(c => (c.Reason, c.Count)).OrderBy(c => c.Reason));
        var even = await dlq.ReplayAsync(ReplayKit.SinkName, "EVEN", CancellationToken.None);
        Assert.Equal((6L, 3L, 3L), (even.Read, even.Matched, even.Delivered));
        Assert.Equal(["m-0", "m-2", "m-4"], await kit.RowsAsync());
        var rest = await dlq.ReplayAsync(ReplayKit.SinkName, null, CancellationToken.None);
        Assert.Equal((6L, 6L), (rest.Read, rest.Delivered)); // its own position; the even ones are written again as no-ops
        Assert.Equal(Enumerable.Range(0, 6).Select(i => "m-" + i), await kit.RowsAsync());
    }
}
