using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>
/// A node's spillover moved with <c>nwdp spill export</c> / <c>import</c>: node A spills with the broker down and stops;
/// its store is exported and imported (twice) into node B's data directory; B replays it once the broker is up, and A,
/// restarted, replays nothing of it. The broker lives outside both nodes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillMoveSpecs(ITestOutputHelper output)
{
    private const int Partitions = 4;

    [Fact]
    public async Task A_dead_nodes_spilled_batches_exported_and_imported_twice_reach_the_bus_once_from_the_other_node()
    {
        const int batches = 5, perBatch = 100;
        using var kafka = new EmbeddedKafka();
        using var a = new TempDir();
        using var b = new TempDir();
        using var files = new TempDir();
        var topic = TopicNames.ForType("moved");
        kafka.CreateTopic(topic, Partitions);
        var settings = new Dictionary<string, string>
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.sinks.files.fsync"] = "off",
        };
        var run = Guid.NewGuid().ToString("N")[..8];
        string storeA;
        await using (var nodeA = await InProcessNode.StartAsync(a.Path, overrides: settings))
        {
            storeA = nodeA.App.Services.GetRequiredService<SpillStoreInfo>().Id;
            // One event while the bus is up (ingress knows the topic before the outage, as in production).
            Assert.True((await nodeA.PostNdjsonAsync([Line($"{run}-first")], "moved")).IsSuccessStatusCode);
            kafka.BrokerDown(1);
            for (var i = 0; i < batches; i++)
            {
                var response = await nodeA.PostNdjsonAsync(Enumerable.Range(i * perBatch, perBatch).Select(n => Line($"{run}-{n}")), "moved");
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
            Assert.Equal(batches * perBatch, nodeA.App.Services.GetRequiredService<EventIngress>().SpilledEvents);
        } // node A stops with its backlog (the broker still down)

        var export = Path.Combine(files.Path, "a.nwdpspill");
        var exported = await Nwdp.RunAsync("spill", "export", "--data", a.Path, "--out", export);
        output.WriteLine(exported.ToString());
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.Contains($"exported {batches} batches", exported.Stdout);
        for (var i = 0; i < 2; i++) // an operator who runs it twice
        {
            var imported = await Nwdp.RunAsync("spill", "import", "--data", b.Path, "--in", export);
            output.WriteLine(imported.ToString());
            Assert.True(imported.ExitCode == 0, imported.ToString());
            Assert.StartsWith(i == 0 ? $"imported {batches} batches" : "already imported", imported.Stdout);
        }

        kafka.BrokerUp(1);
        var moved = topic + "@" + storeA;
        await using (var nodeB = await InProcessNode.StartAsync(b.Path, overrides: settings))
        {
            var spill = nodeB.App.Services.GetRequiredService<SpillWriter>();
            Assert.Contains(moved, await spill.TopicsAsync(nodeB.System, CancellationToken.None));
            SpillStatus? status = null;
            await Wait.UntilAsync(async () => (status = (await spill.StatusAsync([moved], CancellationToken.None)).Single()).Batches == 0,
                TimeSpan.FromSeconds(90), () => $"{status}");
            Assert.Equal(batches * perBatch, status!.ReplayedEvents);
        }

        // Node A restarted: its exported batches are sealed, nothing is replayed again.
        await using (var restarted = await InProcessNode.StartAsync(a.Path, overrides: settings))
        {
            var status = (await restarted.App.Services.GetRequiredService<SpillWriter>().StatusAsync([topic], CancellationToken.None)).Single();
            Assert.Equal((0, 0L), (status.Batches, status.ReplayedEvents));
        }

        // Every event once on the bus: the one sent before the outage, and each spilled one with the header of A's store.
        Assert.Equal(1 + batches * perBatch, SpillBus.Count(kafka.BootstrapServers, topic, Partitions));
        var headers = SpillBus.Headers(kafka.BootstrapServers, topic, Partitions);
        Assert.Equal(1, headers.Count(h => h is null));
        var replayed = headers.OfType<string>().ToList();
        Assert.Equal(batches * perBatch, replayed.Distinct().Count());
        Assert.All(replayed, h => Assert.StartsWith($"{SpilloverEntity.TypeName}|{topic}@{storeA}/", h));
    }

    private static string Line(string message) => JsonSerializer.Serialize(new { host = "mover", msg = message });
}
