using Akka.Actor;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Sharding;

/// <summary>
/// The registry's reports to emitter entities are acknowledged, sent again until they are, and applied once: a report
/// told to a node that died before its removal is not lost, and one that arrived before the answer did is not added
/// twice (also by the entity recovered elsewhere from the shared journal).
/// </summary>
public sealed class EmitterReportSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();

    private static SourceActivity Report(string reporter, long seq, long events) =>
        new("web-1/nginx", "web-1", "nginx", 1_000 + seq, 2_000 + seq, "1.25", new Dictionary<string, long> { ["access"] = events }, events, events * 100, seq,
            reporter, seq);

    [Fact]
    public async Task An_emitter_applies_each_report_once_and_still_knows_it_after_recovering_from_the_journal()
    {
        var db = Path.Combine(_dir.Path, "journal.db");
        var system = JournalFixture.StartSystem(db, "reports-1");
        try
        {
            var emitter = system.ActorOf(EmitterEntity.PropsFor("web-1/nginx"));
            Assert.Equal(new SourceActivityAck("web-1/nginx", "node-a", 1), await emitter.Ask<SourceActivityAck>(Report("node-a", 1, 5), Timeout));
            // Sent again (its acknowledgement was lost): acknowledged, not added.
            Assert.Equal(new SourceActivityAck("web-1/nginx", "node-a", 1), await emitter.Ask<SourceActivityAck>(Report("node-a", 1, 5), Timeout));
            await emitter.Ask<SourceActivityAck>(Report("node-a", 2, 3), Timeout);
            // Another node's reports are numbered on their own.
            await emitter.Ask<SourceActivityAck>(Report("node-b", 1, 10), Timeout);
            var info = await emitter.Ask<SourceInfo>(new GetSource("web-1/nginx"), Timeout);
            Assert.Equal((18L, 1_800L, 18L), (info.Events, info.Bytes, info.EventsByType["access"]));
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }

        // The entity on another node recovers from the shared journal: a report it applied before is still applied once.
        system = JournalFixture.StartSystem(db, "reports-2");
        try
        {
            var emitter = system.ActorOf(EmitterEntity.PropsFor("web-1/nginx"));
            Assert.Equal(new SourceActivityAck("web-1/nginx", "node-a", 2), await emitter.Ask<SourceActivityAck>(Report("node-a", 2, 3), Timeout));
            await emitter.Ask<SourceActivityAck>(Report("node-a", 3, 1), Timeout);
            var info = await emitter.Ask<SourceInfo>(new GetSource("web-1/nginx"), Timeout);
            Assert.Equal(19L, info.Events);
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    [Fact]
    public async Task A_listing_answers_with_the_sources_that_answered_and_names_those_whose_shard_does_not()
    {
        var system = JournalFixture.StartSystem(Path.Combine(_dir.Path, "journal.db"), "listing");
        try
        {
            // Three sources in the journal, two of them in one shard; the "region" reaches the first one's entity but nothing in
            // the other shard (its member crashed, not removed yet).
            var shards = new NeverwinterDP.Actors.Sharding.EntityMessageExtractor(NeverwinterDP.Actors.Sharding.EntityShards.Count);
            var silent = shards.ShardId("web-2/nginx");
            var sameShard = Enumerable.Range(3, 10_000).Select(i => $"web-{i}/nginx").First(id => shards.ShardId(id) == silent);
            var live = Enumerable.Range(3, 10_000).Select(i => $"web-{i}/nginx").First(id => shards.ShardId(id) != silent);
            foreach (var id in new[] { live, "web-2/nginx", sameShard })
                await system.ActorOf(EmitterEntity.PropsFor(id)).Ask<SourceActivityAck>(Report("node-a", 1, 5) with { SourceId = id }, Timeout);
            var web1 = system.ActorOf(EmitterEntity.PropsFor(live), "live-again");
            var dropped = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var region = system.ActorOf(Props.Create(() => new HalfRegion(web1, live, dropped)));
            var registry = new EmitterRegistry(system, region, region, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), askTimeout: TimeSpan.FromMilliseconds(500));
            RegistryListing<SourceInfo>? listing = null;
            await Wait.UntilAsync(async () => (listing = await registry.ListSourcesAsync(default)).Items.Count + listing.Unavailable.Count == 3, Timeout);
            Assert.Equal((live, 5L), (Assert.Single(listing!.Items).SourceId, listing.Items[0].Events));
            Assert.Equal(new[] { "web-2/nginx", sameShard }.Order(StringComparer.Ordinal), listing.Unavailable);
            // The silent shard is asked once per listing, not once per entity: its second entity does not wait out a timeout too.
            while (dropped.TryDequeue(out _))
            {
            }
            listing = await registry.ListSourcesAsync(default);
            Assert.Equal(2, listing.Unavailable.Count);
            Assert.Single(dropped);
            // Those that decide on whole data only (the alerts) get an error naming who did not answer.
            var whole = await Assert.ThrowsAsync<TimeoutException>(() => registry.SourcesAsync(default));
            Assert.Contains("web-2/nginx", whole.Message);
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>A region that forwards to one entity and drops (and notes) what is for the others.</summary>
    private sealed class HalfRegion : ReceiveActor
    {
        public HalfRegion(IActorRef entity, string id, System.Collections.Concurrent.ConcurrentQueue<string> dropped) => Receive<GetSource>(q =>
        {
            if (q.SourceId == id) entity.Forward(q);
            else dropped.Enqueue(q.SourceId);
        });
    }

    [Fact]
    public void The_oldest_reporters_are_forgotten_past_the_bound()
    {
        Dictionary<string, ReportMark>? marks = null;
        for (var i = 0; i < EmitterState.MaxReporters + 3; i++) marks = EmitterState.Mark(marks, Report("node-" + i, 7, 1) with { LastSeenMs = 10_000 + i });
        Assert.Equal(EmitterState.MaxReporters, marks!.Count);
        Assert.DoesNotContain("node-0", marks.Keys);
        Assert.Contains("node-" + (EmitterState.MaxReporters + 2), marks.Keys);
        // An old-style report (no reporter) changes nothing.
        Assert.Same(marks, EmitterState.Mark(marks, Report("x", 1, 1) with { Reporter = null }));
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The registry's side: one report per source outstanding, sent again until acknowledged, the rest summed into the next.</summary>
public sealed class EmitterRegistryReportTests : Akka.TestKit.Xunit2.TestKit
{
    private static LogEvent Event(string host, int seq) =>
        new() { Message = "m" + seq, Type = "access", Host = host, Process = "nginx", SystemTs = 1_000 + seq };

    [Fact]
    public void A_report_is_sent_again_until_its_emitter_answers_and_what_came_meanwhile_goes_in_the_next()
    {
        var emitters = CreateTestProbe();
        var watchdogs = CreateTestProbe();
        var registry = new EmitterRegistry(Sys, emitters.Ref, watchdogs.Ref, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30),
            resendAfter: TimeSpan.FromMilliseconds(300));

        registry.Accepted([Event("web-1", 1), Event("web-1", 2)]);
        var first = emitters.ExpectMsg<SourceActivity>(TimeSpan.FromSeconds(10));
        Assert.Equal((2L, "web-1/nginx"), (first.Events, first.SourceId));
        Assert.NotNull(first.Reporter);

        // No answer (the node that held the entity died): the same report again, and meanwhile nothing else for that source.
        registry.Accepted([Event("web-1", 3)]);
        var again = emitters.ExpectMsg<SourceActivity>(TimeSpan.FromSeconds(10));
        Assert.Equal(first, again);

        // Acknowledged (by the entity on its new node): what came meanwhile follows under the next number.
        emitters.Reply(new SourceActivityAck(first.SourceId, first.Reporter!, first.ReportSeq));
        var next = emitters.ExpectMsg<SourceActivity>(TimeSpan.FromSeconds(10));
        Assert.Equal((1L, first.Reporter), (next.Events, next.Reporter));
        Assert.True(next.ReportSeq > first.ReportSeq);
        emitters.Reply(new SourceActivityAck(next.SourceId, next.Reporter!, next.ReportSeq));
        // Nothing left to send or resend.
        emitters.ExpectNoMsg(TimeSpan.FromMilliseconds(700));
    }

    [Fact]
    public async Task A_flush_completes_once_every_report_is_acknowledged()
    {
        var emitters = CreateTestProbe();
        var registry = new EmitterRegistry(Sys, emitters.Ref, CreateTestProbe().Ref, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), askTimeout: TimeSpan.FromSeconds(20));
        registry.Accepted([Event("web-2", 1)]);
        var flush = registry.FlushAsync();
        var report = emitters.ExpectMsg<SourceActivity>(TimeSpan.FromSeconds(10));
        Assert.False(flush.IsCompleted);
        emitters.Reply(new SourceActivityAck(report.SourceId, report.Reporter!, report.ReportSeq));
        await flush.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
