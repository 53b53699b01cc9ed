using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

public class FilesSinkLayoutTests
{
    [Fact]
    public async Task Records_spread_over_two_hours_land_in_two_hour_folders_with_the_right_names()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        await sink.OpenAsync(CancellationToken.None);

        // Offsets 1000-1004 at 10:xx, 1005-1009 at 11:xx, 1010-1011 back at 10:xx (a late event).
        var batch = Records(1000, 1004, TenOClock).Concat(Records(1005, 1009, ElevenOClock)).Concat(Records(1010, 1011, TenOClock + 60_000)).ToList();
        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(
            [
                Path.Combine(HourDirectory(dir.Path, TenOClock), FinalName(0, 1000, 1011)),
                Path.Combine(HourDirectory(dir.Path, ElevenOClock), FinalName(0, 1005, 1009)),
            ],
            PublishedFiles(dir.Path));
        Assert.EndsWith(Path.Combine("nwdp.logs.web", "2024", "03", "05", "10"), HourDirectory(dir.Path, TenOClock));
        AssertPublishedExactly(dir.Path, batch);
        Assert.Empty(TemporaryFiles(dir.Path));
    }

    [Fact]
    public async Task The_hour_is_the_UTC_hour_of_the_system_timestamp_not_of_the_source_timestamp()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var record = Record(7, ElevenOClock + 1);
        record = record with { Event = record.Event with { Ts = TenOClock } };

        await WriteAllDelivered(sink, [record]);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(Path.Combine(HourDirectory(dir.Path, ElevenOClock), FinalName(0, 7, 7)), Assert.Single(PublishedFiles(dir.Path)));
    }

    [Fact]
    public async Task Each_partition_has_its_own_file_and_names_sort_by_partition_then_offset()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        // Interleaved across partitions, as a batch may be.
        var batch = Enumerable.Range(0, 20).Select(i => Record(500 + i / 2, TenOClock + i, partition: i % 2 == 0 ? 3 : 12)).ToList();

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        var hour = HourDirectory(dir.Path, TenOClock);
        Assert.Equal([Path.Combine(hour, FinalName(3, 500, 509)), Path.Combine(hour, FinalName(12, 500, 509))], PublishedFiles(dir.Path));
        AssertPublishedExactly(dir.Path, batch);
    }

    [Fact]
    public async Task Nothing_is_visible_under_a_final_name_before_FlushAsync()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var batch = Records(0, 99, TenOClock).Concat(Records(100, 199, ElevenOClock)).ToList();

        await WriteAllDelivered(sink, batch);

        Assert.Empty(PublishedFiles(dir.Path));
        var temporary = TemporaryFiles(dir.Path);
        Assert.Equal(2, temporary.Length);
        Assert.All(temporary, t => Assert.Matches(@"^\.nwdp\.logs\.web-p0000-o\d{20}\.ndjson\.tmp$", Path.GetFileName(t)));

        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(2, PublishedFiles(dir.Path).Length);
        Assert.Empty(TemporaryFiles(dir.Path));
        AssertPublishedExactly(dir.Path, batch);
    }

    [Fact]
    public async Task A_file_that_passes_the_roll_size_is_published_at_once()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path, rollSize: 2_000); // about ten lines
        var batch = Records(0, 99, TenOClock);

        await WriteAllDelivered(sink, batch);

        var early = PublishedFiles(dir.Path);
        Assert.True(early.Length >= 8, $"expected the full files published before the flush, got {early.Length}");
        Assert.All(early, f => Assert.True(new FileInfo(f).Length >= 2_000, $"{f} was published before it was full"));

        await sink.FlushAsync(CancellationToken.None);

        var files = PublishedFiles(dir.Path);
        Assert.Equal(early.Length + 1, files.Length);
        AssertPublishedExactly(dir.Path, batch);
        // The ranges follow each other: each file starts right after the one before.
        var ranges = files.Select(f => Path.GetFileName(f).Split("-o")).Select(p => (First: long.Parse(p[1]), Last: long.Parse(p[2][..20]))).ToList();
        Assert.Equal(0, ranges[0].First);
        Assert.Equal(99, ranges[^1].Last);
        for (var i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1].Last + 1, ranges[i].First);
    }

    [Fact]
    public async Task A_flush_with_nothing_written_publishes_nothing_and_a_later_write_opens_a_new_file()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);

        await sink.FlushAsync(CancellationToken.None);
        Assert.Empty(AllFiles(dir.Path));

        await WriteAllDelivered(sink, Records(0, 9, TenOClock));
        await sink.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(10, 19, TenOClock + 100));
        await sink.FlushAsync(CancellationToken.None);

        var hour = HourDirectory(dir.Path, TenOClock);
        Assert.Equal([Path.Combine(hour, FinalName(0, 0, 9)), Path.Combine(hour, FinalName(0, 10, 19))], PublishedFiles(dir.Path));
    }

    [Fact]
    public async Task Each_line_is_the_NDJSON_of_its_event_as_LogEventJson_writes_it()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var batch = Records(0, 2, TenOClock);

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        var bytes = File.ReadAllBytes(Assert.Single(PublishedFiles(dir.Path)));
        Assert.Equal(batch.SelectMany(r => LogEventJson.ToLine(r.Event)).ToArray(), bytes);
        foreach (var line in File.ReadLines(PublishedFiles(dir.Path)[0]))
        {
            using var json = JsonDocument.Parse(line); // one whole JSON object per line
            Assert.Equal("web-01", json.RootElement.GetProperty("host").GetString());
        }
    }

    [Fact]
    public async Task Events_that_cannot_be_placed_or_encoded_are_rejected_and_the_rest_delivered()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var good = Record(1, TenOClock);
        var batch = new List<SinkRecord>
        {
            Record(0, long.MaxValue),                                                       // no hour directory for that
            good,
            Record(2, TenOClock) with { Topic = "../escape" },                              // not a topic name
            Record(3, TenOClock) with { Partition = -1 },
            Record(4, TenOClock + 1),
        };

        var result = await sink.WriteAsync(batch, CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal([SinkOutcome.Rejected, SinkOutcome.Delivered, SinkOutcome.Rejected, SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.NotNull(result.Reasons);
        Assert.Contains("outside the years", result.Reasons[0]);
        Assert.Contains("not a Kafka topic name", result.Reasons[2]);
        Assert.Contains("partition -1", result.Reasons[3]);
        AssertPublishedExactly(dir.Path, [batch[1], batch[4]]);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "..", "escape")));
    }
}
