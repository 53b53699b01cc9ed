using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Compliance;

/// <summary>A record as the store holds it, read back by the test (independently of the sink's own code where possible).</summary>
public sealed record StoredRecord(string Topic, int Partition, long Offset, string Message);

/// <summary>Dead letters kept in memory, for assertions.</summary>
public sealed class RecordingDeadLetters : IDeadLetterQueue
{
    private readonly List<DeadLetterRecord> _letters = new();

    public IReadOnlyList<DeadLetterRecord> Letters
    {
        get { lock (_letters) return _letters.ToList(); }
    }

    public Task SendAsync(string sink, IReadOnlyList<DeadLetterRecord> letters, CancellationToken cancellation)
    {
        lock (_letters) _letters.AddRange(letters);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The contract every sink keeps, run through the shared framework (<see cref="SinkDelivery"/>): a sink's test
/// class inherits this and says how to reach its store. xunit makes one instance per test, so each test
/// gets the fresh store <see cref="PrepareStoreAsync"/> sets up (its own table, index, directory, ...).
/// </summary>
public abstract class SinkComplianceSuite : IAsyncLifetime
{
    protected const string Topic = "nwdp.logs.compliance";

    protected RecordingDeadLetters DeadLetters { get; } = new();

    /// <summary>Fast backoff so retries do not slow the suite (the policy itself is the framework's).</summary>
    protected static SinkRetryOptions FastRetry { get; } = new() { MinBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) };

    /// <summary>Sets up an empty store for this test (server-side objects named uniquely per test).</summary>
    protected abstract Task PrepareStoreAsync();

    /// <summary>Removes what <see cref="PrepareStoreAsync"/> made (and stops what it started).</summary>
    protected abstract Task CleanUpStoreAsync();

    /// <summary>A new sink instance writing to this test's store; called more than once to model a restart.</summary>
    protected abstract ISink CreateSink();

    /// <summary>A sink of the same kind pointed at a server that is not there (a closed port, a dead socket).</summary>
    protected abstract ISink CreateUnreachableSink();

    /// <summary>Everything the store holds for this test, read back as independently of the sink as the store allows.</summary>
    protected abstract Task<IReadOnlyList<StoredRecord>> ReadStoredAsync();

    /// <summary>
    /// Makes the next write attempt fail transiently (the server answers 503/429, a connection is killed, ...);
    /// the store recovers by itself, so a retry succeeds.
    /// </summary>
    protected abstract Task FailNextWriteAsync();

    /// <summary>An event this store refuses for good (too large a field, a value its schema cannot hold, ...).</summary>
    protected abstract LogEvent RejectableEvent(long offset);

    public Task InitializeAsync() => PrepareStoreAsync();

    public Task DisposeAsync() => CleanUpStoreAsync();

    protected static LogEvent Event(long offset, string? message = null) =>
        new()
        {
            Ts = 1_764_300_000_000 + offset,
            SystemTs = 1_764_300_000_100 + offset,
            Host = "host-" + (offset % 3),
            Ip = "10.0.0." + (offset % 250),
            Process = "app",
            Type = "compliance",
            Version = "1",
            Level = offset % 10 == 0 ? "error" : "info",
            Message = message ?? $"message {offset}",
            Attributes = new Dictionary<string, string> { ["offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Lineage = new Lineage("node-1", offset + 1),
        };

    protected static List<SinkRecord> Records(long from, int count, int partition = 0) =>
        Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, partition, from + i, Event(from + i))).ToList();

    protected async Task<SinkDelivery> OpenAsync(ISink sink)
    {
        await sink.OpenAsync(CancellationToken.None);
        return new SinkDelivery(sink, FastRetry, DeadLetters);
    }

    private static void AssertExactlyOnce(IEnumerable<SinkRecord> expected, IReadOnlyList<StoredRecord> stored)
    {
        var want = expected.Select(r => (r.Topic, r.Partition, r.Offset, r.Event.Message)).OrderBy(r => r.Partition).ThenBy(r => r.Offset).ToList();
        var got = stored.Select(s => (s.Topic, s.Partition, s.Offset, s.Message)).OrderBy(r => r.Partition).ThenBy(r => r.Offset).ToList();
        Assert.Equal(want.Count, got.Count);
        Assert.Equal(want, got);
    }

    [Fact]
    public async Task Delivers_a_batch()
    {
        await using var sink = CreateSink();
        var delivery = await OpenAsync(sink);
        var batch = Records(0, 300).Concat(Records(0, 200, partition: 1)).ToList();

        var report = await delivery.DeliverAsync(batch, CancellationToken.None);
        await delivery.FlushAsync(CancellationToken.None);

        Assert.Equal(new DeliveryReport(500, 0, 0), report);
        AssertExactlyOnce(batch, await ReadStoredAsync());
        Assert.Empty(DeadLetters.Letters);
    }

    [Fact]
    public async Task Retries_an_errored_write()
    {
        await using var sink = CreateSink();
        var delivery = await OpenAsync(sink);
        var first = Records(0, 100);
        await delivery.DeliverAsync(first, CancellationToken.None);
        await delivery.FlushAsync(CancellationToken.None);

        await FailNextWriteAsync();
        var second = Records(100, 100);
        var report = await delivery.DeliverAsync(second, CancellationToken.None);
        await delivery.FlushAsync(CancellationToken.None);

        Assert.Equal(100, report.Delivered);
        Assert.True(delivery.Metrics.Retries >= 1, "the failed write was retried");
        AssertExactlyOnce(first.Concat(second), await ReadStoredAsync());
        Assert.Empty(DeadLetters.Letters);
    }

    [Fact]
    public async Task Dead_letters_a_rejected_record_and_goes_on()
    {
        await using var sink = CreateSink();
        var delivery = await OpenAsync(sink);
        var batch = Records(0, 50);
        batch[20] = new SinkRecord(Topic, 0, 20, RejectableEvent(20));

        var report = await delivery.DeliverAsync(batch, CancellationToken.None);
        var next = Records(50, 50);
        var nextReport = await delivery.DeliverAsync(next, CancellationToken.None);
        await delivery.FlushAsync(CancellationToken.None);

        Assert.Equal(new DeliveryReport(49, 1, report.Retries), report);
        Assert.Equal(50, nextReport.Delivered);
        var letter = Assert.Single(DeadLetters.Letters);
        Assert.Equal(20, letter.Record.Offset);
        Assert.False(string.IsNullOrWhiteSpace(letter.Reason));
        AssertExactlyOnce(batch.Where(r => r.Offset != 20).Concat(next), await ReadStoredAsync());
    }

    [Fact]
    public async Task A_replay_of_the_same_offsets_leaves_no_duplicate()
    {
        var batch = Records(0, 200);
        await using (var sink = CreateSink())
        {
            var delivery = await OpenAsync(sink);
            await delivery.DeliverAsync(batch, CancellationToken.None);
            await delivery.FlushAsync(CancellationToken.None);
        }

        // A restart that resumes at older offsets (uncommitted work is read again): the same records and more.
        var replay = Records(100, 200);
        await using (var sink = CreateSink())
        {
            var delivery = await OpenAsync(sink);
            await delivery.DeliverAsync(replay, CancellationToken.None);
            await delivery.FlushAsync(CancellationToken.None);
        }

        AssertExactlyOnce(Records(0, 300), await ReadStoredAsync());
    }

    [Fact]
    public async Task Health_check_passes_when_the_store_is_reachable()
    {
        await using var sink = CreateSink();
        await sink.OpenAsync(CancellationToken.None);
        var health = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(health.Healthy, health.Detail);
    }

    [Fact]
    public async Task Health_check_fails_on_an_unreachable_server()
    {
        await using var sink = CreateUnreachableSink();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var health = await sink.CheckHealthAsync(timeout.Token);
        Assert.False(health.Healthy);
        Assert.False(string.IsNullOrWhiteSpace(health.Detail));
    }
}
