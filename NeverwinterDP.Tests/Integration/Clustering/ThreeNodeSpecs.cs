using System.Collections.Concurrent;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Clustering;

/// <summary>
/// Three nodes in this process sharing one Kafka (the embedded broker, here outside the nodes), one PostgreSQL
/// database (persistence) and one files-sink directory (as a shared filesystem would be).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ThreeNodeSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Entities_spread_over_three_nodes_and_50000_events_arrive_exactly_once_while_a_node_leaves()
    {
        using var kafka = new EmbeddedKafka(new EmbeddedKafkaOptions { DefaultPartitions = 6 });
        await using var db = await PostgresDatabase.CreateAsync();
        using var root = new TempDir();
        var files = Path.Combine(root.Path, "shared-files");
        var run = Guid.NewGuid().ToString("N")[..8];

        Dictionary<string, string> Settings(string name) => new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.persistence.provider"] = "postgresql",
            ["nwdp.persistence.connection-string"] = db.ConnectionString,
            ["nwdp.sinks.files.directory"] = files,
            ["nwdp.sinks.files.fsync"] = "off",
            ["nwdp.pump.writers-per-sink"] = "3",
            ["nwdp.pump.keep-alive-interval"] = "1s",
            ["nwdp.node.id"] = name,
        };

        var n1 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n1"), overrides: Settings("n1"));
        var seed = $"akka.cluster.seed-nodes = [\"{n1.Cluster.SelfAddress}\"]";
        var n2 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n2"), overrides: Settings("n2"), extraHocon: seed);
        var n3 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n3"), overrides: Settings("n3"), extraHocon: seed);
        var nodes = new[] { n1, n2, n3 };
        try
        {
            await Wait.UntilAsync(() => nodes.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3), TimeSpan.FromSeconds(30));

            // One sink writer per node (three slots, three shards, least-shard allocation).
            await Wait.UntilAsync(() => nodes.All(n => n.Pumps.Count == 1), TimeSpan.FromSeconds(60),
                () => string.Join(", ", nodes.Select(n => n.Pumps.Count)));

            // Sources from many hosts: their emitter entities land on all three nodes.
            var lines = Enumerable.Range(0, 300).Select(i => Line(run, -1 - i, host: $"host-{i}")).ToList();
            Assert.True((await n1.PostNdjsonAsync(lines)).IsSuccessStatusCode);
            await n1.Registry.FlushAsync();
            var emitters = n1.App.Services.GetRequiredService<ActorRegistry>().Get<EmitterRegion>();
            await Wait.UntilAsync(async () =>
            {
                var stats = await emitters.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
                return stats.Regions.Count == 3 && stats.Regions.Values.All(r => r.Stats.Values.Sum() > 0);
            }, TimeSpan.FromSeconds(30));

            // 50,000 events through two ingress nodes; the third node leaves gracefully part way.
            const int total = 50_000, batch = 500;
            var acked = new ConcurrentBag<string>();
            var next = -1;
            var leave = Task.CompletedTask;
            async Task SendAsync(InProcessNode via)
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < total / batch)
                {
                    var chunk = Enumerable.Range(b * batch, batch).Select(i => Line(run, i, host: $"host-{i % 50}")).ToList();
                    while (true)
                    {
                        var response = await via.PostNdjsonAsync(chunk, type: "cluster");
                        if (response.IsSuccessStatusCode) break;
                        output.WriteLine($"{via.Config.NodeId}: {(int)response.StatusCode}, retrying");
                        await Task.Delay(200);
                    }
                    foreach (var l in chunk) acked.Add(l);
                    if (b == total / batch / 3) leave = n3.DisposeAsync().AsTask();
                }
            }
            await Task.WhenAll(SendAsync(n1), SendAsync(n2), SendAsync(n1), SendAsync(n2));
            await leave;
            nodes = [n1, n2];
            Assert.Equal(total, acked.Count);

            // The leaving node's writer re-homed: both remaining nodes run the three writers between them.
            await Wait.UntilAsync(() => n1.Pumps.Count + n2.Pumps.Count == 3, TimeSpan.FromSeconds(60));

            var topic = TopicNames.ForType("cluster");
            List<string> Published() => Directory.Exists(Path.Combine(files, topic))
                ? Directory.EnumerateFiles(Path.Combine(files, topic), "*.ndjson", SearchOption.AllDirectories)
                    .Where(f => !Path.GetFileName(f).StartsWith('.'))
                    .SelectMany(File.ReadLines).Where(l => l.Length > 0).Select(MessageOf).ToList()
                : [];
            await Wait.UntilAsync(() => Published().Count >= total, TimeSpan.FromSeconds(120), () => $"{Published().Count} published");
            var published = Published();
            Assert.Equal(total, published.Count);
            Assert.Equal(total, published.Distinct().Count());
            Assert.Equal(Enumerable.Range(0, total).Select(i => $"{run}-{i}").Order(), published.Order());
        }
        finally
        {
            // One at a time, youngest first.
            foreach (var n in nodes.Reverse()) await n.DisposeAsync();
        }
    }

    private static string Line(string run, int i, string host) => JsonSerializer.Serialize(new { host, process = "app", msg = $"{run}-{i}" });

    private static string MessageOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("msg").GetString()!;
    }
}
