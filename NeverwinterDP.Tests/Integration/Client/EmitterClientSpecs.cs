using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Client;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Client;

/// <summary>An EmitterClient against one in-process node: Akka remote → ingress → embedded Kafka → files.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EmitterClientSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 10, 0, TimeSpan.Zero);

    [Fact]
    public async Task Ten_thousand_events_sent_over_Akka_remote_arrive_exactly_once_with_every_field_and_in_order_per_source()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, new ManualClock(Start));
        var run = Guid.NewGuid().ToString("N")[..8];
        var hosts = new[] { "web-1", "web-2", "db-1", "cache-1" };
        const int perHost = 2500;
        var sent = new List<LogEvent>();

        await using (var client = EmitterClient.Start(ClientTestKit.Options(node)))
        {
            // Half with EmitAsync (calls issued back to back, awaited together), half with Post.
            var calls = new List<Task>();
            for (var chunk = 0; chunk < perHost / 2; chunk += 250)
                foreach (var host in hosts)
                {
                    var events = Enumerable.Range(chunk, 250).Select(i => ClientTestKit.Event(run, host, i, "remote")).ToList();
                    sent.AddRange(events);
                    calls.Add(client.EmitAsync(events));
                }
            await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(perHost / 2 * hosts.Length, client.Metrics.EventsAcked);
            for (var i = perHost / 2; i < perHost; i++)
                foreach (var host in hosts)
                {
                    var e = ClientTestKit.Event(run, host, i, "remote");
                    sent.Add(e);
                    Assert.True(client.Post(e));
                }
            await ClientTestKit.Eventually(() => client.Metrics.EventsAcked == sent.Count, TimeSpan.FromSeconds(60), () => client.Metrics.ToString());
            output.WriteLine(client.Metrics.ToString());
            Assert.Equal(0, client.Metrics.EventsFailed);
            Assert.Equal(0, client.PostBuffered);
        }

        var topic = TopicNames.ForType("remote");
        await ClientTestKit.Eventually(() => node.Published(topic).Count >= sent.Count, TimeSpan.FromSeconds(60));
        var published = node.Published(topic);
        Assert.Equal(sent.Count, published.Count);
        Assert.Equal(sent.Select(e => e.Message).Order(), published.Select(p => p.Message).Order()); // exactly once

        var byMessage = sent.ToDictionary(e => e.Message);
        var nodeId = node.NodeId;
        foreach (var p in published)
        {
            var e = byMessage[p.Message];
            Assert.Equal((e.Host, e.Process, e.Type, e.Level, e.Ts), (p.Host, p.Process, p.Type, p.Level, p.Ts));
            Assert.Equal(e.Attributes.OrderBy(kv => kv.Key), p.Attributes.OrderBy(kv => kv.Key));
            Assert.Equal(nodeId, p.IngressNode);
            Assert.Equal(Start.ToUnixTimeMilliseconds(), p.SystemTs);
        }
        foreach (var host in hosts)
        {
            // One source's events share a partition: in offset order they are in the order sent, numbered 1..n.
            var ofHost = published.Where(p => p.Host == host).ToList();
            Assert.Equal(Enumerable.Range(0, perHost).Select(i => $"{run}-{host}-{i}"), ofHost.Select(p => p.Message));
            Assert.Equal(Enumerable.Range(1, perHost).Select(i => (long)i), ofHost.Select(p => p.SourceSeq));
        }
    }

    [Fact]
    public async Task Heartbeats_of_every_source_seen_reach_the_heartbeat_listeners_of_the_node()
    {
        using var dir = new TempDir();
        var listener = new RecordingHeartbeats();
        await using var node = await InProcessNode.StartAsync(dir.Path, configureServices: s => s.AddSingleton<IHeartbeatListener>(listener));
        await using var client = EmitterClient.Start(ClientTestKit.Options(node) with { HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        await client.EmitAsync([new LogEvent { Host = "web-9", Process = "api", Message = "hello" }, new LogEvent { Message = "from the client's own source" }])
            .WaitAsync(TimeSpan.FromSeconds(30));

        await ClientTestKit.Eventually(() => listener.Beats.Count(b => b.Host == "web-9") >= 3 && listener.Beats.Any(b => b.Host == "test-host"),
            TimeSpan.FromSeconds(30));
        var beat = listener.Beats.First(b => b.Host == "web-9");
        Assert.Equal(("web-9", "api", TimeSpan.FromMilliseconds(200)), (beat.Host, beat.Process, beat.Interval));
        Assert.Equal("test-process", listener.Beats.First(b => b.Host == "test-host").Process);
        Assert.InRange(beat.TsMs, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Refusals_of_a_saturated_node_are_retried_until_every_event_is_acknowledged_once()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.remote-ingress.max-batches-in-flight"] = "2",
            ["nwdp.ingress.queue-capacity"] = "1",
            ["nwdp.ingress.enqueue-timeout"] = "20ms",
            ["nwdp.ingress.retry-after"] = "100ms",
        });
        node.Bus.Embedded!.SetBrokerRtt(1, TimeSpan.FromMilliseconds(20));
        var run = Guid.NewGuid().ToString("N")[..8];
        var hosts = Enumerable.Range(0, 6).Select(i => "busy-" + i).ToList();
        var sent = new List<LogEvent>();
        await using (var client = EmitterClient.Start(ClientTestKit.Options(node) with { MaxBatchEvents = 50 }))
        {
            var calls = new List<Task>();
            foreach (var host in hosts)
            {
                var events = Enumerable.Range(0, 300).Select(i => ClientTestKit.Event(run, host, i, "busy")).ToList();
                sent.AddRange(events);
                calls.Add(client.EmitAsync(events));
            }
            await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(90));
            output.WriteLine(client.Metrics.ToString());
            Assert.True(client.Metrics.Refusals > 0, "the node never refused");
            Assert.True(client.Metrics.Retries > 0, "nothing was retried");
            Assert.Equal(sent.Count, client.Metrics.EventsAcked);
        }
        var metrics = node.App.Services.GetRequiredService<RemoteIngressMetrics>();
        output.WriteLine($"node: accepted={metrics.BatchesAccepted} refused={metrics.BatchesRefused} duplicates={metrics.BatchesDuplicate}");
        Assert.True(metrics.BatchesRefused > 0);
        node.Bus.Embedded.SetBrokerRtt(1, TimeSpan.Zero);

        var topic = TopicNames.ForType("busy");
        await ClientTestKit.Eventually(() => node.Published(topic).Count >= sent.Count, TimeSpan.FromSeconds(60));
        var published = node.Published(topic);
        Assert.Equal(sent.Select(e => e.Message).Order(), published.Select(p => p.Message).Order());
        foreach (var host in hosts)
            Assert.Equal(Enumerable.Range(0, 300).Select(i => $"{run}-{host}-{i}"), published.Where(p => p.Host == host).Select(p => p.Message));
    }

    [Fact]
    public async Task An_invalid_batch_fails_the_call_with_the_reason_and_the_client_goes_on()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.remote-ingress.max-batch-events"] = "100" });
        await using var client = EmitterClient.Start(ClientTestKit.Options(node) with { MaxBatchEvents = 500 });
        var tooMany = Enumerable.Range(0, 300).Select(i => ClientTestKit.Event("x", "h", i, "invalid")).ToList();

        var error = await Assert.ThrowsAsync<EmitRefusedException>(() => client.EmitAsync(tooMany).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("max-batch-events", error.Reason);
        Assert.Equal(300, client.Metrics.EventsFailed);

        await client.EmitAsync(tooMany.Take(100).ToList()).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100, client.Metrics.EventsAcked);
    }

    [Fact]
    public async Task Disposing_the_client_delivers_what_Post_buffered_and_Post_is_bounded()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = EmitterClient.Start(ClientTestKit.Options(node) with { PostBufferCapacity = 3000, BatchInterval = TimeSpan.FromSeconds(30) });
        var posted = 0;
        while (client.Post(ClientTestKit.Event(run, "poster", posted, "flush"))) posted++;
        // Full: nothing is acknowledged before the batch interval (30 s) or the flush.
        Assert.InRange(posted, 3000, 3000);
        Assert.True(client.Metrics.PostRejected >= 1);

        await client.DisposeAsync();
        Assert.Equal(3000, client.Metrics.EventsAcked);
        Assert.Equal(0, client.Metrics.PendingEvents);
        Assert.False(client.Post(ClientTestKit.Event(run, "poster", 0, "flush")));

        var topic = TopicNames.ForType("flush");
        await ClientTestKit.Eventually(() => node.Published(topic).Count >= 3000, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => $"{run}-poster-{i}"), node.Published(topic).Select(p => p.Message));
    }
}
