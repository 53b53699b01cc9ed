using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Actors.Watchdog;
using Microsoft.Extensions.Time.Testing;

namespace NeverwinterDP.Tests.Stats;

public sealed class StatsCounterTests
{
    private static readonly DateTimeOffset Minute0 = new(2026, 11, 28, 21, 18, 0, TimeSpan.Zero);

    private static LogEvent Event(string host, string level = "info", string type = "app", string process = "web", string msg = "hello", DateTimeOffset? at = null) => new()
    {
        Host = host, Level = level, Type = type, Process = process, Message = msg, SystemTs = (at ?? Minute0.AddSeconds(5)).ToUnixTimeMilliseconds(),
    };

    private static (StatsCounter Counter, FakeTimeProvider Clock) NewCounter(StatsOptions? options = null)
    {
        var clock = new FakeTimeProvider(Minute0.AddSeconds(10));
        return (new StatsCounter(options ?? new StatsOptions { Grace = TimeSpan.FromSeconds(10) }, clock), clock);
    }

    private static StatsRecord Ingress(IEnumerable<StatsRecord> records, string host, string type = "app", string process = "web") =>
        Assert.Single(records, r => r.Point == StatsPoints.Ingress && r.Host == host && r.Type == type && r.Process == process);

    [Theory]
    [InlineData("error", "app", StatsCategory.Error)]
    [InlineData("FATAL", "app", StatsCategory.Error)]
    [InlineData("Err", "app", StatsCategory.Error)]
    [InlineData("crit", "app", StatsCategory.Error)]
    [InlineData("critical", "app", StatsCategory.Error)]
    [InlineData("alert", "app", StatsCategory.Error)]
    [InlineData("emerg", "app", StatsCategory.Error)]
    [InlineData("warning", "app", StatsCategory.Normal)]
    [InlineData("info", "app", StatsCategory.Normal)]
    [InlineData("errors", "app", StatsCategory.Normal)]
    [InlineData("error", "heartbeat", StatsCategory.Watchdog)]
    [InlineData("info", "Watchdog", StatsCategory.Watchdog)]
    public void Levels_and_types_decide_the_category(string level, string type, StatsCategory expected) =>
        Assert.Equal(expected, StatsCategories.Of(Event("h", level, type)));

    [Fact]
    public void A_minute_is_published_after_its_grace_with_lines_and_utf8_bytes_per_category_and_the_accepted_count()
    {
        var (counter, clock) = NewCounter();
        counter.Accepted([Event("h1"), Event("h1", msg: "héllo"), Event("h1", "ERROR", msg: "boom"), Event("h2")]);
        Assert.Empty(counter.Collect("n1"));
        clock.Advance(TimeSpan.FromSeconds(59)); // 21:19:09: the minute ended, the grace has not
        Assert.Empty(counter.Collect("n1"));
        clock.Advance(TimeSpan.FromSeconds(1));
        var records = counter.Collect("n1");
        var h1 = Ingress(records, "h1");
        Assert.Equal("n1", h1.Node);
        Assert.Equal("2026-11-28T21:18:00Z", h1.Minute);
        Assert.Equal(2, h1.CategoryLines!["normal"]);
        Assert.Equal(5 + 6, h1.CategoryBytes!["normal"]);
        Assert.Equal(1, h1.CategoryLines["error"]);
        Assert.Equal(4, h1.CategoryBytes["error"]);
        Assert.Equal(3, h1.Lines);
        Assert.Equal(1, Ingress(records, "h2").Lines);
        var accepted = Assert.Single(records, r => r.Point == StatsPoints.Accepted);
        Assert.Equal(("app", 4L, (string?)null), (accepted.Type, accepted.Lines, accepted.Host));
        Assert.Empty(counter.Collect("n1")); // nothing changed since
    }

    [Fact]
    public void A_spilled_event_counts_only_in_its_spill_category()
    {
        var (counter, clock) = NewCounter();
        var batch = new[] { Event("h1"), Event("h1", "error"), Event("h1", type: "heartbeat") };
        counter.Accepted([Event("h1")]);
        counter.Accepted(batch);
        counter.Spilled(batch);
        clock.Advance(TimeSpan.FromMinutes(2));
        var records = counter.Collect("n1");
        var app = Ingress(records, "h1");
        Assert.Equal(new Dictionary<string, long> { ["normal"] = 1, ["error"] = 0, ["watchdog"] = 0, ["normal_spill"] = 1, ["error_spill"] = 1, ["watchdog_spill"] = 0 }, app.CategoryLines);
        Assert.Equal(1, Ingress(records, "h1", type: "heartbeat").CategoryLines!["watchdog_spill"]);
        Assert.Equal(0, Ingress(records, "h1", type: "heartbeat").CategoryLines!["watchdog"]);
        // The audit's accepted point: only the event that went to the bus; the spilled ones count at their replay.
        Assert.Equal(1, records.Single(r => r.Point == StatsPoints.Accepted && r.Type == "app").Lines);
        Assert.DoesNotContain(records, r => r.Point == StatsPoints.Accepted && r.Type == "heartbeat" && r.Lines != 0);
        var totals = counter.Totals().Single(t => t.Key == new SeriesKey("app", "web", "h1"));
        Assert.Equal([1L, 0, 0, 1, 1, 0], totals.Lines);

        // Replayed (the spillover store recorded it on the bus): accepted and on the bus now, in the events' minute.
        counter.Replayed(batch[..2]);
        counter.Quarantined(batch[2..]);
        records = counter.Collect("n1");
        Assert.Equal(3, records.Single(r => r.Point == StatsPoints.Accepted && r.Type == "app").Lines);
        Assert.Equal(2, records.Single(r => r.Point == StatsPoints.Bus && r.Type == "app").Lines);
        // Set aside for good: accepted, never on the bus (the audit shows it lost).
        Assert.Equal(1, records.Single(r => r.Point == StatsPoints.Accepted && r.Type == "heartbeat").Lines);
        Assert.DoesNotContain(records, r => r.Point == StatsPoints.Bus && r.Type == "heartbeat");
        Assert.Equal(4, counter.AcceptedEvents); // made durable by ingress: counted once, at the spill, not again at the replay
    }

    [Fact]
    public void Heartbeats_bus_writes_and_deliveries_are_counted_at_their_points()
    {
        var (counter, clock) = NewCounter();
        counter.Heartbeat(new SourceHeartbeat("h3", "agent", 0));
        counter.Heartbeat(new SourceHeartbeat("h3", "agent", 0));
        var events = new[] { Event("h1"), Event("h2"), Event("h2", type: "db") };
        counter.Accepted(events);
        counter.WrittenToBus(events);
        counter.Delivered("files", events.Select((e, i) => new SinkRecord("t", 0, i, e)).ToList());
        counter.Delivered("es", [new SinkRecord("t", 0, 0, events[0])]);
        clock.Advance(TimeSpan.FromMinutes(2));
        var records = counter.Collect("n1");
        var beat = Ingress(records, "h3", type: "heartbeat", process: "agent");
        Assert.Equal((2L, 0L, 2L), (beat.CategoryLines!["watchdog"], beat.Bytes, beat.Lines));
        long Flow(string point, string type, string? sink = null) => records.Single(r => r.Point == point && r.Type == type && r.Sink == sink).Lines;
        Assert.Equal(2, Flow(StatsPoints.Accepted, "app"));
        Assert.Equal(2, Flow(StatsPoints.Bus, "app"));
        Assert.Equal(1, Flow(StatsPoints.Bus, "db"));
        Assert.Equal(2, Flow(StatsPoints.Delivered, "app", "files"));
        Assert.Equal(1, Flow(StatsPoints.Delivered, "app", "es"));
        Assert.DoesNotContain(records, r => r.Point == StatsPoints.Accepted && r.Type == "heartbeat");
    }

    [Fact]
    public void A_late_delivery_publishes_the_minute_again_with_the_new_count()
    {
        var (counter, clock) = NewCounter();
        var e = Event("h1");
        counter.Accepted([e]);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.NotEmpty(counter.Collect("n1"));
        counter.Delivered("files", [new SinkRecord("t", 0, 0, e)]);
        var again = counter.Collect("n1");
        Assert.Equal(1, Assert.Single(again).Lines); // only what changed: the delivered count
        Assert.Equal(StatsPoints.Delivered, again[0].Point);
        counter.MarkUnpublished(again[0].MinuteMs); // Kafka refused: everything of the minute again
        Assert.Equal(3, counter.Collect("n1").Count);
    }

    [Fact]
    public void Series_past_the_bound_are_counted_under_other_and_old_minutes_are_dropped()
    {
        var (counter, clock) = NewCounter(new StatsOptions { MaxSeriesPerMinute = 2, MaxMetricSeries = 3, Retention = TimeSpan.FromMinutes(5) });
        counter.Accepted(Enumerable.Range(0, 5).Select(i => Event("h" + i)).ToList());
        clock.Advance(TimeSpan.FromMinutes(1));
        counter.Accepted([Event("h0", at: Minute0.AddMinutes(1)), Event("h9", at: Minute0.AddMinutes(1))]);
        clock.Advance(TimeSpan.FromMinutes(1));
        var records = counter.Collect("n1");
        var first = records.Where(r => r.Point == StatsPoints.Ingress && r.MinuteMs == Minute0.ToUnixTimeMilliseconds()).ToList();
        Assert.Equal(3, first.Count);
        Assert.Equal(3, Ingress(first, StatsCounter.OtherLabel, StatsCounter.OtherLabel, StatsCounter.OtherLabel).Lines);
        Assert.Equal(5, first.Sum(r => r.Lines));
        var totals = counter.Totals();
        Assert.Equal(4, totals.Count); // h0, h1, h2, _other
        Assert.Equal(7, totals.Sum(t => t.Lines.Sum()));
        Assert.Equal(3, totals.Single(t => t.Key == StatsCounter.Other).Lines.Sum()); // h3, h4 and h9
        clock.Advance(TimeSpan.FromMinutes(10));
        counter.Collect("n1");
        Assert.Equal(0, counter.MinutesHeld);
        counter.Accepted([Event("h1")]); // a replay of a minute past the retention
        Assert.Equal(1, counter.Dropped);
    }
}
