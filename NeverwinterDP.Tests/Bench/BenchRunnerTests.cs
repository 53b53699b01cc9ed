using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NeverwinterDP.Host.Bench;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Bench;

public sealed class BenchRunnerTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_event_arrives_exactly_once_retried_batches_are_counted_and_rejected_ones_reported()
    {
        const int events = 1000, batch = 10;
        // The first attempt of every third batch gets 429, of every seventh 503 (Retry-After: 0); the batch
        // holding seq 255 gets 400, the one holding seq 555 gets 413.
        var refused = new ConcurrentDictionary<long, bool>();
        await using var stub = await IngressStub.StartAsync(r =>
        {
            var index = r.FirstSeq / batch;
            if (r.Seqs.Contains(255)) return new StubAnswer(400, Body: """{"error":"field 'level' must be a string","line":6}""");
            if (r.Seqs.Contains(555)) return new StubAnswer(413);
            if (index % 3 == 0 && refused.TryAdd(index, true)) return new StubAnswer(429, RetryAfterSeconds: 0);
            if (index % 7 == 1 && refused.TryAdd(index, true)) return new StubAnswer(503, RetryAfterSeconds: 0);
            return StubAnswer.Ok;
        });
        var batches = events / batch;
        var expected429 = Enumerable.Range(0, batches).Count(i => i % 3 == 0 && i != 25 && i != 55);
        var expected503 = Enumerable.Range(0, batches).Count(i => i % 3 != 0 && i % 7 == 1 && i != 25 && i != 55);

        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = BenchOptions.ResolveEventsUrl(stub.BaseUrl.ToString()), // the base URL gets /v1/events
            Events = events,
            Batch = batch,
            Concurrency = 8,
            RecordMessages = true,
        }, null, timeout.Token);

        Assert.Empty(stub.Problems);
        Assert.Equal(events, report.EventsSent);
        Assert.Equal(events - 2 * batch, report.EventsAccepted);
        Assert.Equal(2 * batch, report.EventsFailed);
        Assert.Equal(2, report.Errors);
        Assert.Equal(0, report.TransportErrors);
        Assert.Equal(expected429 + expected503, report.Retries);
        Assert.Equal(batches + expected429 + expected503, report.Requests);
        Assert.Equal(batches - 2, report.Status[200]);
        Assert.Equal(expected429, report.Status[429]);
        Assert.Equal(expected503, report.Status[503]);
        Assert.Equal(1, report.Status[400]);
        Assert.Equal(1, report.Status[413]);
        Assert.Equal(report.Requests, report.Status.Values.Sum());
        Assert.Equal(1, report.ExitCode);
        Assert.Contains(report.ErrorSamples, s => s.StartsWith("400", StringComparison.Ordinal) && s.Contains("\"line\":6", StringComparison.Ordinal));
        Assert.Contains(report.ErrorSamples, s => s.StartsWith("413", StringComparison.Ordinal));

        // Exactly once: what the server accepted is what the bench says was accepted, each message once.
        Assert.Equal(events - 2 * batch, stub.Accepted.Count);
        Assert.All(stub.Accepted.Values, n => Assert.Equal(1, n));
        Assert.NotNull(report.AcceptedMessages);
        Assert.Equal(stub.Accepted.Keys.Order(StringComparer.Ordinal), report.AcceptedMessages!.Order(StringComparer.Ordinal));
        var failedSeqs = report.FailedMessages!.Select(m => BenchEventGenerator.ParseMessage(m)!.Value.Seq).Order().ToArray();
        Assert.Equal(Enumerable.Range(250, 10).Concat(Enumerable.Range(550, 10)).Select(i => (long)i), failedSeqs);
        Assert.All(report.AcceptedMessages!, m => Assert.Equal(report.RunId, BenchEventGenerator.ParseMessage(m)!.Value.RunId));

        Assert.True(report.P50Ms > 0 && report.P50Ms <= report.P99Ms && report.P99Ms <= report.MaxMs, $"{report.P50Ms} {report.P99Ms} {report.MaxMs}");
        Assert.True(report.EventsPerSecond > 0);
        Assert.True(report.MiBPerSecond > 0);
        Assert.Equal((events - 2 * batch) * 201L, report.BytesAccepted); // 200-byte lines + newline
    }

    [Fact]
    public async Task Gzip_bodies_arrive_whole()
    {
        await using var stub = await IngressStub.StartAsync(_ => StubAnswer.Ok);
        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 777,
            Batch = 50,
            Concurrency = 3,
            EventSize = 500,
            Gzip = true,
        }, null, timeout.Token);

        Assert.Empty(stub.Problems);
        Assert.Equal(0, report.Errors);
        Assert.Equal(777, report.EventsAccepted);
        Assert.Equal(16, report.Requests); // 15 x 50 + 27
        Assert.Equal(777, stub.Accepted.Count);
        Assert.True(report.BytesSent < report.BytesAccepted / 2, $"gzip sent {report.BytesSent} of {report.BytesAccepted}");
        Assert.Equal(777 * 501L, report.BytesAccepted);
    }

    [Fact]
    public async Task Progress_is_reported_while_requests_are_in_flight_and_once_at_the_end()
    {
        // The stub holds every request until the test has seen three progress reports, the last with all four
        // requests in flight.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stub = await IngressStub.StartAsync(async (_, aborted) =>
        {
            await release.Task.WaitAsync(aborted);
            return StubAnswer.Ok;
        });
        var reports = new ConcurrentQueue<BenchProgress>();
        var progress = new SyncProgress(p =>
        {
            reports.Enqueue(p);
            if (reports.Count(r => !r.Final) >= 3 && p is { InFlight: 4, Requests: 4 }) release.TrySetResult();
        });

        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 400,
            Batch = 100,
            Concurrency = 4,
            ProgressInterval = TimeSpan.FromMilliseconds(20),
        }, progress, timeout.Token);

        Assert.Equal(0, report.Errors);
        Assert.Equal(400, report.EventsAccepted);
        var all = reports.ToArray();
        Assert.True(all.Count(r => !r.Final) >= 3);
        var first = all[0];
        Assert.False(first.Final);
        Assert.Equal(0, first.EventsAccepted);
        Assert.Contains(all, r => r is { Final: false, InFlight: 4, EventsSent: 400, EventsAccepted: 0, Requests: 4 });
        var last = Assert.Single(all, r => r.Final);
        Assert.Same(last, all[^1]);
        Assert.Equal(400, last.EventsAccepted);
        Assert.Equal(0, last.Errors);
        Assert.Equal(0, last.InFlight);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.Item1.Elapsed <= p.Item2.Elapsed));
        Assert.Contains("accepted", first.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duration_alone_means_no_event_limit_and_every_event_is_accounted_for()
    {
        await using var stub = await IngressStub.StartAsync(_ => StubAnswer.Ok);
        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = null,
            Duration = TimeSpan.FromMilliseconds(300),
            Batch = 20,
            Concurrency = 2,
        }, null, timeout.Token);

        Assert.False(report.Cancelled);
        Assert.Equal(0, report.Errors);
        Assert.True(report.EventsAccepted > 0);
        Assert.Equal(report.EventsSent, report.EventsAccepted);
        Assert.Equal(report.EventsAccepted, stub.Accepted.Count);
        Assert.True(report.Elapsed >= TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Cancelling_lets_requests_in_flight_finish_and_still_reports()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stub = await IngressStub.StartAsync(async (r, aborted) =>
        {
            if (r.Number >= 2) arrived.TrySetResult();
            await release.Task.WaitAsync(aborted);
            return StubAnswer.Ok;
        });
        using var cancel = new CancellationTokenSource();
        var run = BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 1_000_000,
            Batch = 10,
            Concurrency = 2,
            DrainTimeout = TestTimeout,
        }, null, cancel.Token);

        await arrived.Task.WaitAsync(TestTimeout);
        await cancel.CancelAsync();
        release.SetResult();
        var report = await run.WaitAsync(TestTimeout);

        Assert.True(report.Cancelled);
        Assert.Equal(0, report.Errors);
        Assert.Equal(20, report.EventsSent);
        Assert.Equal(20, report.EventsAccepted);
        Assert.Equal(20, stub.Accepted.Count);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task Cancelling_with_no_drain_time_aborts_requests_in_flight_as_transport_errors()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stub = await IngressStub.StartAsync(async (r, aborted) =>
        {
            if (r.Number >= 3) arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, aborted);
            return StubAnswer.Ok;
        });
        using var cancel = new CancellationTokenSource();
        var run = BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 1_000_000,
            Batch = 10,
            Concurrency = 3,
            DrainTimeout = TimeSpan.Zero,
        }, null, cancel.Token);

        await arrived.Task.WaitAsync(TestTimeout);
        await cancel.CancelAsync();
        var report = await run.WaitAsync(TestTimeout);

        Assert.True(report.Cancelled);
        Assert.Equal(30, report.EventsSent);
        Assert.Equal(0, report.EventsAccepted);
        Assert.Equal(30, report.EventsFailed);
        Assert.Equal(3, report.TransportErrors);
        Assert.Equal(3, report.Errors);
        Assert.Empty(report.Status);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task A_node_that_is_not_there_is_a_transport_error_per_batch()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = BenchOptions.ResolveEventsUrl($"127.0.0.1:{port}"),
            Events = 50,
            Batch = 10,
            Concurrency = 2,
        }, null, timeout.Token);

        Assert.Equal(5, report.Requests);
        Assert.Equal(5, report.TransportErrors);
        Assert.Equal(5, report.Errors);
        Assert.Equal(50, report.EventsFailed);
        Assert.Equal(0, report.EventsAccepted);
        Assert.Empty(report.Status);
        Assert.StartsWith("transport: ", report.ErrorSamples[0], StringComparison.Ordinal);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task A_batch_refused_for_longer_than_the_retry_timeout_is_an_error()
    {
        await using var stub = await IngressStub.StartAsync(_ => new StubAnswer(503, RetryAfterSeconds: 0));
        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 10,
            Batch = 10,
            Concurrency = 1,
            // Long enough that a cold first request (JIT, connection) still leaves time to retry.
            RetryTimeout = TimeSpan.FromSeconds(2),
        }, null, timeout.Token);

        Assert.Equal(1, report.Errors);
        Assert.Equal(10, report.EventsFailed);
        Assert.Equal(report.Requests, report.Status[503]);
        Assert.Equal(report.Requests - 1, report.Retries);
        Assert.True(report.Requests >= 2, $"only {report.Requests} requests: the batch was never retried");
        Assert.Contains("retrying", report.ErrorSamples[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Options_out_of_range_are_refused_by_name()
    {
        var url = new Uri("http://127.0.0.1:1/v1/events");
        Assert.Equal("Batch", Assert.Throws<ArgumentException>(() => new BenchOptions { Url = url, Batch = 0 }.Validate()).ParamName);
        Assert.Equal("Events", Assert.Throws<ArgumentException>(() => new BenchOptions { Url = url, Events = 0 }.Validate()).ParamName);
        Assert.Equal("Type", Assert.Throws<ArgumentException>(() => new BenchOptions { Url = url, Type = "a b" }.Validate()).ParamName);
        new BenchOptions { Url = url }.Validate();
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/events")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/events")]
    [InlineData("http://node-1:8080/v1/events", "http://node-1:8080/v1/events")]
    [InlineData("127.0.0.1:9000", "http://127.0.0.1:9000/v1/events")]
    [InlineData("https://logs.example.com/ingest/", "https://logs.example.com/ingest/v1/events")]
    [InlineData("http://127.0.0.1:8080/v1/events?type=nginx", "http://127.0.0.1:8080/v1/events?type=nginx")]
    public void Base_urls_get_the_events_path(string raw, string expected) =>
        Assert.Equal(expected, BenchOptions.ResolveEventsUrl(raw).ToString());

    private sealed class SyncProgress(Action<BenchProgress> onReport) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => onReport(value);
    }
}
