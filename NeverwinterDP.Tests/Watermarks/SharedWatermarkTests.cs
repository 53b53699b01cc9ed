using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Watermarks;

/// <summary>
/// Cluster-wide hour completions: the merge of several pump nodes' observations, the decision (<see cref="HourRules.Decide"/>),
/// the view's ordering of racing announcements (<see cref="SharedHours"/>), and two hubs deciding one hour over a shared
/// medium that delivers records in one order, as the one-partition topics do.
/// </summary>
public class SharedWatermarkTests
{
    private const string Sink = "files";
    private const string Topic = "nwdp.logs.app";
    private static readonly DateTimeOffset Hour = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly long H = Hour.ToUnixTimeMilliseconds();
    private static readonly long End = H + UtcHours.Ms;
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(15);

    private static ObservedHour Observed(string observer, long hour, (string Node, int Partition, long Count)[] markers, long late = 0) =>
        new(Sink, Topic, hour, observer, markers.Select(m => new MarkerSeen(m.Node, m.Partition, m.Count)).ToList(),
            markers.GroupBy(m => m.Node).ToDictionary(g => g.Key, g => g.Sum(m => m.Count), StringComparer.Ordinal), markers.Sum(m => m.Count) + late, late);

    private static HourCompletion? Decide(IEnumerable<ObservedHour> observed, long now, HourCompletion? last = null, int partitions = 4,
        IEnumerable<ObservedHour>? before = null, IReadOnlyCollection<string>? gone = null) =>
        HourRules.Decide(Sink, Topic, H, MergedHour.Of(observed), before is null ? null : MergedHour.Of(before), gone ?? [], partitions, now, Grace, last);

    // Ingress nodes x and y each marked every partition; pump node p1 reads partitions 0 and 1, p2 reads 2 and 3.
    private static readonly ObservedHour P1 = Observed("p1", H, [("x", 0, 5), ("y", 0, 1), ("x", 1, 6), ("y", 1, 2)]);
    private static readonly ObservedHour P2 = Observed("p2", H, [("x", 2, 7), ("y", 2, 3), ("x", 3, 8), ("y", 3, 4)]);

    [Fact]
    public void No_pump_node_alone_completes_the_hour_but_their_observations_together_do_with_the_whole_topics_counts()
    {
        Assert.Null(Decide([P1], End + 1000));
        Assert.Null(Decide([P2], End + 1000));
        Assert.Null(Decide([P1, P2], End - 1)); // the hour is not over

        var done = Decide([P1, P2], End + 1000)!;
        Assert.Equal((HourCompletion.Complete, 1, null), (done.State, done.Version, done.Reason));
        Assert.Equal(new long[] { 6, 8, 10, 12 }, done.Counts);
        Assert.Equal(["x", "y"], done.Nodes);
        Assert.Equal(36, done.Events);
        Assert.Equal(36, done.Delivered);
    }

    [Fact]
    public void A_partition_that_moved_mid_hour_keeps_the_marker_its_first_reader_saw()
    {
        // p1 read x's marker of partition 1, then partition 1 moved to p2, which read y's marker there.
        var p1 = Observed("p1", H, [("x", 0, 5), ("y", 0, 1), ("x", 1, 6)]);
        var p2 = Observed("p2", H, [("y", 1, 2), ("x", 2, 7), ("y", 2, 3), ("x", 3, 8), ("y", 3, 4)]);
        var done = Decide([p1, p2], End + 1000)!;
        Assert.Equal(HourCompletion.Complete, done.State);
        Assert.Equal(new long[] { 6, 8, 10, 12 }, done.Counts);

        // The same marker read by both (read again after the move): counted once.
        var again = Observed("p2", H, [("x", 1, 6), ("y", 1, 2), ("x", 2, 7), ("y", 2, 3), ("x", 3, 8), ("y", 3, 4)]);
        Assert.Equal(new long[] { 6, 8, 10, 12 }, Decide([p1, again], End + 1000)!.Counts);
    }

    [Fact]
    public void Missing_markers_close_the_hour_incomplete_after_the_grace_naming_them_and_markers_arriving_later_complete_it()
    {
        var p2 = Observed("p2", H, [("x", 2, 7), ("y", 2, 3), ("x", 3, 8)]);
        Assert.Null(Decide([P1, p2], End + (long)Grace.TotalMilliseconds - 1));
        var closed = Decide([P1, p2], End + (long)Grace.TotalMilliseconds)!;
        Assert.Equal((HourCompletion.IncompleteClosed, 1), (closed.State, closed.Version));
        Assert.Contains("y (partitions 3)", closed.Reason);

        var done = Decide([P1, P2], End + (long)Grace.TotalMilliseconds + 5000, last: closed)!;
        Assert.Equal((HourCompletion.Complete, 2), (done.State, done.Version));
    }

    [Fact]
    public void A_node_that_wrote_the_hour_before_is_expected_unless_gone()
    {
        var before = Observed("p1", H - UtcHours.Ms, [("z", 0, 3), ("z", 1, 0), ("z", 2, 0), ("z", 3, 0)]);
        var missing = Decide([P1, P2], End + 1000, before: [before]);
        Assert.Null(missing); // z wrote the hour before: its markers of this hour are awaited
        var done = Decide([P1, P2], End + 1000, before: [before], gone: ["z"])!;
        Assert.Equal(["x", "y"], done.Nodes);
    }

    [Fact]
    public void A_decider_that_does_not_know_a_writer_of_the_hour_before_is_gone_does_not_reopen_the_hour_for_it()
    {
        // v1 was decided by a node that knew z (a writer of the hour before) gone. A pump node restarted since has not
        // read the gossip of the gone ids yet: to it z is alive and awaited. It announces nothing new for the hour.
        var before = Observed("p1", H - UtcHours.Ms, [("z", 0, 3), ("z", 1, 0), ("z", 2, 0), ("z", 3, 0)]);
        var v1 = Decide([P1, P2], End + 1000, before: [before], gone: ["z"])!;
        Assert.Equal(HourCompletion.Complete, v1.State);
        Assert.Equal(["x", "y"], v1.Nodes);
        Assert.Null(Decide([P1, P2], End + 2000, last: v1, before: [before]));

        // Late events of x still make the next version, still without z.
        var late = Observed("p2", H, [("x", 2, 10), ("y", 2, 3), ("x", 3, 8), ("y", 3, 4)], late: 3);
        var v2 = Decide([P1, late], End + 3000, last: v1, before: [before])!;
        Assert.Equal((HourCompletion.Complete, 2), (v2.State, v2.Version));
        Assert.Equal(["x", "y"], v2.Nodes);

        // z in the hour itself (its marker read only now) is awaited and grows the nodes: the hour is reopened for it.
        var zInHour = Observed("p3", H, [("z", 0, 1)]);
        var v3 = Decide([P1, late, zInHour], End + 4000, last: v2, before: [before])!;
        Assert.Equal(HourCompletion.IncompleteClosed, v3.State);
        Assert.Equal(["x", "y", "z"], v3.Nodes);
    }

    [Fact]
    public void A_later_version_only_adds_late_events_or_counts_and_a_view_that_knows_less_announces_nothing()
    {
        var v1 = Decide([P1, P2], End + 1000)!;
        Assert.Null(Decide([P1, P2], End + 2000, last: v1)); // nothing new

        // A node that has not read p2's observations yet (behind) would say less: it says nothing.
        Assert.Null(Decide([P1], End + 2000, last: v1));

        // p2 read 3 events of x after x's marker (late) and x's new marker with the larger count.
        var late = Observed("p2", H, [("x", 2, 10), ("y", 2, 3), ("x", 3, 8), ("y", 3, 4)], late: 3);
        var v2 = Decide([P1, late], End + 3000, last: v1)!;
        Assert.Equal((HourCompletion.Complete, 2, 3L), (v2.State, v2.Version, v2.LateEvents));
        Assert.Equal(new long[] { 6, 8, 13, 12 }, v2.Counts);
    }

    [Fact]
    public void Observation_records_round_trip_and_a_bad_one_is_refused()
    {
        var back = ObservedHour.FromJson(P1.ToJson());
        Assert.Equal(P1.Key, back.Key);
        Assert.Equal(P1.Markers, back.Markers);
        Assert.Equal(P1.EventsByNode.OrderBy(e => e.Key), back.EventsByNode.OrderBy(e => e.Key));
        Assert.Equal((P1.Delivered, P1.Late), (back.Delivered, back.Late));
        Assert.Throws<MalformedRecordException>(() => ObservedHour.FromJson("{\"sink\":\"files\"}"u8));
        Assert.Throws<MalformedRecordException>(() => new SharedHours(() => "n").ApplyObservation("not-a-key", null));
    }

    [Fact]
    public void The_view_takes_the_first_record_of_each_version_and_a_tombstone_or_the_horizon_forgets()
    {
        var view = new SharedHours(() => "p1");
        var v1 = Decide([P1, P2], End + 1000)!;
        var racing = v1 with { Delivered = 999, AnnouncedAtMs = End + 1001 }; // another node's v1, a moment later
        Assert.True(view.ApplyCompletion(v1));
        Assert.False(view.ApplyCompletion(racing));
        Assert.False(view.ApplyCompletion(v1)); // read again
        Assert.Equal(v1, view.Last(Sink, Topic, H));
        Assert.Equal([v1], view.TakeArrived());
        Assert.Empty(view.TakeArrived());

        view.ApplyObservation(P2.Key, P2.ToJson());
        view.ApplyOwn(P1.Key, P1);
        view.ApplyObservation(P1.Key, Observed("p1", H, []).ToJson()); // this node's own older record read back: ignored
        Assert.Equal(["p1", "p2"], view.Observers(Sink, Topic, H));
        Assert.Equal(8, view.Merged(Sink, Topic, H)!.Markers.Count);
        Assert.True(view.Marked(Sink, Topic, H, "y", 3));
        Assert.False(view.Marked(Sink, Topic, H, "z", 3));

        view.ApplyObservation(P2.Key, null); // p2 forgot the hour
        Assert.Equal(["p1"], view.Observers(Sink, Topic, H));

        view.Prune(H + UtcHours.Ms);
        Assert.Empty(view.Hours(Sink));
        Assert.Null(view.Last(Sink, Topic, H));
        view.ApplyObservation(P2.Key, P2.ToJson()); // a record of a forgotten hour read late: not kept
        Assert.False(view.ApplyCompletion(v1));
        Assert.Empty(view.Hours(Sink));
    }

    // Two hubs over one medium that delivers records in one order when told (as the one-partition topics do).

    private sealed class Medium
    {
        private readonly List<(bool Completion, string Key, byte[]? Value)> _pending = new();
        public readonly List<Exchange> Members = new();
        public int Completions;

        public void Append(bool completion, string key, byte[]? value)
        {
            lock (_pending)
            {
                _pending.Add((completion, key, value));
                if (completion) Completions++;
            }
        }

        public void Deliver(bool observationsOnly = false)
        {
            List<(bool Completion, string Key, byte[]? Value)> records;
            lock (_pending)
            {
                records = _pending.Where(r => !observationsOnly || !r.Completion).ToList();
                _pending.RemoveAll(r => !observationsOnly || !r.Completion);
            }
            foreach (var (completion, key, value) in records)
            foreach (var m in Members)
            {
                if (completion) m.View.ApplyCompletion(HourCompletion.FromJson(value!));
                else m.View.ApplyObservation(key, value);
            }
        }
    }

    private sealed class Exchange : IWatermarkExchange
    {
        private readonly Medium _medium;

        public Exchange(Medium medium, string self)
        {
            _medium = medium;
            View = new SharedHours(() => self);
            medium.Members.Add(this);
        }

        public SharedHours View { get; }
        public bool CaughtUp => true;

        public Task ShareAsync(IReadOnlyList<ObservedHour> hours, CancellationToken cancellation)
        {
            foreach (var h in hours)
            {
                _medium.Append(false, h.Key, h.ToJson());
                View.ApplyOwn(h.Key, h);
            }
            return Task.CompletedTask;
        }

        public Task RetractAsync(IReadOnlyList<string> keys, CancellationToken cancellation)
        {
            foreach (var k in keys)
            {
                _medium.Append(false, k, null);
                View.ApplyOwn(k, null);
            }
            return Task.CompletedTask;
        }

        public Task PublishAsync(HourCompletion completion, CancellationToken cancellation)
        {
            _medium.Append(true, $"{completion.Sink}|{completion.Topic}|{completion.HourMs}", completion.ToJson());
            return Task.CompletedTask;
        }
    }

    private sealed class Partitions : IPartitionCounts
    {
        public int Of(string topic) => 4;
    }

    private sealed class Success : IHourCompletionListener
    {
        public readonly List<HourCompletion> Acted = new();

        public Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation)
        {
            Acted.Add(completion);
            return Task.CompletedTask;
        }
    }

    private static WatermarkObservation Events(string node, int partition, long n) => new(Topic, partition, H, node, n);

    private static WatermarkObservation Marker(string node, int partition, long count) =>
        new(Topic, partition, H, node, 0, new HourMarker(Topic, H, node, partition, count));

    [Fact]
    public async Task Two_pump_nodes_racing_announce_one_version_that_both_sinks_act_on_once_and_a_late_event_after_a_move_makes_the_next()
    {
        var clock = new ManualClock(Hour.AddMinutes(30));
        var options = new WatermarkOptions { Grace = Grace };
        var medium = new Medium();
        await using var hub1 = new WatermarkHub(options, clock, new Partitions(), exchange: new Exchange(medium, "p1"), self: () => "p1");
        await using var hub2 = new WatermarkHub(options, clock, new Partitions(), exchange: new Exchange(medium, "p2"), self: () => "p2");
        var success1 = new Success();
        var success2 = new Success();
        using var l1 = hub1.Listen(Sink, success1);
        using var l2 = hub2.Listen(Sink, success2);

        // x and y wrote to every partition; p1's writers read partitions 0 and 1, p2's 2 and 3.
        hub1.For(Sink).Observe([Events("x", 0, 5), Events("y", 1, 2), Marker("x", 0, 5), Marker("y", 0, 0), Marker("x", 1, 0), Marker("y", 1, 2)]);
        hub2.For(Sink).Observe([Events("x", 2, 7), Events("y", 3, 4), Marker("x", 2, 7), Marker("y", 2, 0), Marker("x", 3, 0)]);
        clock.Advance(TimeSpan.FromMinutes(31)); // 11:01: the hour is over
        Assert.Empty(await hub1.CheckAsync(default));
        Assert.Empty(await hub2.CheckAsync(default));
        medium.Deliver();
        Assert.Empty(await hub1.CheckAsync(default)); // y's marker of partition 3 is missing
        Assert.Empty(await hub2.CheckAsync(default));
        medium.Deliver();
        Assert.Equal(0, medium.Completions);

        // p2 reads y's last marker and announces version 1; p1 reads p2's observations but not that announcement yet,
        // and announces a version 1 of its own: two records of version 1.
        hub2.For(Sink).Observe([Marker("y", 3, 4)]);
        Assert.Empty(await hub2.CheckAsync(default));
        Assert.Equal(1, medium.Completions);
        medium.Deliver(observationsOnly: true);
        Assert.Empty(await hub1.CheckAsync(default));
        Assert.Equal(2, medium.Completions);
        medium.Deliver();
        var acted1 = Assert.Single(await hub1.CheckAsync(default));
        var acted2 = Assert.Single(await hub2.CheckAsync(default));

        // One version 1, the first on the medium (p2's), acted on once by each node's sink, with the whole topic's counts.
        Assert.Equal(Json(acted1), Json(acted2));
        Assert.Equal((HourCompletion.Complete, 1), (acted1.State, acted1.Version));
        Assert.Equal(new long[] { 5, 2, 7, 4 }, acted1.Counts);
        Assert.Equal([Json(acted1)], success1.Acted.Select(Json));
        Assert.Equal([Json(acted1)], success2.Acted.Select(Json));
        Assert.Equal([Json(acted1)], hub1.Completions().Select(Json));
        Assert.Equal([Json(acted1)], hub2.Completions().Select(Json));
        Assert.Empty(await hub1.CheckAsync(default));
        Assert.Empty(await hub2.CheckAsync(default));
        medium.Deliver();
        Assert.Empty(await hub1.CheckAsync(default));
        Assert.Empty(await hub2.CheckAsync(default));
        Assert.Equal(2, medium.Completions); // nothing new: nothing announced

        // Partition 2 moved from p2 to p1; an event of x there is late for p1 too (p2 read x's marker of it): version 2.
        hub1.For(Sink).Observe([Events("x", 2, 1)]);
        Assert.Empty(await hub1.CheckAsync(default));
        Assert.Equal(3, medium.Completions);
        medium.Deliver();
        var v2 = Assert.Single(await hub1.CheckAsync(default));
        Assert.Equal(Json(v2), Json(Assert.Single(await hub2.CheckAsync(default))));
        Assert.Equal((2, 1L, HourCompletion.Complete), (v2.Version, v2.LateEvents, v2.State));
        Assert.Equal([Json(acted1), Json(v2)], success2.Acted.Select(Json));
    }

    private static string Json(HourCompletion c) => System.Text.Encoding.UTF8.GetString(c.ToJson());

    [Fact]
    public async Task Hours_older_than_keep_are_forgotten_by_the_tracker_and_the_view_and_retracted_from_the_medium()
    {
        var clock = new ManualClock(Hour.AddMinutes(30));
        var medium = new Medium();
        var exchange = new Exchange(medium, "p1");
        var other = new Exchange(medium, "p2");
        await using var hub = new WatermarkHub(new WatermarkOptions { Keep = TimeSpan.FromHours(2) }, clock, new Partitions(), exchange: exchange, self: () => "p1");
        hub.For(Sink).Observe([Events("x", 0, 5)]);
        await hub.CheckAsync(default);
        medium.Deliver();
        Assert.Equal([(Topic, H)], exchange.View.Hours(Sink));
        Assert.Equal([(Topic, H)], other.View.Hours(Sink));

        clock.Advance(TimeSpan.FromHours(3));
        await hub.CheckAsync(default);
        Assert.Empty(exchange.View.Hours(Sink));
        Assert.False(hub.For(Sink).TryGetActed(Topic, H, out _));
        medium.Deliver(); // the tombstone
        Assert.Empty(other.View.Hours(Sink));
    }
}
