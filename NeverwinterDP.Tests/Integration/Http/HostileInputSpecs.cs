using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Http;

/// <summary>Malformed, oversized and concurrent large requests: each refused with a reason, nothing promised that cannot be kept.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HostileInputSpecs(ITestOutputHelper output)
{
    private static readonly byte[] Lines = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"host\":\"h\",\"msg\":\"hostile-{i}\"}}\n")));

    private static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(InProcessNode node, byte[] body, bool gzip = false,
        string type = "hostile")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        if (gzip) content.Headers.ContentEncoding.Add("gzip");
        var response = await node.Client.PostAsync($"/v1/events?type={type}", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    [Fact]
    public async Task A_corrupt_or_truncated_gzip_body_is_refused_400_and_nothing_of_it_reaches_the_bus()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        var good = Gzip(Lines);
        var random = new Random(13);
        byte[] Garbage(int n)
        {
            var b = new byte[4 + n];
            random.NextBytes(b);
            b[0] = 0x1f; b[1] = 0x8b; b[2] = 8; b[3] = 0;
            return b;
        }

        var cases = new Dictionary<string, byte[]>
        {
            ["header and 4 bytes of garbage"] = Garbage(4),
            ["header and 200 bytes of garbage"] = Garbage(200),
            ["a gzip header alone"] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
            ["no bytes at all"] = [],
            ["cut in the middle"] = good[..(good.Length / 2)],
            ["cut before the trailer"] = good[..^8],
            ["cut in the trailer"] = good[..^3],
            ["a flipped byte in the trailer"] = good.Select((b, i) => i == good.Length - 6 ? (byte)(b ^ 0xff) : b).ToArray(),
            ["garbage after the stream"] = [.. good, 1, 2, 3, 4, 5],
        };
        var before = node.BusWriter.Acknowledged;
        foreach (var (name, body) in cases)
        {
            var (status, json, _) = await PostAsync(node, body, gzip: true);
            output.WriteLine($"{name}: {(int)status} {json}");
            Assert.True(status == HttpStatusCode.BadRequest, $"{name}: {(int)status} {json}");
            Assert.StartsWith("body is not valid gzip: ", json.GetProperty("error").GetString());
        }
        Assert.Equal(before, node.BusWriter.Acknowledged);

        // What is whole is taken: a gzip body, two gzip members one after the other, and an empty gzip stream
        // (nothing sent, nothing accepted: 200 with accepted 0, as for an empty plain body).
        var (ok, accepted, _) = await PostAsync(node, good, gzip: true);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(200, accepted.GetProperty("accepted").GetInt32());
        var (twoMembers, both, _) = await PostAsync(node, [.. Gzip(Lines), .. Gzip(Lines)], gzip: true);
        Assert.Equal(HttpStatusCode.OK, twoMembers);
        Assert.Equal(400, both.GetProperty("accepted").GetInt32());
        // What `gzip < /dev/null` writes (.NET's GZipStream writes nothing at all for no data).
        byte[] emptyGzip = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var (empty, none, _) = await PostAsync(node, emptyGzip, gzip: true);
        Assert.Equal(HttpStatusCode.OK, empty);
        Assert.Equal(0, none.GetProperty("accepted").GetInt32());
        Assert.Equal(before + 600, node.BusWriter.Acknowledged);

        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Contains($"nwdp_ingress_refusals_total{{reason=\"invalid_gzip\"}} {cases.Count}", metrics);
    }

    [Fact]
    public void The_bus_limit_is_the_producers_effective_message_max_bytes()
    {
        var defaults = ProducerSettings<byte[], byte[]>.Create(null, null);
        Assert.False(defaults.Properties.ContainsKey("message.max.bytes"));
        Assert.Equal(1_000_000, defaults.MaxMessageBytes()); // librdkafka's own default, read from librdkafka
        Assert.Equal(300_000, defaults.WithProperty("message.max.bytes", "300000").MaxMessageBytes());
        Assert.Throws<ArgumentException>(() => defaults.WithProperty("message.max.bytes", "12").MaxMessageBytes());
    }

    [Fact]
    public async Task An_event_larger_than_the_bus_accepts_is_refused_413_naming_its_size_the_limit_and_its_line()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.pump.enabled"] = "off",
            ["akka.kafka.producer.kafka-clients.message.max.bytes"] = "300000",
        });
        Assert.Equal(300_000, node.BusWriter.MaxMessageBytes);
        var big = new string('x', 400_000);
        // Line 3 (a blank line 2 counts, holds no event); gzip on the wire, as in the report.
        var body = Encoding.UTF8.GetBytes($"{{\"msg\":\"small\"}}\n\n{{\"host\":\"h\",\"msg\":\"{big}\"}}\n{{\"msg\":\"after\"}}\n");
        var before = node.BusWriter.Acknowledged;
        var (status, json, _) = await PostAsync(node, Gzip(body), gzip: true);
        output.WriteLine(json.ToString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Matches(@"^event of \d+ bytes exceeds the bus limit of 300000$", json.GetProperty("error").GetString());
        Assert.Equal(3, json.GetProperty("line").GetInt32());
        var (jsonStatus, jsonBody, _) = await PostJsonArrayAsync(node, $"[{{\"msg\":\"a\"}},{{\"msg\":\"{big}\"}}]");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, jsonStatus);
        Assert.Equal(2, jsonBody.GetProperty("line").GetInt32());
        // Nothing of those requests reached the bus, and nothing was spilled (a spill could never be replayed).
        Assert.Equal(before, node.BusWriter.Acknowledged);
        Assert.Equal(0, node.App.Services.GetRequiredService<EventIngress>().SpilledEvents);
        var (fits, _, _) = await PostAsync(node, Encoding.UTF8.GetBytes($"{{\"msg\":\"{new string('y', 250_000)}\"}}\n"));
        Assert.Equal(HttpStatusCode.OK, fits);
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"event_too_large\"} 2", await node.Client.GetStringAsync("/metrics"));
    }

    private static async Task<(HttpStatusCode, JsonElement, HttpResponseMessage)> PostJsonArrayAsync(InProcessNode node, string json)
    {
        var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await node.Client.PostAsync("/v1/events?type=hostile", content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), response);
    }

    /// <summary>A body that sends its first part, then waits for the test before sending the rest.</summary>
    private sealed class HeldContent(byte[] body, int first, Task release) : HttpContent
    {
        public TaskCompletionSource FirstSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, first));
            await stream.FlushAsync();
            FirstSent.TrySetResult();
            await release;
            await stream.WriteAsync(body.AsMemory(first));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    private static long Gauge(string metrics, string name) =>
        (long)double.Parse(metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Past_the_budget_of_bytes_in_flight_new_requests_get_429_with_Retry_After_and_the_budget_returns_to_0()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.pump.enabled"] = "off",
            ["nwdp.ingress.max-bytes-in-flight"] = "24MiB",
            ["nwdp.ingress.max-request-bytes"] = "4MiB",
            ["nwdp.ingress.max-decompressed-bytes"] = "4MiB",
        });
        var budget = node.App.Services.GetRequiredService<IngressBudget>();
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 40_000).Select(i => $"{{\"host\":\"h\",\"msg\":\"budget-{i:D8}-{new string('z', 40)}\"}}\n")));
        output.WriteLine($"body: {body.Length} bytes");
        Assert.InRange(body.Length, 2 << 20, 3 << 20);

        // Two large requests, each held half way: each holds four times its body (the body, the events it becomes and their
        // records), together most of the budget.
        var release = new TaskCompletionSource();
        var held = Enumerable.Range(0, 2).Select(_ => new HeldContent(body, body.Length / 2, release.Task)).ToList();
        var posts = held.Select(c =>
        {
            c.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            return node.Client.PostAsync("/v1/events?type=budget", c);
        }).ToList();
        await Task.WhenAll(held.Select(c => c.FirstSent.Task));
        await Wait.UntilAsync(() => Task.FromResult(budget.InFlight >= 4L * body.Length), TimeSpan.FromSeconds(10), () => $"{budget.InFlight} in flight");
        Assert.True(Gauge(await node.Client.GetStringAsync("/metrics"), "nwdp_ingress_bytes_in_flight") >= 4L * body.Length);

        // More large requests while the budget is full: 429 with Retry-After, not read.
        for (var i = 0; i < 3; i++)
        {
            var (status, json, response) = await PostAsync(node, body, type: "budget");
            output.WriteLine($"{(int)status} {json}");
            Assert.Equal(HttpStatusCode.TooManyRequests, status);
            Assert.Contains("nwdp.ingress.max-bytes-in-flight", json.GetProperty("error").GetString());
            Assert.NotNull(response.Headers.RetryAfter);
        }

        release.SetResult();
        foreach (var post in posts) Assert.Equal(HttpStatusCode.OK, (await post).StatusCode);
        await Wait.UntilAsync(() => Task.FromResult(budget.InFlight == 0), TimeSpan.FromSeconds(10), () => $"{budget.InFlight} still in flight");
        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Equal(0, Gauge(metrics, "nwdp_ingress_bytes_in_flight"));
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"bytes_in_flight\"} 3", metrics);
        // With the budget free again, the same request is taken.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node, body, type: "budget")).Status);
        Assert.Equal(0, budget.InFlight);
    }
}
