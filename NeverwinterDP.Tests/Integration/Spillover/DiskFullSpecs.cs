using System.Net;
using System.Text.Json;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>
/// Issue 13: the data directory's disk fills up (a small tmpfs the test mounts). The files sink retries until it
/// can write; with the bus down too, ingress answers 503 saying why; nothing accepted is lost; the node recovers by
/// itself when space returns.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DiskFullSpecs(ITestOutputHelper output)
{
    private static string MessageOf(string line) => JsonDocument.Parse(line).RootElement.GetProperty("msg").GetString()!;

    [TmpfsFact]
    public async Task With_the_data_disk_full_nothing_accepted_is_lost_ingress_answers_503_when_it_can_neither_produce_nor_spill_and_all_recovers_when_space_returns()
    {
        using var disk = Tmpfs.Mount(32);
        var run = Guid.NewGuid().ToString("N")[..8];
        var accepted = new List<string>();
        var topic = TopicNames.ForType("diskfull");
        await using (var node = await InProcessNode.StartAsync(disk.Path, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            // The first request when the bus goes down cannot be spilled either: it waits for the producer's verdict.
            ["akka.kafka.producer.kafka-clients.message.timeout.ms"] = "4000",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.sinks.files.fsync"] = "off",
            ["nwdp.pump.retry-max-backoff"] = "500ms",
        }))
        {
            var batch = 0;
            async Task<HttpResponseMessage> Post()
            {
                var messages = Enumerable.Range(batch++ * 20, 20).Select(i => $"{run}-{i}").ToList();
                var response = await node.PostNdjsonAsync(messages.Select(m => JsonSerializer.Serialize(new { host = "h", msg = m, pad = new string('p', 200) })), type: "diskfull");
                if (response.IsSuccessStatusCode) accepted.AddRange(messages);
                return response;
            }

            Assert.Equal(HttpStatusCode.OK, (await Post()).StatusCode);
            await Wait.UntilAsync(() => node.PublishedLines(topic).Count == accepted.Count, TimeSpan.FromSeconds(30));

            // The disk fills up; the bus still takes events: accepted (Kafka has them), the files sink cannot write them yet.
            var filled = disk.Fill();
            output.WriteLine($"filled {filled} bytes, {disk.Free} free");
            for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await Post()).StatusCode);

            // The bus goes down too: ingress can neither produce nor spill: 503 with Retry-After and the reason.
            node.Bus.Embedded!.BrokerDown(1);
            HttpResponseMessage? refused = null;
            for (var i = 0; i < 20 && refused is null; i++)
            {
                var response = await Post();
                if (!response.IsSuccessStatusCode) refused = response;
            }
            Assert.NotNull(refused);
            var body = await refused.Content.ReadAsStringAsync();
            output.WriteLine($"{(int)refused.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Contains("no space left", body, StringComparison.OrdinalIgnoreCase);
            Assert.Matches(@"nwdp_ingress_refusals_total\{reason=""spill_full""\} [1-9]", await node.Client.GetStringAsync("/metrics"));

            // Space returns, the bus comes back: the node recovers by itself and everything accepted arrives, once.
            disk.Unfill();
            node.Bus.Embedded.BrokerUp(1);
            await Wait.UntilAsync(async () => (await Post()).IsSuccessStatusCode, TimeSpan.FromSeconds(60), () => "ingress does not take requests again");
            await Wait.UntilAsync(() => node.PublishedLines(topic).Count >= accepted.Count, TimeSpan.FromSeconds(90),
                () => $"{node.PublishedLines(topic).Count} of {accepted.Count} published");
            var published = node.PublishedLines(topic).Select(MessageOf).ToList();
            Assert.Equal(accepted.Order(), published.Order());
        }
    }
}
