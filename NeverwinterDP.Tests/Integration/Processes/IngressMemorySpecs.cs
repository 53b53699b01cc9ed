using System.Net;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Tests.Integration.Http;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Issue 13's memory finding, measured as an operator would: the resident memory of an <c>nwdp run</c> process (from
/// <c>/proc/PID/status</c>), not of the test process, which also holds the test's own requests and whatever earlier
/// tests left. Concurrent large requests (the issue's eight of ~60 MiB inflated), gzip bombs and a run of the fuzz
/// generator's hostile requests: the node's peak RSS stays within the bytes-in-flight budget plus a fixed overhead,
/// and it gives the memory back within a minute.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class IngressMemorySpecs(ITestOutputHelper output)
{
    /// <summary>The bytes-in-flight budget under test (the default of <c>nwdp.ingress.max-bytes-in-flight</c>).</summary>
    private const long Budget = 320L << 20;

    /// <summary>What the node may hold past its idle size beside the budget: GC slack, pools, the pump's batches.</summary>
    private const long FixedOverhead = 384L << 20;

    /// <summary>"Near its idle value": what the node may still hold a minute after the load, past its idle size.</summary>
    private const long GiveBackSlack = 128L << 20;

    /// <summary>Concurrent senders (the issue's eight).</summary>
    private const int Senders = 8;

    [Fact]
    public async Task Concurrent_large_and_hostile_requests_keep_the_nodes_peak_RSS_within_the_budget_and_it_gives_the_memory_back()
    {
        using var dir = new TempDir();
        await using var node = await NodeProcess.StartAsync("node", dir.Path,
            // The pump off: this is ingress's budget. With it on, the node was still pumping the accepted 60 MiB
            // requests' 512 KiB events a minute after the load on a busy machine (RSS 757 MiB then): the pump's memory
            // under huge events is its own question (docs/reliability.md#hostile-input).
            settings: [$"nwdp.ingress.max-bytes-in-flight={Budget >> 20}MiB", "nwdp.pump.enabled=off"]);
        var pid = node.Child.Id;
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        using var http = Ingress.NewClient();
        http.Timeout = TimeSpan.FromMinutes(2);

        // Warm up (JIT, pools, the first topic), then the idle size, and reset the peak (VmHWM) so it covers only the load.
        for (var i = 0; i < 20; i++)
        {
            using var warm = await Ingress.PostAsync(http, node.Http, "memory", Enumerable.Range(0, 100).Select(n => Ingress.Line($"warm-{i}-{n}", "h")));
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        var idle = ProcessMemory.Rss(process);
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5");
        output.WriteLine($"idle RSS {idle >> 20} MiB; peak reset to {ProcessMemory.PeakRss(process) >> 20} MiB");

        // The issue's case: ~60 MiB inflated per request (512 KiB lines), gzip on the wire, eight at once; then bombs
        // and uncompressed multi-MiB lines; then the fuzz generator's mix with large bodies allowed.
        var sixtyMiB = HostileRequests.Gzip(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 120).Select(n => $"{{\"msg\":\"{n}-{new string('x', 512 * 1024)}\"}}\n"))));
        var bomb = HostileRequests.Gzip(new byte[200 << 20]);
        var sixMiBLine = Encoding.UTF8.GetBytes($"{{\"msg\":\"{new string('y', 6 << 20)}\"}}\n");
        var seed = Random.Shared.Next();
        var generator = new HostileRequests(seed);
        var hostile = Enumerable.Range(0, 600).Select(_ => generator.Next(large: true)).ToList();
        output.WriteLine($"hostile mix: seed {seed}, 600 requests");

        var answers = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        async Task SendAsync(string what, byte[] body, string? encoding, string type = "memory", string contentType = "application/x-ndjson")
        {
            var content = new ByteArrayContent(body);
            if (contentType.Length > 0) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            if (encoding is not null) content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);
            try
            {
                using var response = await http.PostAsync(new Uri(node.Http, "/v1/events?type=" + Uri.EscapeDataString(type)), content);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                answers.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status >= 500) failures.Add($"{what}: {status} {text[..Math.Min(200, text.Length)]}");
                else if (status >= 400 && !IsJsonError(text)) failures.Add($"{what}: {status} without a JSON error: {text[..Math.Min(200, text.Length)]}");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{what}: connection dropped: {e.GetBaseException().Message}");
            }
        }

        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => (s % 4) switch
            {
                0 or 1 => SendAsync("60 MiB of 512 KiB lines, gzip", sixtyMiB, "gzip"),
                2 => SendAsync("gzip bomb of 200 MiB", bomb, "gzip"),
                _ => SendAsync("one 6 MiB line", sixMiBLine, null),
            }));
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => SendAsync("60 MiB of 512 KiB lines, gzip", sixtyMiB, "gzip")));
        }
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next) - 1; i < hostile.Count; i = Interlocked.Increment(ref next) - 1)
            {
                var r = hostile[i];
                await SendAsync(r.Kind, r.Body, r.ContentEncoding, r.Type, r.ContentType ?? "");
            }
        }));

        var peak = ProcessMemory.PeakRss(process);
        output.WriteLine($"answers: {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} x{a.Value}"))}");
        output.WriteLine($"peak RSS {peak >> 20} MiB: {(peak - idle) >> 20} MiB over idle (allowed: budget {Budget >> 20} + {FixedOverhead >> 20} MiB)");
        Assert.True(failures.IsEmpty, $"seed {seed}: {failures.Count} answers not 2xx/4xx with a JSON error, the first:\n" + string.Join("\n", failures.Take(20)));
        Assert.True(answers.GetValueOrDefault(200) > 0, "no request was accepted: the load did not reach the bus");
        Assert.True(peak - idle < Budget + FixedOverhead,
            $"seed {seed}: the node's RSS rose from {idle >> 20} MiB to {peak >> 20} MiB, past the budget of {Budget >> 20} MiB + {FixedOverhead >> 20} MiB. {node.Child.Describe()}");

        // It gives the memory back: within a minute of the load, RSS is near its idle size again.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long now = 0;
        await Poll.UntilAsync(() => Task.FromResult((now = ProcessMemory.Rss(process)) < idle + GiveBackSlack), TimeSpan.FromMinutes(1),
            () => $"a minute after the load the node's RSS is {now >> 20} MiB, idle was {idle >> 20} MiB (allowed {GiveBackSlack >> 20} MiB more)", intervalMs: 500);
        output.WriteLine($"RSS back to {now >> 20} MiB after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(0, await node.StopGracefullyAsync());
    }

    private static bool IsJsonError(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("error", out var e) && e.GetString() is { Length: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
