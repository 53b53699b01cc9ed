using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Http;

/// <summary>Issue 13: every refusal says why: the line and the field, or the limit, or what is supported.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RefusalSpecs(ITestOutputHelper output)
{
    private static async Task<(int Status, JsonElement Body)> PostAsync(InProcessNode node, byte[] body, string contentType = "application/x-ndjson", string? encoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (encoding is not null) content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);
        using var response = await node.Client.PostAsync("/v1/events?type=refusals", content);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_is_refused_naming_the_field_and_its_line_for_every_known_field()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        var problems = new List<string>();
        var table = new List<string>();
        foreach (var field in HostileRequests.KnownFields)
        {
            var refused = new List<string>();
            foreach (var value in HostileRequests.AnyValues)
            {
                var msg = field is "msg" or "message" or "log" ? "" : "\"msg\":\"x\",";
                var (status, body) = await PostAsync(node, Encoding.UTF8.GetBytes($"{{\"msg\":\"fine\"}}\n{{{msg}\"{field}\":{value}}}\n"));
                if (status == 200) continue;
                refused.Add(value);
                var error = body.TryGetProperty("error", out var e) ? e.GetString() ?? "" : "";
                var line = body.TryGetProperty("line", out var l) ? l.GetInt32() : 0;
                // A message alias that is null or empty counts as missing: the error names the message fields.
                var named = error.Contains($"'{field}'", StringComparison.Ordinal) || field is "msg" or "message" or "log" && error.Contains("'msg'", StringComparison.Ordinal);
                if (status != 400 || line != 2 || !named) problems.Add($"'{field}' = {value}: {status} {body}");
            }
            table.Add($"{field}: refused {string.Join(" ", refused)}");
        }
        output.WriteLine(string.Join("\n", table));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Each_limit_a_request_runs_into_is_named_in_its_refusal()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.pump.enabled"] = "off",
            ["nwdp.ingress.max-request-bytes"] = "64KiB",
            ["nwdp.ingress.max-decompressed-bytes"] = "128KiB",
            ["nwdp.ingress.max-bytes-in-flight"] = "1MiB",
            ["nwdp.ingress.max-events-per-request"] = "10",
        });
        var line = Encoding.UTF8.GetBytes("{\"msg\":\"x\"}\n");
        byte[] Lines(int n) => Enumerable.Repeat(line, n).SelectMany(b => b).ToArray();

        var cases = new (string What, byte[] Body, string ContentType, string? Encoding, int Status, string Names)[]
        {
            ("a body over max-request-bytes", new byte[100_000], "application/x-ndjson", null, 413, "the limit is 65536"),
            ("a gzip body over max-decompressed-bytes", HostileRequests.Gzip(Lines(20_000)), "application/x-ndjson", "gzip", 413, "after decompression"),
            ("more events than max-events-per-request", Lines(11), "application/x-ndjson", null, 413, "the limit is 10"),
            ("an unsupported Content-Type", line, "text/html", null, 415, "Content-Type 'text/html'"),
            ("an unsupported Content-Encoding", line, "application/x-ndjson", "br", 415, "Content-Encoding 'br'"),
            ("a corrupt gzip body", [0x1f, 0x8b, 8, 0, 1, 2, 3], "application/x-ndjson", "gzip", 400, "body is not valid gzip"),
            ("a line that is not JSON", [.. line, .. "{\"msg\":"u8, (byte)'\n'], "application/x-ndjson", null, 400, "line is not valid JSON"),
        };
        foreach (var (what, body, contentType, encoding, status, names) in cases)
        {
            var (got, json) = await PostAsync(node, body, contentType, encoding);
            output.WriteLine($"{what}: {got} {json}");
            Assert.True(got == status, $"{what}: {got} {json}");
            Assert.Contains(names, json.GetProperty("error").GetString());
        }
        var metrics = await node.Client.GetStringAsync("/metrics");
        foreach (var reason in new[] { "body_too_large", "too_many_events", "unsupported_content_type", "unsupported_content_encoding", "invalid_gzip", "malformed" })
            Assert.Contains($"nwdp_ingress_refusals_total{{reason=\"{reason}\"}}", metrics);
    }

    /// <summary>
    /// For the coordinator (IngressEndpoint, being rewritten): the 429 of a saturated bus says only "the bus is saturated;
    /// retry later"; like every other refusal it must name the limit it ran into (the producer queue,
    /// <c>nwdp.ingress.queue-capacity</c> / <c>enqueue-timeout</c>, or <c>nwdp.ingress.max-bus-backlog</c>).
    /// Fails until IngressEndpoint's <c>IngressOutcome.Saturated</c> message names them.
    /// </summary>
    [Fact]
    public async Task A_429_for_a_saturated_bus_names_the_limit_it_ran_into()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.pump.enabled"] = "off",
            ["akka.kafka.producer.parallelism"] = "1",
            ["nwdp.ingress.queue-capacity"] = "1",
            ["nwdp.ingress.enqueue-timeout"] = "10ms",
        });
        node.Bus.Embedded!.SetBrokerRtt(1, TimeSpan.FromMilliseconds(500));
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostAsync(node, Encoding.UTF8.GetBytes("{\"msg\":\"x\"}\n"))));
        node.Bus.Embedded.SetBrokerRtt(1, TimeSpan.Zero);
        var saturated = answers.Where(a => a.Status == 429).ToList();
        output.WriteLine(string.Join("\n", answers.Select(a => $"{a.Status} {a.Body}")));
        Assert.NotEmpty(saturated);
        Assert.All(saturated, a => Assert.Matches("nwdp\\.ingress\\.(queue-capacity|max-bus-backlog)", a.Body.GetProperty("error").GetString()));
    }
}
