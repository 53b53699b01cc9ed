using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>A spilled batch the bus refuses for good is quarantined, counted and skipped: the replay never loops on it.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillPoisonSpecs(ITestOutputHelper output)
{
    private static ProducerRecord<byte[]?, byte[]> Record(string topic, string message) =>
        new(topic, new Confluent.Kafka.Message<byte[]?, byte[]>
        {
            Key = Encoding.UTF8.GetBytes("h"),
            Value = LogEventAvro.EncodeFramed(new LogEvent { Host = "h", Process = "p", Type = "poison", Message = message, Ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }),
        });

    [Fact]
    public async Task A_spilled_batch_the_bus_refuses_permanently_is_quarantined_and_the_next_batch_replays()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.sinks.files.fsync"] = "off",
            // No hour markers: they go through the same bus writer, and these records carry no system_ts (their hour
            // ended long ago), so markers may fall due while the spec counts the replay's produce attempts below.
            ["nwdp.watermarks.enabled"] = "off",
        });
        var topic = TopicNames.ForType("poison");
        var spill = node.App.Services.GetRequiredService<SpillWriter>();
        // As a node with a larger message.max.bytes (or an older version) spilled them: the first batch holds an event
        // this bus's producer refuses (message.max.bytes 1000000), the second two that it takes.
        var first = await spill.SpillAsync([Record(topic, "poison-0"), Record(topic, new string('x', 1_500_000))], CancellationToken.None);
        var second = await spill.SpillAsync([Record(topic, "poison-1"), Record(topic, "poison-2")], CancellationToken.None);
        Assert.Equal(Actors.Bus.IngressOutcome.Durable, first.Outcome);
        Assert.Equal(Actors.Bus.IngressOutcome.Durable, second.Outcome);

        List<string> Published() => node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).ToList();
        await Wait.UntilAsync(() => Task.FromResult(Published().Contains("poison-2")), TimeSpan.FromSeconds(60), () => $"published: {string.Join(",", Published())}");
        var kept = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "quarantine", "spill")));
        output.WriteLine($"quarantined: {kept}");
        Assert.EndsWith(".refused.bin", kept);

        // spill status (the admin API, what `nwdp spill status` shows): nothing waiting, one batch quarantined.
        using var admin = node.AdminClient();
        var seen = "";
        await Wait.UntilAsync(async () =>
        {
            var response = await admin.GetAsync("/v1/spill/status");
            seen = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var body = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), AdminJson.Default.SpillStatusResponse)!;
            return body.Topics.SingleOrDefault(t => t.Topic == topic) is { Batches: 0, QuarantinedBatches: 1 };
        }, TimeSpan.FromSeconds(30), () => seen);

        // The replay moved on and stays quiet: no more produce attempts of the poisoned batch.
        var acknowledged = node.BusWriter.Acknowledged;
        await Task.Delay(1000);
        Assert.Equal(acknowledged, node.BusWriter.Acknowledged);
        Assert.DoesNotContain(Published(), m => m.StartsWith("xxxx", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_the_broker_refuses_with_a_non_retriable_error_is_answered_4xx_and_not_spilled()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        Assert.Equal(HttpStatusCode.OK, (await node.PostNdjsonAsync(["{\"msg\":\"warm\"}"], type: "broker-refuses")).StatusCode);
        node.Bus.Embedded!.PushRequestErrors(0, 1, 10); // the next Produce request: MSG_SIZE_TOO_LARGE
        var response = await node.PostNdjsonAsync(["{\"msg\":\"refused\"}"], type: "broker-refuses");
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{(int)response.StatusCode} {body}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.StartsWith("the bus refused the events permanently: ", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        Assert.Equal(0, node.App.Services.GetRequiredService<Actors.Ingress.EventIngress>().SpilledEvents);
    }
}
