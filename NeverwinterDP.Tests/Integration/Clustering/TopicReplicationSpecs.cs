using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Clustering;

/// <summary>
/// Topics fit for a cluster of brokers, on the embedded broker with three brokers: created with replication factor 3,
/// and a partition leader that goes down loses nothing the node acknowledged (producers use acks=all and idempotence).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TopicReplicationSpecs(ITestOutputHelper output)
{
    private static Task<InProcessNode> ThreeBrokerNodeAsync(string dir) =>
        InProcessNode.StartAsync(dir, overrides: new() { ["nwdp.embedded-kafka.brokers"] = "3", ["nwdp.sinks.files.fsync"] = "off" });

    [Fact]
    public async Task On_three_brokers_the_node_creates_its_topics_with_three_replicas_all_in_sync()
    {
        using var dir = new TempDir();
        await using var node = await ThreeBrokerNodeAsync(dir.Path);
        var response = await node.PostNdjsonAsync(["""{"host":"h","msg":"one"}"""], type: "replicated");
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}");

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.Bus.BootstrapServers }).Build();
        var topic = TopicNames.ForType("replicated");
        var described = await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([topic]), new DescribeTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
        var partitions = Assert.Single(described.TopicDescriptions).Partitions;
        Assert.Equal(node.Config.EmbeddedKafka.DefaultPartitions, partitions.Count);
        foreach (var p in partitions)
        {
            output.WriteLine($"{topic}[{p.Partition}] leader {p.Leader.Id} replicas {string.Join(",", p.Replicas.Select(r => r.Id))} isr {string.Join(",", p.ISR.Select(r => r.Id))}");
            Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.Id).Order());
            Assert.Equal(3, p.ISR.Count);
        }
        Assert.True(partitions.Select(p => p.Leader.Id).Distinct().Count() > 1, "every partition led by one broker");

        // What a real cluster's topics get: the admin provisioner asks the cluster's metadata (CreateTopics itself the mock
        // does not take).
        using (var provisioner = new AdminTopicProvisioner(new KafkaClients(node.Bus.BootstrapServers), 8, TopicReplication.Auto))
            Assert.Equal(((short)3, 2), await provisioner.ReplicationNowAsync());

        // min.insync.replicas cannot be read back here: the mock keeps no topic configs and does not take DescribeConfigs.
        // (When a librdkafka update makes this fail, read min.insync.replicas back instead.)
        var describeConfigs = await Assert.ThrowsAsync<KafkaException>(() => admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Topic, Name = topic }], new DescribeConfigsOptions { RequestTimeout = TimeSpan.FromSeconds(10) }));
        output.WriteLine("DescribeConfigs: " + describeConfigs.Message);
        Assert.Contains("not supported by broker", describeConfigs.Message);
    }

    [Fact]
    public async Task A_partition_leader_that_goes_down_while_events_are_posted_loses_no_acknowledged_event_and_duplicates_none()
    {
        using var dir = new TempDir();
        await using var node = await ThreeBrokerNodeAsync(dir.Path);
        // What the node's producers run with (the bus writer's settings come from akka.kafka.producer).
        var producer = node.System.Settings.Config.GetConfig("akka.kafka.producer.kafka-clients");
        Assert.Equal("all", producer.GetString("acks"));
        Assert.True(producer.GetBoolean("enable.idempotence"));
        var kafka = node.Bus.Embedded!;
        var topic = TopicNames.ForType("failover");
        var run = Guid.NewGuid().ToString("N")[..8];
        const int batches = 160, batch = 50;
        var acked = new ConcurrentBag<int>();
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var next = -1;
        var outage = Task.FromResult(0);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.Bus.BootstrapServers }).Build();

        async Task SendAsync()
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                var range = Enumerable.Range(b * batch, batch).ToList();
                var lines = range.Select(i => JsonSerializer.Serialize(new { host = $"h{i % 5}", msg = $"{run}-{i}" })).ToList();
                while (true)
                {
                    var response = await node.PostNdjsonAsync(lines, type: "failover");
                    statuses.AddOrUpdate(response.StatusCode, 1, (_, c) => c + 1);
                    if (response.IsSuccessStatusCode) break;
                    await Task.Delay(100);
                }
                foreach (var i in range) acked.Add(i);
                if (b == 40) outage = Task.Run(() => LeaderDown(kafka, admin, topic));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SendAsync()));
        var downed = await outage;
        kafka.BrokerUp(downed); // back, as a restarted broker comes back; its partitions keep their new leaders
        output.WriteLine($"statuses: {string.Join(", ", statuses.Select(kv => $"{(int)kv.Key}={kv.Value}"))}; broker {downed} down since batch 40");
        Assert.Equal(batches * batch, acked.Count);

        // Every acknowledged event on the topic once (spilled ones are replayed into it).
        var pattern = new Regex(Regex.Escape(run) + @"-(\d+)\b");
        var read = new List<int>();
        await Wait.UntilAsync(() =>
        {
            read = ReadAll(node.Bus.BootstrapServers, topic, node.Config.EmbeddedKafka.DefaultPartitions)
                .SelectMany(v => pattern.Matches(v).Select(m => int.Parse(m.Groups[1].Value))).ToList();
            return read.Distinct().Count() >= acked.Count;
        }, TimeSpan.FromSeconds(120), () => $"{read.Distinct().Count()} of {acked.Count} acknowledged events on {topic}");
        var twice = read.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(twice.Count == 0, $"on the topic more than once: {string.Join(", ", twice)}");
        Assert.Empty(acked.Except(read));
        Assert.Equal(acked.Count, read.Count);
    }

    /// <summary>
    /// What a broker failure does on a real cluster, with the mock's commands (as <c>nwdp broker</c>'s down and leader):
    /// the leader of partition 0 goes down, and a second later the partitions it led get another leader (the
    /// controller's election). Returns the broker taken down.
    /// </summary>
    private int LeaderDown(NeverwinterDP.Actors.Kafka.Embedded.EmbeddedKafka kafka, IAdminClient admin, string topic)
    {
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        var leader = partitions.Single(p => p.PartitionId == 0).Leader;
        kafka.BrokerDown(leader);
        Thread.Sleep(TimeSpan.FromSeconds(1)); // the outage the producers see before an election
        var survivors = kafka.BrokerIds.Where(id => id != leader).ToList();
        foreach (var p in partitions.Where(p => p.Leader == leader))
            kafka.SetPartitionLeader(topic, p.PartitionId, survivors[p.PartitionId % survivors.Count]);
        output.WriteLine($"broker {leader} down; partitions {string.Join(",", partitions.Where(p => p.Leader == leader).Select(p => p.PartitionId))} moved to {string.Join(",", survivors)}");
        return leader;
    }

    private static List<string> ReadAll(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnablePartitionEof = true,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var values = new List<string>();
        var ended = new HashSet<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ended.Count < partitions && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF) ended.Add(r.Partition.Value);
            else values.Add(r.Message.Value is null ? "" : Encoding.UTF8.GetString(r.Message.Value));
        }
        return values;
    }
}
