using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Replay;

/// <summary>Issue 16 item 3: a replay of a range of a log topic into PostgreSQL (a real server, from test.sh) over the embedded broker.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ReplaySpecs
{
    private const long BaseMs = 1_790_000_000_000;

    private static string NewTopic() => TopicNames.ForType("replay-" + Guid.NewGuid().ToString("N")[..8]);

    private static async Task<ReplayStatus> RunAsync(ReplayJobs jobs, ReplayRequest request)
    {
        var started = jobs.Start(request);
        await Wait.UntilAsync(() => jobs.Get(started.Id)!.State != "running", TimeSpan.FromSeconds(60));
        return jobs.Get(started.Id)!;
    }

    [Fact]
    public async Task A_time_range_is_replayed_into_postgresql_once_and_replaying_it_again_adds_no_row()
    {
        await using var kit = await ReplayKit.StartAsync();
        var topic = NewTopic();
        kit.Kafka.CreateTopic(topic, 2);
        kit.Produce(topic, partitions: 2, count: 100, BaseMs);
        await using var jobs = new ReplayJobs(kit.Context);

        // Events 20..59: from is inclusive, to exclusive, on the records' Kafka timestamps.
        var request = new ReplayRequest { Topic = topic, From = BaseMs + 20_000, To = BaseMs + 60_000, Sink = ReplayKit.SinkName };
        var first = await RunAsync(jobs, request);
        Assert.Equal("done", first.State);
        Assert.Equal(40, first.Total);
        Assert.Equal(40, first.Done);
        Assert.Equal(40, first.Delivered);
        Assert.Equal(Enumerable.Range(20, 40).Select(i => "m-" + i).Order(StringComparer.Ordinal), await kit.RowsAsync());

        // The same replay again: read and written again, stored once (the sink keys on topic-partition-offset).
        var second = await RunAsync(jobs, request);
        Assert.Equal("done", second.State);
        Assert.Equal(40, second.Done);
        Assert.Equal(40, (await kit.RowsAsync()).Count);

        // A wider range over what is there: only the rest is added.
        var all = await RunAsync(jobs, request with { From = BaseMs, To = null });
        Assert.Equal(100, all.Total);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "m-" + i).Order(StringComparer.Ordinal), await kit.RowsAsync());
    }

    [Fact]
    public async Task An_offset_range_of_one_partition_is_replayed_and_the_job_is_listed_from_its_file()
    {
        await using var kit = await ReplayKit.StartAsync();
        var topic = NewTopic();
        kit.Kafka.CreateTopic(topic, 2);
        kit.Produce(topic, partitions: 2, count: 40, BaseMs);
        var request = new ReplayRequest { Topic = topic, Partition = 1, FromOffset = 5, ToOffset = 15, Sink = ReplayKit.SinkName };
        await using (var jobs = new ReplayJobs(kit.Context))
        {
            var status = await RunAsync(jobs, request);
            Assert.Equal(("done", 10L), (status.State, status.Delivered));
        }
        // Partition 1 holds the odd events: offsets 5..14 are events 11, 13, ..., 29.
        Assert.Equal(Enumerable.Range(5, 10).Select(o => "m-" + (2 * o + 1)).Order(StringComparer.Ordinal), await kit.RowsAsync());
        // A node started again lists the job from its file.
        await using var later = new ReplayJobs(kit.Context);
        var listed = Assert.Single(later.List());
        Assert.Equal((request.Id(), "done", 10L), (listed.Id, listed.State, listed.Done));
    }

    [Fact]
    public async Task A_stopped_replay_resumes_where_it_stopped_and_ends_with_every_row_once()
    {
        await using var kit = await ReplayKit.StartAsync();
        var topic = NewTopic();
        kit.Kafka.CreateTopic(topic, 1);
        kit.Produce(topic, partitions: 1, count: 50, BaseMs);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kit.WrapSink = s => new GatedSink(s, entered, release.Task);
        var request = new ReplayRequest { Topic = topic, From = BaseMs, Sink = ReplayKit.SinkName };

        await using var jobs = new ReplayJobs(kit.Context);
        var id = jobs.Start(request).Id;
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(60)); // the first batch (10 records) is being written
        var stopping = jobs.StopAsync(id);                        // like Ctrl-C: stop after the batch in hand
        release.SetResult();
        var stopped = await stopping;
        Assert.Equal("stopped", stopped!.State);
        Assert.InRange(stopped.Done, 1, 49); // the batch in hand (up to 10 records) was written and its position saved
        Assert.Equal(stopped.Done, (await kit.RowsAsync()).Count);

        kit.WrapSink = s => s;
        var resumed = jobs.Start(request);
        Assert.Equal(stopped.Done, resumed.ResumedAt);
        await Wait.UntilAsync(() => jobs.Get(id)!.State != "running", TimeSpan.FromSeconds(60));
        var done = jobs.Get(id)!;
        Assert.Equal(("done", 50L, 50L), (done.State, done.Done, done.Delivered)); // counted over the job's runs: each record once
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "m-" + i).Order(StringComparer.Ordinal), await kit.RowsAsync());
    }

    [Fact]
    public async Task A_range_that_left_retention_is_refused_saying_what_is_still_there()
    {
        await using var kit = await ReplayKit.StartAsync();
        var topic = NewTopic();
        kit.Kafka.CreateTopic(topic, 1);
        // The embedded broker keeps about 5 MB per partition: 40 MB pushes the oldest records out.
        kit.Produce(topic, partitions: 1, count: 4000, BaseMs, messageBytes: 8000);
        await using var jobs = new ReplayJobs(kit.Context);

        var refused = Assert.Throws<ReplayRangeException>(() => jobs.Start(new ReplayRequest { Topic = topic, From = BaseMs, Sink = ReplayKit.SinkName }));
        Assert.Contains("left Kafka's retention", refused.Message);
        Assert.Matches(@"partition 0 starts at 20\d\d-.*, but holds only offsets [1-9]\d*\.\.3999 \(20\d\d-", refused.Message);
        Assert.Throws<ReplayRangeException>(() => jobs.Start(new ReplayRequest { Topic = topic, Partition = 0, FromOffset = 0, Sink = ReplayKit.SinkName }));
        Assert.Empty(await kit.RowsAsync());

        // What is still there replays.
        var tail = await RunAsync(jobs, new ReplayRequest { Topic = topic, From = BaseMs + 3_990_000, Sink = ReplayKit.SinkName });
        Assert.Equal(("done", 10L), (tail.State, tail.Delivered));
    }

    [Fact]
    public async Task Bad_requests_name_the_flag_and_an_unknown_topic_or_sink_is_not_found()
    {
        await using var kit = await ReplayKit.StartAsync();
        await using var jobs = new ReplayJobs(kit.Context);
        Assert.Equal("give one of --type or --topic", Assert.Throws<ReplayRequestException>(() => jobs.Start(new ReplayRequest { From = 1, Sink = "pg" })).Message);
        Assert.Contains("--sink", Assert.Throws<ReplayRequestException>(() => jobs.Start(new ReplayRequest { Type = "a", From = 1 })).Message);
        Assert.Contains("--partition", new ReplayRequest { Type = "a", FromOffset = 1, Sink = "pg" }.Problem());
        Assert.Contains("--to must be after --from", new ReplayRequest { Type = "a", From = 5, To = 5, Sink = "pg" }.Problem());
        Assert.Contains("--from", new ReplayRequest { Type = "a", Sink = "pg" }.Problem());
        var noTopic = Assert.Throws<ReplayRequestException>(() => jobs.Start(new ReplayRequest { Type = "never-sent-" + Guid.NewGuid().ToString("N")[..6], From = 1, Sink = "pg" }));
        Assert.True(noTopic.NotFound);
        Assert.Contains("does not exist", noTopic.Message);
        var noSink = Assert.Throws<ReplayRequestException>(() => jobs.Start(new ReplayRequest { Type = "a", From = 1, Sink = "nope" }));
        Assert.True(noSink.NotFound);
    }

    [Fact]
    public async Task A_replay_to_another_topic_republishes_the_range()
    {
        await using var kit = await ReplayKit.StartAsync();
        var topic = NewTopic();
        var target = NewTopic();
        kit.Kafka.CreateTopic(topic, 1);
        kit.Kafka.CreateTopic(target, 1);
        kit.Produce(topic, partitions: 1, count: 30, BaseMs);
        await using var jobs = new ReplayJobs(kit.Context);
        var status = await RunAsync(jobs, new ReplayRequest { Topic = topic, From = BaseMs + 10_000, ToTopic = target });
        Assert.Equal(("done", 20L), (status.State, status.Republished));
        Assert.Equal(20, NeverwinterDP.Tests.Integration.Spillover.SpillBus.Count(kit.Kafka.BootstrapServers, target, 1));
    }

    /// <summary>Holds the first write until released (and says when it started).</summary>
    private sealed class GatedSink(ISink inner, TaskCompletionSource entered, Task release) : ISink
    {
        public string Name => inner.Name;
        public Task OpenAsync(CancellationToken cancellation) => inner.OpenAsync(cancellation);

        public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
        {
            entered.TrySetResult();
            await release;
            return await inner.WriteAsync(batch, cancellation);
        }

        public Task FlushAsync(CancellationToken cancellation) => inner.FlushAsync(cancellation);
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => inner.CheckHealthAsync(cancellation);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
