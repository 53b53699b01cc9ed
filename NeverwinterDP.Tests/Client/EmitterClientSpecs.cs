using NeverwinterDP.Actors.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Host;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Client;

/// <summary>An EmitterClient against one in-process node: Akka remote → ingress → embedded Kafka → files.</summary>
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
        var nodeId = "test-" + node.Http.Port;
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
}
