using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Mirror;

/// <summary>
/// A mirror configured in a node (<c>nwdp.mirrors</c>), run by its sharded entity: from the node's embedded broker into a
/// second embedded cluster, its lag on the admin API, <c>/metrics</c> and <c>nwdp check lag</c>, pause and resume, and a
/// pause that outlives the node.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class MirrorEntitySpecs(ITestOutputHelper output)
{
    private const string Topic = "mirror.src";

    private static string Hocon(string target, string source = "") => $$"""
        nwdp.mirrors.to-dc2 {
          from = "{{source}}"
          to = "{{target}}"
          source-site = dc1
          target-site = dc2
          topics = "^mirror\\.src$"
          interval = 100ms
          topic-refresh = 500ms
          request-timeout = 10s
        }
        nwdp.mirror.lag-interval = 0s
        nwdp.mirror.keep-alive-interval = 1s
        """;

    /// <summary>Records <paramref name="from"/> .. from+count-1, keyed <c>k-i</c>, round robin over 2 partitions, a minute old.</summary>
    private static void Produce(string bootstrap, int from, int count)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true }).Build();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        for (var i = from; i < from + count; i++)
            producer.Produce(new TopicPartition(Topic, i % 2), new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes("k-" + i.ToString(CultureInfo.InvariantCulture)),
                Value = Encoding.UTF8.GetBytes("v"),
                Timestamp = new Timestamp(at, TimestampType.CreateTime),
            });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private static async Task<JsonElement> MirrorAsync(HttpClient admin)
    {
        using var doc = JsonDocument.Parse(await admin.GetStringAsync("/v1/mirrors"));
        return doc.RootElement.GetProperty("mirrors").EnumerateArray().Single().Clone();
    }

    private static string Describe(JsonElement m) => m.ToString();

    [Fact]
    public async Task A_node_runs_its_mirror_reports_its_lag_and_pauses_and_resumes_it_and_a_pause_outlives_the_node()
    {
        using var dc2 = new EmbeddedKafka();
        dc2.CreateTopic(Topic, 2);
        using var dir = new TempDir();
        JsonElement m = default;
        await using (var node = await InProcessNode.StartAsync(dir.Path, extraHocon: Hocon(dc2.BootstrapServers)))
        {
            using var admin = node.AdminClient();
            node.Bus.Embedded!.CreateTopic(Topic, 2);
            Produce(node.Bus.BootstrapServers, 0, 100);

            // Copied: the lag falls to 0, with the positions committed on the target.
            await Wait.UntilAsync(async () =>
            {
                m = await MirrorAsync(admin);
                return m.GetProperty("status").GetProperty("state").GetString() == "running" && m.GetProperty("partitions").GetArrayLength() == 2
                       && m.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("next_offset").GetInt64()) == 100;
            }, TimeSpan.FromSeconds(90), () => Describe(m));
            output.WriteLine(m.ToString());
            Assert.Equal(0, m.GetProperty("lag_records").GetInt64());
            Assert.Equal(0, m.GetProperty("lag_seconds").GetDouble());
            Assert.Equal(100, m.GetProperty("status").GetProperty("copied").GetInt64());
            Assert.Equal(node.ClusterAddress, m.GetProperty("status").GetProperty("node").GetString());
            Assert.Equal(100, KafkaMirrorSpecs.ReadAll(dc2, Topic, 2).Count);

            // Paused: nothing is copied, the lag grows with what is produced, in records and seconds (the records are a minute old).
            var paused = await admin.PostAsync("/v1/mirrors/to-dc2/pause", null);
            Assert.True(paused.IsSuccessStatusCode, await paused.Content.ReadAsStringAsync());
            Assert.Equal("paused", (await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
            Produce(node.Bus.BootstrapServers, 100, 50);
            await Wait.UntilAsync(async () => (m = await MirrorAsync(admin)).GetProperty("lag_records").GetInt64() == 50, TimeSpan.FromSeconds(30), () => Describe(m));
            Assert.Equal("paused", m.GetProperty("status").GetProperty("state").GetString());
            Assert.True(m.GetProperty("lag_seconds").GetDouble() >= 55, Describe(m));
            Assert.All(m.GetProperty("partitions").EnumerateArray(), p => Assert.Equal(25, p.GetProperty("lag_records").GetInt64()));
            Assert.Equal(100, KafkaMirrorSpecs.ReadAll(dc2, Topic, 2).Count);

            // The metrics and the Nagios check see it too.
            var metrics = await node.Client.GetStringAsync("/metrics");
            Assert.Contains("nwdp_mirror_lag_records{mirror=\"to-dc2\",topic=\"mirror.src\",partition=\"0\"} 25", metrics);
            Assert.Contains("nwdp_mirror_lag_seconds{mirror=\"to-dc2\",topic=\"mirror.src\",partition=\"1\"}", metrics);
            Assert.Contains("nwdp_mirror_copied_total{mirror=\"to-dc2\"} 100", metrics);
            Assert.Contains("nwdp_mirror_paused{mirror=\"to-dc2\"} 1", metrics);
            var check = await Nwdp.RunAsync("check", "lag", "--node", node.AdminNode, "--warn", "30", "--crit", "100000");
            output.WriteLine(check.ToString());
            Assert.True(check.ExitCode == 1, check.ToString());
            Assert.StartsWith("NWDP_LAG WARNING - largest lag ", check.Stdout);
            Assert.Contains("mirror to-dc2 (paused) 50 records", check.Stdout);
            Assert.Contains("mirror_to-dc2_lag_records=50", check.Stdout);
            var snapshot = await node.App.Services.GetRequiredService<NeverwinterDP.Host.Dashboard.DashboardFeed>().GetAsync(CancellationToken.None);
            var row = Assert.Single(snapshot.Mirrors!);
            Assert.Equal(("to-dc2", "paused", 50L), (row.Name, row.State, row.LagRecords));
            var status = await Nwdp.RunAsync("mirror", "status", "--node", node.AdminNode);
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Contains(status.Lines, l => l.StartsWith("to-dc2", StringComparison.Ordinal) && l.Contains("paused", StringComparison.Ordinal));

            // Resumed (through the CLI): it catches up, each record once in the target.
            var resumed = await Nwdp.RunAsync("mirror", "resume", "to-dc2", "--node", node.AdminNode);
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.StartsWith("mirror to-dc2: running on ", resumed.Stdout);
            await Wait.UntilAsync(async () => (m = await MirrorAsync(admin)).GetProperty("lag_records").GetInt64() == 0
                                              && m.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("next_offset").GetInt64()) == 150,
                TimeSpan.FromSeconds(60), () => Describe(m));
            var copies = KafkaMirrorSpecs.ReadAll(dc2, Topic, 2);
            Assert.Equal(150, copies.Count);
            Assert.Equal(150, copies.Select(c => Encoding.UTF8.GetString(c.Message.Key)).Distinct().Count());

            var again = await Nwdp.RunAsync("mirror", "pause", "to-dc2", "--node", node.AdminNode);
            Assert.True(again.ExitCode == 0, again.ToString());
            var unknown = await admin.PostAsync("/v1/mirrors/nope/pause", null);
            Assert.Equal(404, (int)unknown.StatusCode);
            Assert.StartsWith("no mirror 'nope' (configured in nwdp.mirrors: to-dc2)", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }

        // The pause is on the target, not in the node: another node with the same mirror starts it paused.
        using var dir2 = new TempDir();
        await using (var node = await InProcessNode.StartAsync(dir2.Path, extraHocon: Hocon(dc2.BootstrapServers)))
        {
            using var admin = node.AdminClient();
            await Wait.UntilAsync(async () => (m = await MirrorAsync(admin)).GetProperty("status").GetProperty("state").GetString() is "paused" or "running",
                TimeSpan.FromSeconds(60), () => Describe(m));
            Assert.Equal("paused", m.GetProperty("status").GetProperty("state").GetString());
            Assert.True(m.GetProperty("status").GetProperty("paused").GetBoolean());
        }
    }

    [Fact]
    public async Task The_mirror_moves_to_the_other_node_when_its_node_leaves_and_copies_each_record_once()
    {
        using var dc1 = new EmbeddedKafka();
        using var dc2 = new EmbeddedKafka();
        dc1.CreateTopic(Topic, 2);
        dc2.CreateTopic(Topic, 2);
        using var root = new TempDir();
        var hocon = Hocon(dc2.BootstrapServers, dc1.BootstrapServers);
        var n1 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n1"), extraHocon: hocon);
        var n2 = await InProcessNode.StartAsync(Path.Combine(root.Path, "n2"),
            extraHocon: hocon + $"\nakka.cluster.seed-nodes = [\"{n1.Cluster.SelfAddress}\"]");
        var nodes = new List<InProcessNode> { n1, n2 };
        try
        {
            await Wait.UntilAsync(() => nodes.All(n => n.Cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 2), TimeSpan.FromSeconds(30));
            using var admin = n1.AdminClient();
            Produce(dc1.BootstrapServers, 0, 300);
            JsonElement m = default;
            await Wait.UntilAsync(async () => (m = await MirrorAsync(admin)).GetProperty("status").GetProperty("copied").GetInt64() == 300
                                              && m.GetProperty("lag_records").GetInt64() == 0,
                TimeSpan.FromSeconds(90), () => Describe(m));
            var holder = nodes.Single(n => n.ClusterAddress == m.GetProperty("status").GetProperty("node").GetString());
            var other = nodes.Single(n => n != holder);
            output.WriteLine($"the mirror runs on {holder.ClusterAddress}; it leaves");

            // The holder leaves while records keep coming: the other node takes the mirror over from the committed positions.
            var leaving = holder.DisposeAsync().AsTask();
            nodes.Remove(holder);
            Produce(dc1.BootstrapServers, 300, 300);
            await leaving;
            using var otherAdmin = other.AdminClient();
            await Wait.UntilAsync(async () => (m = await MirrorAsync(otherAdmin)).GetProperty("status").GetProperty("node").GetString() == other.ClusterAddress
                                              && m.GetProperty("lag_records").GetInt64() == 0
                                              && m.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("next_offset").GetInt64()) == 600,
                TimeSpan.FromSeconds(120), () => Describe(m));
            var copies = KafkaMirrorSpecs.ReadAll(dc2, Topic, 2);
            Assert.Equal(600, copies.Select(c => Encoding.UTF8.GetString(c.Message.Key)).Distinct().Count());
            Assert.Equal(600, copies.Count);
        }
        finally
        {
            foreach (var n in Enumerable.Reverse(nodes)) await n.DisposeAsync();
        }
    }
}
