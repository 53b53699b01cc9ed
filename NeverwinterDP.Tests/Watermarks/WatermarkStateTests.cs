using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Watermarks;

/// <summary>
/// A pump node restarts: its sink's watermark state (<c>&lt;data&gt;/watermarks/&lt;sink&gt;.json</c>) brings back the
/// markers read before, since the pump never reads a committed marker again; and an announcement counts only once the
/// sink acted on it, so a crash between the hour's files and its <c>_SUCCESS</c> announces it again.
/// </summary>
public sealed class WatermarkStateTests : IDisposable
{
    private const string Topic = "nwdp.logs.app";
    private static readonly DateTimeOffset Hour = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly long H = Hour.ToUnixTimeMilliseconds();

    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(Hour.AddMinutes(30));
    private readonly WatermarkOptions _options = new() { Grace = TimeSpan.FromMinutes(15) };

    public void Dispose() => _dir.Dispose();

    private sealed class TwoPartitions : IPartitionCounts
    {
        public int Of(string topic) => 2;
    }

    /// <summary>The sink's completion listener: records what it was told, or fails (the crash before <c>_SUCCESS</c>).</summary>
    private sealed class Sink : IHourCompletionListener
    {
        public bool Fail { get; set; }

        public List<HourCompletion> Told { get; } = [];

        public Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation)
        {
            if (Fail) throw new IOException("disk gone before _SUCCESS");
            Told.Add(completion);
            return Task.CompletedTask;
        }
    }

    private string StateDir => Path.Combine(_dir.Path, "watermarks");

    private WatermarkHub Hub() => new(_options, _clock, new TwoPartitions(), stateDirectory: StateDir);

    private static WatermarkObservation Events(string node, int partition, long n) => new(Topic, partition, H, node, n);

    private static WatermarkObservation Marker(string node, int partition, long count) =>
        new(Topic, partition, H, node, 0, new HourMarker(Topic, H, node, partition, count));

    [Fact]
    public async Task Markers_read_before_a_restart_still_count_and_the_hour_completes_after_it()
    {
        // Before the restart: a's events and markers, b's events and its marker of partition 0.
        var before = Hub();
        before.For("files").Observe([Events("a", 0, 3), Events("a", 1, 4), Marker("a", 0, 3), Marker("a", 1, 4), Events("b", 0, 2), Marker("b", 0, 2)]);
        Assert.True(File.Exists(Path.Combine(StateDir, "files.json")));
        // No dispose: a SIGKILL saves nothing more.

        // After it, only what the pump reads from its committed offsets on: b's last marker.
        var after = Hub();
        var sink = new Sink();
        using var listening = after.Listen("files", sink);
        after.For("files").Observe([Marker("b", 1, 0)]);
        _clock.Advance(TimeSpan.FromMinutes(31));
        var done = Assert.Single(await after.CheckAsync(CancellationToken.None));

        Assert.Equal((HourCompletion.Complete, 1, 9L), (done.State, done.Version, done.Delivered));
        Assert.Equal(new long[] { 5, 4 }, done.Counts);
        Assert.Equal(["a", "b"], done.Nodes);
        Assert.Equal(done, Assert.Single(sink.Told));
        await after.DisposeAsync();
    }

    [Fact]
    public async Task A_crash_between_the_files_and_SUCCESS_announces_the_same_version_again_and_an_announced_hour_is_not_repeated()
    {
        var crashing = Hub();
        var failing = new Sink { Fail = true };
        using (crashing.Listen("files", failing))
        {
            crashing.For("files").Observe([Events("a", 0, 3), Marker("a", 0, 3), Events("a", 1, 1), Marker("a", 1, 1)]);
            _clock.Advance(TimeSpan.FromMinutes(31));
            Assert.Empty(await crashing.CheckAsync(CancellationToken.None)); // the sink failed: nothing announced
        }
        // The node dies here.

        var restarted = Hub();
        var sink = new Sink();
        using (restarted.Listen("files", sink))
        {
            restarted.For("files"); // the sink's pump starts again
            var done = Assert.Single(await restarted.CheckAsync(CancellationToken.None));
            Assert.Equal((HourCompletion.Complete, 1, 4L), (done.State, done.Version, done.Events));
            Assert.Empty(await restarted.CheckAsync(CancellationToken.None));
        }

        // Announced and saved: the next restart does not announce it again.
        var again = Hub();
        var quiet = new Sink();
        using (again.Listen("files", quiet))
        {
            again.For("files");
            Assert.Empty(await again.CheckAsync(CancellationToken.None));
        }
        Assert.Empty(quiet.Told);
        Assert.Single(sink.Told);
    }

    [Fact]
    public async Task A_failed_sink_is_told_the_completion_again_at_the_next_check_without_a_restart()
    {
        await using var hub = Hub();
        var sink = new Sink { Fail = true };
        using var listening = hub.Listen("files", sink);
        hub.For("files").Observe([Marker("a", 0, 0), Marker("a", 1, 0)]);
        _clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Empty(await hub.CheckAsync(CancellationToken.None));

        sink.Fail = false;
        var done = Assert.Single(await hub.CheckAsync(CancellationToken.None));
        Assert.Equal((1, HourCompletion.Complete), (done.Version, done.State));
    }

    [Fact]
    public void A_state_file_that_cannot_be_read_is_an_error_naming_it_not_a_silent_fresh_start()
    {
        Directory.CreateDirectory(StateDir);
        var path = Path.Combine(StateDir, "files.json");
        File.WriteAllText(path, "{\"sink\":\"files\",\"hours\":[{\"topic\":");
        var e = Assert.Throws<InvalidDataException>(() => Hub().For("files"));
        Assert.Contains(path, e.Message);
    }
}
