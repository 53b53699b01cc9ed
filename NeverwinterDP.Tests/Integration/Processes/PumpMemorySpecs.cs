using System.Net;
using System.Text;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Tests.Integration.Http;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Issue 13's memory finding with the pump on (the sibling of <see cref="IngressMemorySpecs"/>, which measures ingress
/// alone): an <c>nwdp run</c> process on the defaults (the files sink, two sink writers) takes a burst of ~900 KiB events,
/// the pump delivers them all, and then the node's resident memory returns near its idle value within a minute. Its peak
/// stays within what ingress and the pumps may hold by their byte bounds (<c>nwdp.ingress.max-bytes-in-flight</c>, and
/// per pump <see cref="PumpOptions.HeldBytesBound"/>) plus a fixed overhead.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class PumpMemorySpecs(ITestOutputHelper output)
{
    /// <summary>The ingress budget (the default of <c>nwdp.ingress.max-bytes-in-flight</c>).</summary>
    private const long IngressBudget = 320L << 20;

    /// <summary>Pumps of the files sink on one node (the default <c>nwdp.pump.writers-per-sink</c>, both here).</summary>
    private const int Pumps = 2;

    /// <summary>
    /// What the node may hold past its idle size beside the bounds: GC slack, pools, the embedded broker's log. Before the
    /// pump's bound (and with the consumer's peeks keeping dequeued records), such a burst took the node ~750 MiB over idle.
    /// </summary>
    private const long FixedOverhead = 128L << 20;

    /// <summary>"Near its idle value" (as in <see cref="IngressMemorySpecs"/>).</summary>
    private const long GiveBackSlack = 128L << 20;

    private const int EventBytes = 900 * 1024;
    private const int EventsPerRequest = 8;
    private const int Senders = 4;
    private const int Rounds = 12;

    [Fact]
    public async Task A_burst_of_large_events_through_the_pump_is_delivered_and_the_node_gives_the_memory_back()
    {
        using var dir = new TempDir();
        await using var node = await NodeProcess.StartAsync("node", dir.Path, settings: [$"nwdp.ingress.max-bytes-in-flight={IngressBudget >> 20}MiB"]);
        var pid = node.Child.Id;
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        using var http = Ingress.NewClient();
        http.Timeout = TimeSpan.FromMinutes(2);

        // Warm up (JIT, pools, the topic, both pumps delivering), then the idle size, and reset the peak (VmHWM).
        const int warmEvents = 20 * 100;
        for (var i = 0; i < 20; i++)
        {
            using var warm = await Ingress.PostAsync(http, node.Http, "pumpmemory", Enumerable.Range(0, 100).Select(n => Ingress.Line($"warm-{i}-{n}", "h")));
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        long delivered = 0;
        await Poll.UntilAsync(async () => (delivered = await Ingress.DeliveredAsync(http, node.Http)) >= warmEvents, Limits.PumpCatchUp,
            () => $"the pump delivered {delivered} of the {warmEvents} warm-up events. {node.Child.Describe()}");
        var idle = ProcessMemory.Rss(process);
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5");
        output.WriteLine($"idle RSS {idle >> 20} MiB; peak reset to {ProcessMemory.PeakRss(process) >> 20} MiB");

        // The burst: requests of eight ~900 KiB events (gzip on the wire), four at a time, every one accepted.
        var statuses = new System.Collections.Concurrent.ConcurrentBag<string>();
        var sent = 0;
        for (var round = 0; round < Rounds; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(async s =>
            {
                var body = HostileRequests.Gzip(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, EventsPerRequest)
                    .Select(n => $"{{\"msg\":\"{round}-{s}-{n}-{new string((char)('a' + n), EventBytes)}\"}}\n"))));
                var content = new ByteArrayContent(body);
                content.Headers.TryAddWithoutValidation("Content-Type", "application/x-ndjson");
                content.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
                using var response = await http.PostAsync(new Uri(node.Http, "/v1/events?type=pumpmemory"), content);
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Add(ref sent, EventsPerRequest);
                else statuses.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }));
        }
        Assert.True(statuses.IsEmpty, "requests not accepted: " + string.Join("; ", statuses.Take(5)));

        // Every event delivered by the pump (probe), then the peak of the whole burst, ingress and pump.
        await Poll.UntilAsync(async () => (delivered = await Ingress.DeliveredAsync(http, node.Http)) >= warmEvents + sent, 3 * Limits.PumpCatchUp,
            () => $"the pump delivered {delivered - warmEvents} of the {sent} large events. {node.Child.Describe()}", intervalMs: 250);
        var peak = ProcessMemory.PeakRss(process);
        var pumpBound = new PumpOptions().HeldBytesBound;
        var allowed = IngressBudget + Pumps * pumpBound + FixedOverhead;
        output.WriteLine($"{sent} events of {EventBytes >> 10} KiB delivered; peak RSS {peak >> 20} MiB: {(peak - idle) >> 20} MiB over idle " +
                         $"(allowed: ingress {IngressBudget >> 20} + {Pumps} pumps x {pumpBound >> 20} + {FixedOverhead >> 20} MiB)");
        Assert.True(peak - idle < allowed,
            $"the node's RSS rose from {idle >> 20} MiB to {peak >> 20} MiB, past its bounds ({allowed >> 20} MiB over idle). {node.Child.Describe()}");

        // It gives the memory back: within a minute of the last delivery, RSS is near its idle size again.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long now = 0;
        await Poll.UntilAsync(() => Task.FromResult((now = ProcessMemory.Rss(process)) < idle + GiveBackSlack), TimeSpan.FromMinutes(1),
            () => $"a minute after the pump delivered the burst the node's RSS is {now >> 20} MiB, idle was {idle >> 20} MiB (allowed {GiveBackSlack >> 20} MiB more). {node.Child.Describe()}",
            intervalMs: 500);
        output.WriteLine($"RSS back to {now >> 20} MiB after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(0, await node.StopGracefullyAsync());
    }
}
