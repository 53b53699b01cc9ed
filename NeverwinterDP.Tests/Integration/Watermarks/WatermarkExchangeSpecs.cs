using System.Collections.Concurrent;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Watermarks;

/// <summary>The watermark exchange on Kafka: two nodes see each other's observations and the completions in one order, and a node started later reads them all.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class WatermarkExchangeSpecs
{
    private static readonly long H = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public async Task Observations_and_completions_reach_every_node_and_a_node_started_later_reads_them_all()
    {
        using var kafka = new EmbeddedKafka(new EmbeddedKafkaOptions { DefaultPartitions = 4 });
        var clients = new KafkaClients(kafka.BootstrapServers);
        // As a node reaches an external broker: through the admin API (the mock broker may create the topics only on first write).
        using var topics = new AdminTopicProvisioner(clients, 4, TopicReplication.Auto);
        var warnings = new ConcurrentQueue<string>();
        await using var p1 = new KafkaWatermarkExchange(clients, topics, () => "p1", 100, warnings.Enqueue);
        await using var p2 = new KafkaWatermarkExchange(clients, topics, () => "p2", 100, warnings.Enqueue);
        await p1.StartAsync(default);
        await p2.StartAsync(default);
        string Warnings() => string.Join("; ", warnings);

        await p1.ShareAsync([new ObservedHour("files", "nwdp.logs.app", H, "p1", [new MarkerSeen("x", 0, 5)], new Dictionary<string, long> { ["x"] = 5 }, 5, 0)], default);
        await p2.ShareAsync([new ObservedHour("files", "nwdp.logs.app", H, "p2", [new MarkerSeen("x", 1, 7)], new Dictionary<string, long> { ["x"] = 7 }, 7, 0)], default);
        var v1 = new HourCompletion("files", "nwdp.logs.app", H, 1, HourCompletion.Complete, null, [5, 7], ["x"], 12, 0, H + UtcHours.Ms);
        await p2.PublishAsync(v1, default);
        await p1.PublishAsync(v1 with { Delivered = 13 }, default); // racing: the second record of version 1
        foreach (var p in new[] { p1, p2 })
        {
            await Wait.UntilAsync(() => p.CaughtUp && p.View.Observers("files", "nwdp.logs.app", H).Count == 2 && p.View.Last("files", "nwdp.logs.app", H) is not null,
                TimeSpan.FromSeconds(30), Warnings);
            Assert.Equal(12, p.View.Last("files", "nwdp.logs.app", H)!.Delivered);
            Assert.Equal(2, p.View.Merged("files", "nwdp.logs.app", H)!.Markers.Count);
        }

        await p1.RetractAsync([ObservedHour.KeyOf("files", "nwdp.logs.app", H, "p1")], default);
        await Wait.UntilAsync(() => p2.View.Observers("files", "nwdp.logs.app", H).SequenceEqual(["p2"]), TimeSpan.FromSeconds(30), Warnings);

        await using var late = new KafkaWatermarkExchange(clients, topics, () => "p3", 100, warnings.Enqueue);
        await late.StartAsync(default);
        await Wait.UntilAsync(() => late.CaughtUp, TimeSpan.FromSeconds(30), Warnings);
        Assert.Equal(["p2"], late.View.Observers("files", "nwdp.logs.app", H));
        Assert.Equal(12, late.View.Last("files", "nwdp.logs.app", H)!.Delivered);
        Assert.Empty(warnings);
    }
}
