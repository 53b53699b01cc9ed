using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

public class FilesSinkFailureTests
{
    [Fact]
    public async Task A_file_that_cannot_be_created_errors_its_records_and_a_retry_delivers_them()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        await sink.OpenAsync(CancellationToken.None);
        // A regular file where the 11:xx directory must go.
        var eleven = HourDirectory(dir.Path, ElevenOClock);
        Directory.CreateDirectory(Path.GetDirectoryName(eleven)!);
        await File.WriteAllTextAsync(eleven, "in the way");
        var batch = Records(0, 9, TenOClock).Concat(Records(10, 19, ElevenOClock)).Concat(Records(20, 29, TenOClock + 100)).ToList();

        var result = await sink.WriteAsync(batch, CancellationToken.None);

        Assert.Equal(Enumerable.Repeat(SinkOutcome.Delivered, 10), result.Outcomes.Take(10));
        Assert.Equal(Enumerable.Repeat(SinkOutcome.Errored, 10), result.Outcomes.Skip(10).Take(10));
        Assert.Equal(Enumerable.Repeat(SinkOutcome.Delivered, 10), result.Outcomes.Skip(20));

        // The flush publishes what was delivered; the pump retries the errored records once the disk is fixed.
        await sink.FlushAsync(CancellationToken.None);
        File.Delete(eleven);
        await WriteAllDelivered(sink, batch.Skip(10).Take(10).ToList());
        await sink.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(dir.Path, batch);
    }

    [Fact]
    public async Task Later_records_of_an_hour_whose_file_failed_are_refused_until_the_lost_ones_come_again()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var eleven = HourDirectory(dir.Path, ElevenOClock);
        Directory.CreateDirectory(Path.GetDirectoryName(eleven)!);
        await File.WriteAllTextAsync(eleven, "in the way");

        var first = await sink.WriteAsync(Records(0, 4, ElevenOClock), CancellationToken.None);
        File.Delete(eleven);
        // Writing 5-9 now would publish them above the lost 0-4, and a replay of 0-4 would then be skipped.
        var later = await sink.WriteAsync(Records(5, 9, ElevenOClock + 10), CancellationToken.None);
        var retry = await sink.WriteAsync(Records(0, 9, ElevenOClock), CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        Assert.All(first.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.All(later.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.True(retry.IsAllDelivered);
        AssertPublishedExactly(dir.Path, Records(0, 9, ElevenOClock));
    }

    [Fact]
    public async Task A_file_lost_before_its_publish_makes_the_flush_demand_a_replay_which_repairs_it()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path);
        var all = Records(0, 99, TenOClock);
        await WriteAllDelivered(sink, all[..50]);
        // Someone removes the temporary file: its delivered records are gone, the rename must fail.
        File.Delete(Assert.Single(TemporaryFiles(dir.Path)));

        var flush = await Assert.ThrowsAsync<RedeliveryRequiredException>(() => sink.FlushAsync(CancellationToken.None));
        Assert.Contains("from offset 0", flush.Message);
        // Until the replay comes, later records are not taken (and the sink keeps saying why).
        await Assert.ThrowsAsync<RedeliveryRequiredException>(() => sink.WriteAsync(all[50..], CancellationToken.None));
        await Assert.ThrowsAsync<RedeliveryRequiredException>(() => sink.FlushAsync(CancellationToken.None));

        // The pump restarts from its last commit (nothing committed): the replay repairs the hour.
        await WriteAllDelivered(sink, all);
        await sink.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(dir.Path, all);
    }

    [Fact]
    public async Task Disposing_closes_open_files_without_publishing_them()
    {
        using var dir = new TempDir();
        var sink = Sink(dir.Path);
        await WriteAllDelivered(sink, Records(0, 9, TenOClock));

        await sink.DisposeAsync();

        Assert.Empty(PublishedFiles(dir.Path));
        var temporary = Assert.Single(TemporaryFiles(dir.Path));
        Assert.Equal(10, File.ReadLines(temporary).Count());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sink.WriteAsync(Records(10, 10, TenOClock), CancellationToken.None));
    }

    [Fact]
    public async Task Health_fails_for_a_directory_under_a_regular_file()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        await using var sink = Sink(Path.Combine(file, "sinks", "files"));

        await Assert.ThrowsAnyAsync<IOException>(() => sink.OpenAsync(CancellationToken.None));
        var health = await sink.CheckHealthAsync(CancellationToken.None);

        Assert.False(health.Healthy);
        Assert.Contains("a-file", health.Detail);
    }

    [Fact]
    public async Task Health_passes_for_a_writable_directory_and_leaves_no_probe_behind()
    {
        using var dir = new TempDir();
        await using var sink = Sink(Path.Combine(dir.Path, "files"));
        await sink.OpenAsync(CancellationToken.None);

        var health = await sink.CheckHealthAsync(CancellationToken.None);

        Assert.True(health.Healthy, health.Detail);
        Assert.Empty(AllFiles(dir.Path));
    }
}
