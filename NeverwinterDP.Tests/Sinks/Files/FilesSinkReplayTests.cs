using NeverwinterDP.Actors.Sinks;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

/// <summary>At-least-once delivery hands records over again; the files must still hold each exactly once.</summary>
public class FilesSinkReplayTests
{
    [Fact]
    public async Task Replaying_published_offsets_writes_no_duplicate_lines()
    {
        using var dir = new TempDir();
        var all = Records(0, 299, TenOClock, partition: 0).Concat(Records(0, 299, TenOClock, partition: 1)).ToList();
        await using (var first = Sink(dir.Path))
        {
            await WriteAllDelivered(first, all[..450]); // partition 0 whole, partition 1 up to 149
            await first.FlushAsync(CancellationToken.None);
        }

        // A restart: the pump's last commit was at offset 100 of both partitions, so it hands over 100-299 again.
        await using (var second = Sink(dir.Path))
        {
            var replay = all.Where(r => r.Offset >= 100).ToList();
            await WriteAllDelivered(second, replay);
            await second.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task A_partition_moving_between_two_writers_is_published_once()
    {
        // Two writers of one sink (nwdp.pump.writers-per-sink = 2), each with its own sink instance on one tree.
        using var dir = new TempDir();
        await using var a = Sink(dir.Path);
        await using var b = Sink(dir.Path);
        var p0 = Records(0, 199, TenOClock, partition: 0);
        var p1 = Records(0, 49, TenOClock, partition: 1);
        a.Assigned([(Topic, 0)]);
        b.Assigned([(Topic, 1)]);

        await WriteAllDelivered(b, p1);                 // b reads the topic's files now: nothing of partition 0 yet
        await b.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(a, p0[..100]);
        await a.FlushAsync(CancellationToken.None);     // 0-99 published; the commit that follows fails (broker down)
        await WriteAllDelivered(a, p0[100..150]);       // 100-149 in a's open file

        // A rebalance (a writer's consumer restarted): partition 0 goes to b, which reads it from the last commit (0).
        a.Revoked([(Topic, 0)]);
        b.Assigned([(Topic, 0)]);
        await WriteAllDelivered(a, p0[150..]);          // still in a's stream when it lost the partition
        await a.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(b, p0);
        await b.FlushAsync(CancellationToken.None);

        // And back to a, whose stream goes on from b's last commit (100, say): what b published since counts.
        b.Revoked([(Topic, 0)]);
        a.Assigned([(Topic, 0)]);
        await WriteAllDelivered(a, p0[100..]);
        await a.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(dir.Path, p0.Concat(p1));
    }

    [Fact]
    public async Task Replaying_offsets_within_one_instance_skips_what_is_already_written_or_published()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var all = Records(0, 199, TenOClock);

        await WriteAllDelivered(sink, all[..100]);
        await sink.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(sink, all[50..150]); // 50-99 published, 100-149 new
        await WriteAllDelivered(sink, all[120..]);   // 120-149 in the open file, 150-199 new
        await sink.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(sink, all);          // all of it again
        await sink.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task Replaying_over_two_hours_after_a_restart_skips_per_hour_and_loses_nothing()
    {
        using var dir = new TempDir();
        // Even offsets at 10:xx, odd ones at 11:xx: each hour's file has gaps where the other hour's records are.
        var all = Enumerable.Range(0, 400).Select(i => Record(i, (i % 2 == 0 ? TenOClock : ElevenOClock) + i)).ToList();
        await using (var first = Sink(dir.Path))
        {
            await WriteAllDelivered(first, all[..250]);
            await first.FlushAsync(CancellationToken.None);
        }
        await using (var second = Sink(dir.Path))
        {
            await WriteAllDelivered(second, all[101..]); // last commit at 100
            await second.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task A_crash_that_left_temporary_files_is_recovered_from_the_file_names_alone()
    {
        using var dir = new TempDir();
        var all = Records(0, 99, TenOClock).Concat(Records(100, 199, ElevenOClock)).Concat(Records(0, 199, TenOClock, partition: 5)).ToList();
        var crashed = Sink(dir.Path);
        await WriteAllDelivered(crashed, all.Where(r => r.Offset < 50).ToList());
        await crashed.FlushAsync(CancellationToken.None);
        await WriteAllDelivered(crashed, all.Where(r => r.Offset is >= 50 and < 150).ToList());
        await crashed.DisposeAsync(); // dies before its next flush: the temporary files stay, half a line at the end of one
        Assert.Equal(3, TemporaryFiles(dir.Path).Length);
        await File.AppendAllTextAsync(TemporaryFiles(dir.Path)[0], "{\"ts\":17000000");
        var stray = Path.Combine(HourDirectory(dir.Path, TenOClock), ".nwdp.logs.web-p0000-o00000000000000000077.ndjson.tmp");
        await File.WriteAllTextAsync(stray, "{\"half\":"); // an older crash's

        // The sink keeps no state beside the data files, so there is nothing else to lose: recovery reads names.
        Assert.All(AllFiles(dir.Path), f => Assert.Matches(@"^\.?nwdp\.logs\.web-p\d{4}-o\d{20}(-o\d{20})?\.ndjson(\.tmp)?$", Path.GetFileName(f)));

        await using (var restarted = Sink(dir.Path))
        {
            await WriteAllDelivered(restarted, all.Where(r => r.Offset >= 40).ToList()); // last commit at 39
            Assert.False(File.Exists(stray));
            Assert.Equal(3, TemporaryFiles(dir.Path).Length); // the leftovers are gone, the new files open
            await restarted.FlushAsync(CancellationToken.None);
        }

        Assert.Empty(TemporaryFiles(dir.Path));
        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task A_crash_between_the_renames_of_one_flush_is_recovered_exactly()
    {
        using var dir = new TempDir();
        // One partition, alternating hours: two files open with interleaved offsets.
        var all = Enumerable.Range(0, 100).Select(i => Record(i, (i % 2 == 0 ? TenOClock : ElevenOClock) + i)).ToList();
        var crashed = Sink(dir.Path);
        await WriteAllDelivered(crashed, all);
        await crashed.DisposeAsync();

        // The flush fsynced both files and renamed the 10:xx one (offsets 0-98) when the process died.
        var ten = HourDirectory(dir.Path, TenOClock);
        var temporary = Assert.Single(TemporaryFiles(dir.Path), t => t.StartsWith(ten, StringComparison.Ordinal));
        File.Move(temporary, Path.Combine(ten, FinalName(0, 0, 98)));

        // The highest published offset of the partition is now 98, but the 11:xx records 1-97 are in no file.
        await using (var restarted = Sink(dir.Path))
        {
            await WriteAllDelivered(restarted, all);
            await restarted.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task A_crash_after_a_roll_is_recovered_exactly()
    {
        using var dir = new TempDir();
        var all = Records(0, 210, TenOClock);
        var crashed = Sink(dir.Path, rollSize: 5_000);
        await WriteAllDelivered(crashed, all); // several files published by size, the last one still open
        await crashed.DisposeAsync();
        Assert.NotEmpty(PublishedFiles(dir.Path));
        Assert.Single(TemporaryFiles(dir.Path));

        await using (var restarted = Sink(dir.Path, rollSize: 5_000))
        {
            await WriteAllDelivered(restarted, all); // nothing was committed
            await restarted.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task Records_of_a_new_instance_that_follow_the_published_ones_are_all_written()
    {
        using var dir = new TempDir();
        var all = Records(0, 199, TenOClock);
        await using (var first = Sink(dir.Path))
        {
            await WriteAllDelivered(first, all[..100]);
            await first.FlushAsync(CancellationToken.None);
        }
        await using (var second = Sink(dir.Path))
        {
            await WriteAllDelivered(second, all[100..]);
            await second.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
        Assert.Equal(2, PublishedFiles(dir.Path).Length);
    }

    [Fact]
    public async Task A_replay_that_starts_inside_a_batch_of_several_partitions_is_exact()
    {
        using var dir = new TempDir();
        var all = Enumerable.Range(0, 600).Select(i => Record(i / 3, TenOClock + i, partition: i % 3)).ToList();
        await using (var first = Sink(dir.Path))
        {
            await WriteAllDelivered(first, all[..301]);
            await first.FlushAsync(CancellationToken.None);
            await WriteAllDelivered(first, all[301..450]); // never flushed
        }
        await using (var second = Sink(dir.Path))
        {
            // Each partition replays from its own last commit, in one interleaved batch.
            var replay = all.Where(r => r.Offset >= 20 + 30 * r.Partition).ToList();
            var result = await second.WriteAsync(replay, CancellationToken.None);
            Assert.True(result.IsAllDelivered);
            await second.FlushAsync(CancellationToken.None);
        }

        AssertPublishedExactly(dir.Path, all);
    }
}
