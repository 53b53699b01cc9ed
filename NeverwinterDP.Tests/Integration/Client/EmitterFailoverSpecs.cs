using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Client;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Client;

/// <summary>
/// A two-node cluster on one Kafka (node A ingress only, node B ingress and the files sink); the client knows
/// only node A and loses it while sending. Guarantee checked: every acknowledged event arrives; per source
/// the first copies are in the order sent; a duplicate is only ever a whole batch whose ack was lost.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EmitterFailoverSpecs(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 11, 10, 0, TimeSpan.Zero);

    [Fact]
    public async Task When_node_A_shuts_down_gracefully_the_client_moves_to_node_B_and_every_acknowledged_event_arrives()
    {
        await RunFailover(abrupt: false);
    }

    [Fact]
    public async Task When_node_A_dies_abruptly_the_client_moves_to_node_B_and_every_acknowledged_event_arrives()
    {
        await RunFailover(abrupt: true);
    }

    private async Task RunFailover(bool abrupt)
    {
        using var kafka = new EmbeddedKafka();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var clock = new ManualClock(Start);
        // No downing: with two nodes, keep-majority could pick B to go when A becomes unreachable.
        var common = new Dictionary<string, string>
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["akka.cluster.downing-provider-class"] = "",
            ["akka.coordinated-shutdown.run-by-actor-system-terminate"] = abrupt ? "off" : "on",
        };
        var nodeA = await InProcessNode.StartAsync(dirA.Path, clock, new(common) { ["nwdp.pump.enabled"] = "off" });
        var nodeAId = nodeA.NodeId; // read now: node A is gone when the events are checked
        InProcessNode? nodeB = null;
        Task? aStopping = null;
        try
        {
            var systemA = nodeA.App.Services.GetRequiredService<ActorSystem>();
            var run = Guid.NewGuid().ToString("N")[..8];
            var hosts = new[] { "app-1", "app-2", "app-3" };
            const int batches = 60;
            const int perBatch = 100;
            var acked = new List<LogEvent>();
            // The client starts while A is the whole cluster, so it is connected to A; it learns B later.
            await using var client = EmitterClient.Start(ClientTestKit.Options(nodeA));
            await client.EmitAsync([ClientTestKit.Event(run, "probe", 0, "probe")]).WaitAsync(TimeSpan.FromSeconds(30));

            var seed = Cluster.Get(systemA).SelfAddress;
            nodeB = await InProcessNode.StartAsync(dirB.Path, clock, common, extraHocon: $"akka.cluster.seed-nodes = [\"{seed}\"]");
            // Both nodes must see both Up: were A to die before B heard that it is Up, B would stay WeaklyUp (no
            // downing here) and never host what A did.
            var systemB = nodeB.App.Services.GetRequiredService<ActorSystem>();
            await ClientTestKit.Eventually(() => new[] { systemA, systemB }.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 2),
                TimeSpan.FromSeconds(30));
            await ClientTestKit.Eventually(() => client.ContactPointsAsync(TimeSpan.FromSeconds(5)).Result.Contains(nodeB.ContactPoint()),
                TimeSpan.FromSeconds(30));

            var sending = Task.Run(async () =>
            {
                for (var b = 0; b < batches; b++)
                {
                    // One call per batch and host, three hosts at a time, each awaited before the next round.
                    var round = hosts.Select(h => Enumerable.Range(b * perBatch, perBatch).Select(i => ClientTestKit.Event(run, h, i, "failover")).ToList()).ToList();
                    await Task.WhenAll(round.Select(events => client.EmitAsync(events))).WaitAsync(TimeSpan.FromSeconds(90));
                    lock (acked) acked.AddRange(round.SelectMany(r => r));
                }
            });

            await ClientTestKit.Eventually(() => client.Metrics.EventsAcked >= batches * perBatch * hosts.Length / 4, TimeSpan.FromSeconds(60));
            var ackedBefore = client.Metrics.EventsAcked;
            if (abrupt)
            {
                // The node's actor system dies under it: no leaving, no answers for what it held.
                await systemA.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
                // What is left of the node (HTTP, a producer whose stream died) stops meanwhile; that takes a while.
                aStopping = nodeA.DisposeAsync().AsTask();
            }
            else
            {
                aStopping = nodeA.DisposeAsync().AsTask();
                await aStopping;
            }
            output.WriteLine($"node A gone after {ackedBefore} acknowledged events");

            await sending.WaitAsync(TimeSpan.FromSeconds(120));
            output.WriteLine(client.Metrics.ToString());
            Assert.Equal(batches * perBatch * hosts.Length, acked.Count);
            Assert.True(client.Metrics.EventsAcked > ackedBefore, "nothing was acknowledged after node A went");

            var topic = TopicNames.ForType("failover");
            await ClientTestKit.Eventually(() => nodeB.Published(topic).Select(p => p.Message).Distinct().Count() >= acked.Count, TimeSpan.FromSeconds(60),
                () => $"{nodeB.Published(topic).Count} published");
            var published = nodeB.Published(topic);
            var copies = published.GroupBy(p => p.Message).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(acked, e => Assert.True(copies.ContainsKey(e.Message), $"{e.Message} was acknowledged but never arrived"));
            Assert.Equal(acked.Count, copies.Count); // nothing that was not sent
            var duplicates = published.Count - copies.Count;
            output.WriteLine($"{published.Count} published, {duplicates} duplicates; ingress nodes: " +
                             string.Join(", ", published.GroupBy(p => p.IngressNode).Select(g => $"{g.Key}={g.Count()}")));
            Assert.All(copies, kv => Assert.InRange(kv.Value, 1, 2));
            // Both nodes took part: A before it went, B after.
            Assert.Contains(published, p => p.IngressNode == nodeAId);
            Assert.Contains(published, p => p.IngressNode == nodeB.NodeId);

            foreach (var host in hosts)
            {
                // Per source, the first copy of each event is in the order sent; a duplicate is a whole batch of
                // the client (it carries the same source sequence numbers as the original).
                var ofHost = published.Where(p => p.Host == host).ToList();
                var firsts = ofHost.GroupBy(p => p.Message).Select(g => g.First()).ToList();
                var expected = Enumerable.Range(0, batches * perBatch).Select(i => $"{run}-{host}-{i}").ToList();
                Assert.Equal(expected, ofHost.Select(p => p.Message).Distinct());
                Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), firsts.Select(p => p.SourceSeq));
                var duplicated = ofHost.GroupBy(p => p.Message).Where(g => g.Count() > 1).Select(g => g.First().SourceSeq).ToList();
                foreach (var seq in duplicated)
                {
                    var batchStart = (seq - 1) / perBatch * perBatch + 1;
                    Assert.All(Enumerable.Range(0, perBatch), k => Assert.Contains(batchStart + k, duplicated));
                }
            }
        }
        finally
        {
            if (nodeB is not null) await nodeB.DisposeAsync();
            await (aStopping ?? nodeA.DisposeAsync().AsTask()).WaitAsync(TimeSpan.FromSeconds(150));
        }
    }
}
