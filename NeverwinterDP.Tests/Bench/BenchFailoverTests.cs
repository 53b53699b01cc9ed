using System.Net;
using System.Net.Sockets;
using NeverwinterDP.Host.Bench;
using NeverwinterDP.Host.Cli;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Bench;

/// <summary>
/// <c>nwdp bench</c> over several nodes (<see cref="BenchTargets"/>): the rotation and set-aside rules on a manual
/// clock, and the runner failing batches over between ingress stubs and a port nobody listens on.
/// </summary>
public sealed class BenchFailoverTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    private static readonly Uri[] Three = [new("http://a:1/v1/events"), new("http://b:1/v1/events"), new("http://c:1/v1/events")];

    [Fact]
    public void Workers_start_on_their_home_node_and_a_failed_node_is_passed_over_until_its_cool_down_is_over()
    {
        long now = 1_000;
        var second = System.Diagnostics.Stopwatch.Frequency;
        var targets = new BenchTargets(Three, TimeSpan.FromSeconds(2), () => now);

        Assert.Equal([0, 1, 2, 0, 1], Enumerable.Range(0, 5).Select(targets.Home));
        Assert.Equal(1, targets.Pick(1));

        // Node 1 fails a batch: it goes to node 2, and node 1's workers send to node 2 too while it is set aside.
        Assert.Equal(2, targets.FailOver(1));
        Assert.False(targets.IsUp(1));
        Assert.Equal(2, targets.Pick(1));
        Assert.Equal(0, targets.Pick(0));

        // Node 2 fails too: everything goes to node 0.
        Assert.Equal(0, targets.FailOver(2));
        Assert.Equal(0, targets.Pick(1));
        Assert.Equal(0, targets.Pick(2));

        // Once its cool-down is over node 1 gets its batches again.
        now += 2 * second;
        Assert.True(targets.IsUp(1));
        Assert.Equal(1, targets.Pick(1));
    }

    [Fact]
    public void When_every_node_is_set_aside_the_one_whose_cool_down_ends_first_is_tried()
    {
        long now = 1_000;
        var targets = new BenchTargets(Three, TimeSpan.FromSeconds(5), () => now);
        targets.FailOver(2);
        now += 10;
        targets.FailOver(0);
        now += 10;
        // The last node up fails: no node is up; node 2 was set aside first, so it is up first.
        Assert.Equal(2, targets.FailOver(1));
        Assert.Equal(2, targets.Pick(0));
        Assert.Equal(2, targets.Pick(1));
    }

    [Fact]
    public void One_node_is_always_picked_and_no_urls_or_a_negative_cool_down_are_refused()
    {
        var one = new BenchTargets([Three[0]], TimeSpan.FromSeconds(1));
        Assert.Equal(0, one.FailOver(0));
        Assert.Equal(0, one.Pick(0));
        Assert.Throws<ArgumentException>(() => new BenchTargets([], TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BenchTargets(Three, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task Batches_are_spread_over_the_nodes_and_those_a_closed_port_or_a_503_refuses_go_to_another_once_each()
    {
        const int events = 2000, batch = 10;
        await using var good = await IngressStub.StartAsync(_ => StubAnswer.Ok);
        // Refuses every third request: a node shedding load, or stopping.
        await using var busy = await IngressStub.StartAsync(r => r.Number % 3 == 0 ? new StubAnswer(503, RetryAfterSeconds: 1) : StubAnswer.Ok);
        var closed = ClosedPort();

        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = good.EventsUrl,
            Urls = [good.EventsUrl, BenchOptions.ResolveEventsUrl($"127.0.0.1:{closed}"), busy.EventsUrl],
            Events = events,
            Batch = batch,
            Concurrency = 6,
            FailoverCoolDown = TimeSpan.FromMilliseconds(200),
            RecordMessages = true,
        }, null, timeout.Token);

        Assert.Equal(0, report.Errors);
        Assert.Equal(events, report.EventsAccepted);
        Assert.Equal(0, report.ResentEvents); // refused at connect or answered 503: never taken, so never sent twice
        // Every event accepted by exactly one of the two nodes, once.
        var accepted = good.Accepted.Concat(busy.Accepted).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        Assert.Equal(events, accepted.Count);
        Assert.All(accepted, kv => Assert.Equal(1, kv.Value));
        Assert.Equal(report.AcceptedMessages!.Order(), accepted.Keys.Order());

        Assert.Equal(3, report.Urls.Count);
        Assert.Equal(good.Accepted.Count, report.Urls[0].EventsAccepted);
        Assert.Equal(0, report.Urls[1].EventsAccepted);
        Assert.True(report.Urls[1].FailedOver > 0, "the closed port was never tried");
        Assert.Equal(report.Urls[1].Requests, report.Urls[1].FailedOver);
        Assert.Equal(busy.Accepted.Count, report.Urls[2].EventsAccepted);
        Assert.True(busy.Accepted.Count > 0, "the busy node took nothing: batches were not spread");
        Assert.Equal(busy.Answered.GetValueOrDefault(503), report.Urls[2].FailedOver);
        Assert.Equal(report.Urls.Sum(u => u.FailedOver), report.Failovers);
        Assert.Equal(report.Requests, report.Urls.Sum(u => u.Requests));
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task A_batch_whose_answer_was_lost_goes_to_another_node_and_is_counted_as_resent()
    {
        const int events = 200, batch = 10;
        // The slow node takes its first batch but answers after the bench stopped waiting: the answer is lost.
        await using var slow = await IngressStub.StartAsync(async (r, _) =>
        {
            if (r.Number == 1) await Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None);
            return StubAnswer.Ok;
        });
        await using var good = await IngressStub.StartAsync(_ => StubAnswer.Ok);

        using var timeout = new CancellationTokenSource(TestTimeout);
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = slow.EventsUrl,
            Urls = [slow.EventsUrl, good.EventsUrl],
            Events = events,
            Batch = batch,
            Concurrency = 2,
            RequestTimeout = TimeSpan.FromSeconds(2),
            RecordMessages = true,
        }, null, timeout.Token);
        await WaitAsync(() => slow.Answered.GetValueOrDefault(200) == slow.Requests, "the slow node to answer its first batch");

        Assert.Equal(0, report.Errors);
        Assert.Equal(events, report.EventsAccepted);
        Assert.Equal(1, report.TransportErrors);
        Assert.Equal(batch, report.ResentEvents);
        // The lost-answer batch reached both nodes: the sender's duplicate the report names.
        var twice = slow.Accepted.Keys.Intersect(good.Accepted.Keys).ToList();
        Assert.Equal(batch, twice.Count);
        Assert.Equal(events, slow.Accepted.Count + good.Accepted.Count - batch);
    }

    [Fact]
    public async Task The_longest_gap_between_acknowledgements_and_every_gap_over_the_threshold_are_reported()
    {
        var stall = TimeSpan.FromMilliseconds(800);
        await using var stub = await IngressStub.StartAsync(async (r, ct) =>
        {
            // Task.Delay may end a timer tick early by the Stopwatch the bench measures with: wait until the full stall
            // has passed on that clock.
            if (r.Number == 5)
                for (var held = System.Diagnostics.Stopwatch.StartNew(); held.Elapsed < stall;)
                    await Task.Delay(stall - held.Elapsed + TimeSpan.FromMilliseconds(1), ct);
            return StubAnswer.Ok;
        });
        using var timeout = new CancellationTokenSource(TestTimeout);
        var before = DateTimeOffset.UtcNow;
        var report = await BenchRunner.RunAsync(new BenchOptions
        {
            Url = stub.EventsUrl,
            Events = 100,
            Batch = 10,
            Concurrency = 1, // one batch at a time: the stalled one holds every acknowledgement back
            AckGapThreshold = TimeSpan.FromMilliseconds(500),
        }, null, timeout.Token);

        Assert.True(report.LongestAckGap >= stall, $"longest gap {report.LongestAckGap.TotalMilliseconds} ms");
        var gap = report.AckGaps.Last(g => g.Length >= stall); // the stall (a cold first request may be a gap too)
        Assert.True(gap.From >= before && gap.From + gap.Length <= DateTimeOffset.UtcNow, $"gap from {gap.From:O}");
        Assert.All(report.AckGaps, g => Assert.True(g.Length >= report.AckGapThreshold));
        Assert.Contains("\"longest_ack_gap_ms\":", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Several_urls_and_e2e_directories_are_taken_repeated_or_comma_separated()
    {
        using var d1 = new TempDir();
        using var d2 = new TempDir();
        var o = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "127.0.0.1:8081,127.0.0.1:8082", "--url", "http://127.0.0.1:8083",
            "--e2e", d1.Path, "--e2e", d2.Path, "--failover-cooldown", "3s", "--gap-threshold", "200ms"));
        Assert.Equal(["http://127.0.0.1:8081/v1/events", "http://127.0.0.1:8082/v1/events", "http://127.0.0.1:8083/v1/events"], o.Urls.Select(u => u.ToString()));
        Assert.Equal(o.Urls[0], o.Url);
        Assert.Equal([d1.Path, d2.Path], o.EndToEndDirectories);
        Assert.Equal(TimeSpan.FromSeconds(3), o.FailoverCoolDown);
        Assert.Equal(TimeSpan.FromMilliseconds(200), o.AckGapThreshold);

        var one = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "127.0.0.1:8081"));
        Assert.Single(one.Urls);
        Assert.Empty(one.EndToEndDirectories);
        Assert.Contains("--url", Assert.Throws<CliUsageException>(() => BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "n:1,n:2", "--format", "syslog"))).Message);
        Assert.Contains("--gap-threshold", Assert.Throws<CliUsageException>(() => BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "n:1", "--gap-threshold", "0s"))).Message);
        Assert.Contains("--e2e", Assert.Throws<CliUsageException>(() => BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "n:1", "--e2e", d1.Path + ",/no/such/dir"))).Message);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task WaitAsync(Func<bool> done, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < TestTimeout, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }
}
