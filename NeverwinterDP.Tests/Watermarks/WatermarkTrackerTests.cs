using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Watermarks;

/// <summary>When the tracker declares an hour of a topic complete, closes it incomplete, or announces a new version.</summary>
public class WatermarkTrackerTests
{
    private const string Topic = "nwdp.logs.app";
    private static readonly DateTimeOffset Hour = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly long H = Hour.ToUnixTimeMilliseconds();
    private static readonly long Before = H - UtcHours.Ms;

    private readonly ManualClock _clock = new(Hour.AddMinutes(30));
    private readonly WatermarkOptions _options = new() { Grace = TimeSpan.FromMinutes(15) };

    private sealed class TwoPartitions : IPartitionCounts
    {
        public int Of(string topic) => 2;
    }

    private WatermarkTracker Tracker(Func<IReadOnlyCollection<string>>? gone = null) => new("files", _options, _clock, new TwoPartitions(), gone);

    private static WatermarkObservation Events(string node, int partition, long n, long hour) => new(Topic, partition, hour, node, n);

    private static WatermarkObservation Marker(string node, int partition, long count, long hour) =>
        new(Topic, partition, hour, node, 0, new HourMarker(Topic, hour, node, partition, count));

    /// <summary>Node's events of the hour in both partitions, then its markers with those counts.</summary>
    private static IEnumerable<WatermarkObservation> Wrote(string node, long hour, long p0, long p1) =>
        [Events(node, 0, p0, hour), Events(node, 1, p1, hour), Marker(node, 0, p0, hour), Marker(node, 1, p1, hour)];

    private void AfterTheHour(TimeSpan by) => _clock.Advance(Hour.AddHours(1) + by - _clock.GetUtcNow());

    [Fact]
    public void An_hour_is_complete_once_every_partition_has_the_marker_of_each_of_three_nodes()
    {
        var tracker = Tracker();
        tracker.Observe(Wrote("a", H, 3, 4).Concat(Wrote("b", H, 1, 0)));
        tracker.Observe([Events("c", 0, 5, H), Events("c", 1, 6, H), Marker("c", 0, 5, H)]);
        Assert.Empty(tracker.Check()); // the hour is not over

        AfterTheHour(TimeSpan.FromSeconds(10));
        Assert.Empty(tracker.Check()); // c's marker of partition 1 is missing

        tracker.Observe([Marker("c", 1, 6, H)]);
        var done = Assert.Single(tracker.Check());

        Assert.Equal((HourCompletion.Complete, 1, null), (done.State, done.Version, done.Reason));
        Assert.Equal(new long[] { 9, 10 }, done.Counts);
        Assert.Equal(["a", "b", "c"], done.Nodes);
        Assert.Equal(19, done.Delivered);
        Assert.Equal(0, done.LateEvents);
        Assert.Empty(tracker.Check()); // announced once
    }

    [Fact]
    public void A_node_that_wrote_the_hour_before_and_went_idle_is_waited_for_until_its_empty_markers_come()
    {
        var tracker = Tracker();
        tracker.Observe(Wrote("a", Before, 1, 1).Concat(Wrote("idle", Before, 2, 2)));
        tracker.Observe(Wrote("a", H, 3, 4));
        AfterTheHour(TimeSpan.FromMinutes(1));

        Assert.DoesNotContain(tracker.Check(), c => c.HourMs == H);

        tracker.Observe([Marker("idle", 0, 0, H), Marker("idle", 1, 0, H)]);
        var done = Assert.Single(tracker.Check(), c => c.HourMs == H);
        Assert.True(done.IsComplete);
        Assert.Equal(["a", "idle"], done.Nodes);
        Assert.Equal(new long[] { 3, 4 }, done.Counts);
    }

    [Fact]
    public void A_dead_node_is_not_waited_for_unless_its_events_are_in_the_hour_then_the_hour_closes_incomplete_after_the_grace()
    {
        var tracker = Tracker(gone: () => ["gone"]);
        tracker.Observe(Wrote("a", Before, 1, 1).Concat(Wrote("gone", Before, 2, 2)));
        tracker.Observe(Wrote("a", H, 3, 4));
        AfterTheHour(TimeSpan.FromSeconds(10));

        Assert.True(Assert.Single(tracker.Check(), c => c.HourMs == H).IsComplete); // "gone" wrote nothing in H and left the cluster

        var other = Hour.AddHours(1).ToUnixTimeMilliseconds();
        tracker.Observe(Wrote("a", other, 1, 1));
        tracker.Observe([Events("crashed", 1, 9, other)]); // its events are there, its markers never come
        AfterTheHour(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(14));
        Assert.Empty(tracker.Check());

        _clock.Advance(TimeSpan.FromMinutes(2));
        var closed = Assert.Single(tracker.Check());
        Assert.Equal((HourCompletion.IncompleteClosed, 1), (closed.State, closed.Version));
        Assert.Contains("crashed (all 2 partitions)", closed.Reason);
        Assert.Equal(["a", "crashed"], closed.Nodes);
        Assert.Equal(11, closed.Delivered);
    }

    [Fact]
    public void After_the_grace_an_hour_closes_incomplete_naming_the_missing_partitions_and_a_late_marker_completes_it_in_a_new_version()
    {
        var tracker = Tracker();
        tracker.Observe([Events("a", 0, 3, H), Events("a", 1, 4, H), Marker("a", 0, 3, H)]);
        AfterTheHour(TimeSpan.FromMinutes(16));

        var closed = Assert.Single(tracker.Check());
        Assert.Equal(HourCompletion.IncompleteClosed, closed.State);
        Assert.Contains("a (partitions 1)", closed.Reason);
        Assert.Contains("15 min grace", closed.Reason);

        tracker.Observe([Marker("a", 1, 4, H)]);
        var completed = Assert.Single(tracker.Check());
        Assert.Equal((HourCompletion.Complete, 2), (completed.State, completed.Version));
        Assert.Equal(new long[] { 3, 4 }, completed.Counts);
    }

    [Fact]
    public void A_late_event_is_counted_and_announces_a_new_version_and_its_new_marker_another()
    {
        var tracker = Tracker();
        tracker.Observe(Wrote("a", H, 3, 4));
        AfterTheHour(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Assert.Single(tracker.Check()).Version);

        tracker.Observe([Events("a", 0, 1, H)]); // after a's marker of partition 0
        var late = Assert.Single(tracker.Check());
        Assert.Equal((2, 1L, 8L), (late.Version, late.LateEvents, late.Delivered));
        Assert.True(late.IsComplete);

        tracker.Observe([Marker("a", 0, 4, H)]);
        var remarked = Assert.Single(tracker.Check());
        Assert.Equal(3, remarked.Version);
        Assert.Equal(new long[] { 4, 4 }, remarked.Counts);

        tracker.Observe([Marker("a", 0, 4, H)]); // the same marker read again changes nothing
        Assert.Empty(tracker.Check());
    }

    [Fact]
    public void Hours_older_than_keep_are_forgotten()
    {
        var tracker = Tracker();
        tracker.Observe(Wrote("a", H, 1, 1));
        AfterTheHour(TimeSpan.FromSeconds(1));
        Assert.Single(tracker.Check());

        _clock.Advance(_options.Keep + TimeSpan.FromHours(2));
        tracker.Check();
        tracker.Observe([Events("a", 0, 1, H)]); // not late any more: nothing is known of that hour
        var again = Assert.Single(tracker.Check()); // an hour seen anew (events without markers) closes after the grace
        Assert.Equal((1, 0L), (again.Version, again.LateEvents));
    }
}

public class HourCountsTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(3_599_999, 0)]
    [InlineData(3_600_000, 3_600_000)]
    [InlineData(-1, -3_600_000)]
    public void The_hour_of_a_time_rounds_down(long ms, long hour) => Assert.Equal(hour, UtcHours.Of(ms));

    [Fact]
    public void Counts_are_kept_per_topic_partition_and_hour_and_forgotten_by_hour()
    {
        var counts = new HourCounts();
        counts.Add("t", 0, 10);
        counts.Add("t", 0, 20, 2);
        counts.Add("t", 3, 3_600_010);
        counts.Add("u", 1, 5);

        Assert.Equal([0L, 3_600_000L], counts.Hours());
        Assert.Equal(["t", "u"], counts.TopicsOf(0));
        Assert.Equal(3, counts.Of("t", 0)[0]);
        Assert.Equal(1, counts.Of("t", 3_600_000)[3]);
        Assert.Equal(3_600_000, counts.NewestHour);

        counts.ForgetBefore(3_600_000);
        Assert.Equal([3_600_000L], counts.Hours());
    }
}
