using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Http;

/// <summary>
/// The fuzz suite of issue 13: thousands of generated hostile requests (<see cref="HostileRequests"/>, and over bare
/// sockets pipelining, chunked bodies, slow and abandoned requests) against a node on the defaults. Each is answered
/// 2xx, or 4xx with a JSON error that says why; the bus holds exactly what was accepted; the node stays up. (Its memory
/// under the same generator is measured on a node process, where the test's own requests do not count:
/// <see cref="Processes.IngressMemorySpecs"/>.) The seed is random per run and printed; set
/// <c>NWDP_FUZZ_SEED</c> to run a seed again (and <c>NWDP_FUZZ_REQUESTS</c> for more or fewer requests).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class IngressFuzzSpecs(ITestOutputHelper output)
{
    public const string SeedVariable = "NWDP_FUZZ_SEED";
    public const string RequestsVariable = "NWDP_FUZZ_REQUESTS";

    /// <summary>Requests in flight at once (rounds of this many; the bus is compared after each round).</summary>
    private const int Concurrency = 4;

    private static int Seed() => Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();

    private static int Requests() => Environment.GetEnvironmentVariable(RequestsVariable) is { Length: > 0 } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 3000;

    /// <summary>Everything that went wrong, with the request that did it; reported together at the end.</summary>
    private sealed class Findings(int seed)
    {
        private readonly List<string> _failures = [];

        public void Fail(object request, string what)
        {
            lock (_failures) _failures.Add($"{what} — for {request}");
        }

        public int Count
        {
            get { lock (_failures) return _failures.Count; }
        }

        public void AssertNone()
        {
            lock (_failures)
                Assert.True(_failures.Count == 0,
                    $"seed {seed} ({SeedVariable}={seed} to run it again): {_failures.Count} failures, the first:\n" + string.Join("\n", _failures.Take(25)));
        }
    }

    /// <summary>
    /// Checks one answer and returns how many events it accepted: 2xx with <c>accepted</c>, or 4xx with a JSON
    /// <c>error</c> that names the line (malformed bodies), the limit (413) or what is supported (415), and
    /// Retry-After with 429.
    /// </summary>
    private static int Check(Findings findings, object request, int status, string? contentType, string body, bool retryAfter)
    {
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            findings.Fail(request, $"{status} with a body that is not JSON: '{body[..Math.Min(body.Length, 200)]}'");
            return 0;
        }
        if (status is >= 200 and < 300)
        {
            if (json.TryGetProperty("accepted", out var accepted) && accepted.TryGetInt32(out var n)) return n;
            findings.Fail(request, $"{status} without 'accepted': {body}");
            return 0;
        }
        if (status is < 400 or >= 500)
        {
            findings.Fail(request, $"status {status}: {body}");
            return 0;
        }
        if (contentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true) findings.Fail(request, $"{status} with Content-Type '{contentType}'");
        if (!json.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String || error.GetString() is not { Length: > 0 } message)
        {
            findings.Fail(request, $"{status} without an 'error': {body}");
            return 0;
        }
        var explained = status switch
        {
            400 => message.StartsWith("body is not valid gzip: ", StringComparison.Ordinal) || message.StartsWith("the request body is not valid HTTP/1.1", StringComparison.Ordinal)
                || json.TryGetProperty("line", out var line) && line.GetInt32() >= 1,
            408 => true,
            413 => message.Contains("limit", StringComparison.Ordinal),
            415 => message.Contains("Content-Type", StringComparison.Ordinal) || message.Contains("Content-Encoding", StringComparison.Ordinal),
            429 => retryAfter,
            _ => false,
        };
        if (!explained) findings.Fail(request, $"{status} not explained (no line, limit or Retry-After): {body}");
        return 0;
    }

    private static async Task<int> SendAsync(InProcessNode node, Findings findings, HostileRequest request)
    {
        var content = new ByteArrayContent(request.Body);
        if (request.ContentType is { Length: > 0 } type) content.Headers.TryAddWithoutValidation("Content-Type", type);
        if (request.ContentEncoding is { } encoding) content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/events?type=" + Uri.EscapeDataString(request.Type)) { Content = content };
        if (request.Key is { } key) message.Headers.TryAddWithoutValidation("X-Nwdp-Key", key);
        try
        {
            using var response = await node.Client.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            return Check(findings, request, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, response.Headers.RetryAfter is not null);
        }
        catch (HttpRequestException e)
        {
            findings.Fail(request, "connection dropped: " + e.GetBaseException().Message);
            return 0;
        }
    }

    /// <summary>What the node holds of the bus: acknowledged by Kafka or spilled to disk.</summary>
    private static long OnTheBus(InProcessNode node) => node.BusWriter.Acknowledged + node.App.Services.GetRequiredService<EventIngress>().SpilledEvents;

    [Fact]
    public async Task Thousands_of_hostile_requests_are_each_answered_2xx_or_a_4xx_that_says_why_and_the_bus_holds_exactly_what_was_accepted()
    {
        var seed = Seed();
        var count = Requests();
        output.WriteLine($"seed {seed}, {count} requests ({SeedVariable}, {RequestsVariable})");
        var findings = new Findings(seed);
        var generator = new HostileRequests(seed);
        var random = new Random(seed);
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        var budget = node.App.Services.GetRequiredService<IngressBudget>();
        var watch = Stopwatch.StartNew();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        long accepted = 0;
        var sent = 0;
        while (sent < count)
        {
            var before = OnTheBus(node);
            var round = new List<Task<int>>();
            var described = new List<object>();
            for (var i = 0; i < Concurrency && sent < count; i++, sent++)
            {
                // One request in 40 may be large (lines of MiBs, gzip bombs); one in 10 goes over a bare socket.
                var request = generator.Next(large: random.Next(40) == 0);
                described.Add(request);
                statuses.AddOrUpdate(request.Family, 1, (_, n) => n + 1);
                round.Add(random.Next(10) == 0 ? RawAsync(node, findings, request, random.Next()) : SendAsync(node, findings, request));
            }
            var answers = await Task.WhenAll(round);
            var took = answers.Sum();
            accepted += took;
            var after = OnTheBus(node);
            if (after - before != took)
                findings.Fail(string.Join(" | ", described), $"the bus took {after - before} events where the answers accepted {took}");
            if (findings.Count > 50) break;
        }
        output.WriteLine($"{sent} requests in {watch.Elapsed.TotalSeconds:F1} s, {accepted} events accepted; kinds: " +
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}")));

        await SlowAndAbandonedAsync(node, findings, random);

        // The node is up and takes a plain request; nothing is left in flight.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.Client.GetAsync("/healthz")).StatusCode);
        var beforeLast = OnTheBus(node);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.PostNdjsonAsync(["{\"msg\":\"still up\"}"], "fuzz")).StatusCode);
        Assert.Equal(beforeLast + 1, OnTheBus(node));
        await Wait.UntilAsync(() => budget.InFlight == 0, TimeSpan.FromSeconds(10), () => $"{budget.InFlight} bytes still in flight");

        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s in all");
        findings.AssertNone();
    }

    /// <summary>
    /// One request over a bare socket, in a way HttpClient does not send: pipelined behind valid requests, with a
    /// chunked body, or with header values it refuses.
    /// </summary>
    private static async Task<int> RawAsync(InProcessNode node, Findings findings, HostileRequest request, int seed)
    {
        var random = new Random(seed);
        var target = "/v1/events?type=" + Uri.EscapeDataString(request.Type);
        var headers = new List<string>();
        if (request.ContentType is { } type) headers.Add("Content-Type: " + type);
        if (request.ContentEncoding is { } encoding) headers.Add("Content-Encoding: " + encoding);
        if (request.Key is { } key) headers.Add("X-Nwdp-Key: " + key);
        var mode = random.Next(4);
        var requests = new List<(object What, byte[] Bytes)>();
        if (mode == 0)
        {
            requests.Add(($"chunked: {request}", [.. RawHttp.Head(target, [.. headers, "Transfer-Encoding: chunked"]), .. RawHttp.Chunked(request.Body, random)]));
        }
        else if (mode == 1)
        {
            // Chunked framing that is not HTTP: a size that is not hex, or a chunk longer than its size says.
            var chunked = RawHttp.Chunked(request.Body, random);
            byte[] broken = random.Next(2) == 0 ? [.. "zz\r\n"u8, .. chunked] : [.. "2\r\nabc\r\n"u8, .. chunked];
            requests.Add(($"bad chunked framing: {request}", [.. RawHttp.Head(target, [.. headers, "Transfer-Encoding: chunked"]), .. broken]));
        }
        else
        {
            // Pipelined: valid requests before and after, all written at once.
            var valid = Encoding.UTF8.GetBytes("{\"msg\":\"pipelined\"}\n");
            var n = 1 + random.Next(3);
            for (var i = 0; i < n; i++) requests.Add(("pipelined valid", RawHttp.Post("/v1/events?type=fuzz", valid, "Content-Type: application/x-ndjson")));
            requests.Insert(random.Next(requests.Count + 1), ($"pipelined: {request}", RawHttp.Post(target, request.Body, [.. headers])));
        }
        await using var connection = await RawHttp.ConnectAsync(node.Http);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var accepted = 0;
        // Written while the answers are read: a node that answers a broken request and closes the connection
        // (Connection: close) may do so before the client has written the rest of it (a 6 MiB body whose chunked
        // framing breaks at once), and the client's write then fails; that is the answer, not a dropped connection.
        var send = connection.SendAsync(requests.SelectMany(r => r.Bytes).ToArray(), timeout.Token);
        var closedByNode = false;
        RawHttp.Response? last = null;
        try
        {
            foreach (var (what, _) in requests)
            {
                if (await connection.ReadAsync(timeout.Token) is not { } response)
                {
                    findings.Fail(what, "connection closed without an answer");
                    break;
                }
                last = response;
                response.Headers.TryGetValue("Content-Type", out var contentType);
                accepted += Check(findings, what, response.Status, contentType, response.Body, response.Headers.ContainsKey("Retry-After"));
                if (response.Headers.TryGetValue("Connection", out var c) && c.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    closedByNode = true;
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException)
        {
            findings.Fail(requests[0].What, "connection broken: " + e.Message);
        }
        try
        {
            await send;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            if (!closedByNode)
                findings.Fail(requests[0].What, "connection broken while sending: " + e.Message +
                    (last is null ? "" : $" (the last answer: {last.Status} {string.Join(", ", last.Headers.Select(h => h.Key + ": " + h.Value))} {last.Body})"));
        }
        return accepted;
    }

    /// <summary>
    /// Slow bodies within Kestrel's minimum data rate are taken; a body that stops (slowloris) or a client that
    /// goes away half way leaves nothing on the bus and nothing in flight.
    /// </summary>
    private async Task SlowAndAbandonedAsync(InProcessNode node, Findings findings, Random random)
    {
        var before = OnTheBus(node);
        var lines = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"msg\":\"slow-{i}\",\"pad\":\"{new string('p', 20)}\"}}\n")));
        var ndjson = "Content-Type: application/x-ndjson";

        async Task<int> Slow()
        {
            // About 6 KB/s in pieces over two seconds: well above Kestrel's minimum rate, so taken.
            await using var c = await RawHttp.ConnectAsync(node.Http);
            await c.SendAsync(RawHttp.Head("/v1/events?type=fuzz", ndjson, $"Content-Length: {lines.Length}"));
            await c.TrickleAsync(lines, 1 + lines.Length / 20, TimeSpan.FromMilliseconds(100));
            var r = await c.ReadAsync();
            if (r is null) { findings.Fail("slow body", "no answer"); return 0; }
            r.Headers.TryGetValue("Content-Type", out var ct);
            return Check(findings, "slow body", r.Status, ct, r.Body, r.Headers.ContainsKey("Retry-After"));
        }

        async Task<int> SlowChunked()
        {
            await using var c = await RawHttp.ConnectAsync(node.Http);
            await c.SendAsync(RawHttp.Head("/v1/events?type=fuzz", ndjson, "Transfer-Encoding: chunked"));
            await c.TrickleAsync(RawHttp.Chunked(lines, random), 500, TimeSpan.FromMilliseconds(100));
            var r = await c.ReadAsync();
            if (r is null) { findings.Fail("slow chunked body", "no answer"); return 0; }
            r.Headers.TryGetValue("Content-Type", out var ct);
            return Check(findings, "slow chunked body", r.Status, ct, r.Body, r.Headers.ContainsKey("Retry-After"));
        }

        async Task<int> Abandoned(int keep, bool chunked)
        {
            await using var c = await RawHttp.ConnectAsync(node.Http);
            var body = chunked ? RawHttp.Chunked(lines, random) : lines;
            var head = chunked ? RawHttp.Head("/v1/events?type=fuzz", ndjson, "Transfer-Encoding: chunked")
                : RawHttp.Head("/v1/events?type=fuzz", ndjson, $"Content-Length: {lines.Length}");
            byte[] all = [.. head, .. body];
            await c.SendAsync(all[..Math.Min(keep, all.Length - 1)]);
            await Task.Delay(100);
            return 0; // closed here, half way: no answer expected
        }

        async Task<int> Slowloris()
        {
            // A body that stops coming: the node must not wait for it for ever, nor take what it got.
            await using var c = await RawHttp.ConnectAsync(node.Http);
            await c.SendAsync(RawHttp.Head("/v1/events?type=fuzz", ndjson, $"Content-Length: {lines.Length}"));
            await c.SendAsync(lines[..100]);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                if (await c.ReadAsync(cts.Token) is not { } r) findings.Fail("slowloris", "connection closed without an answer");
                else if (r.Status != 408) findings.Fail("slowloris", $"answered {r.Status}: {r.Body}");
                else Check(findings, "slowloris", r.Status, r.Headers.GetValueOrDefault("Content-Type"), r.Body, false);
            }
            catch (OperationCanceledException)
            {
                findings.Fail("slowloris", "the node still waits for the body after 30 s");
            }
            return 0;
        }

        var tasks = new List<Task<int>> { Slow(), SlowChunked(), Slowloris() };
        for (var i = 0; i < 8; i++) tasks.Add(Abandoned(random.Next(10, lines.Length + 120), i % 2 == 0));
        var took = (await Task.WhenAll(tasks)).Sum();
        await Wait.UntilAsync(() => node.App.Services.GetRequiredService<IngressBudget>().InFlight == 0, TimeSpan.FromSeconds(20),
            () => "abandoned requests still hold the budget");
        var after = OnTheBus(node);
        output.WriteLine($"slow and abandoned: {took} events accepted, the bus took {after - before}");
        if (after - before != took) findings.Fail("slow and abandoned requests", $"the bus took {after - before} events where the answers accepted {took}");
    }
}
