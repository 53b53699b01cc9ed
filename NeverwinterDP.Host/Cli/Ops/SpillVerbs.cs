using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp spill status</c> and <c>nwdp spill check</c>: the spillover store's backlog and integrity.</summary>
public static class SpillVerbs
{
    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("status", "The spill backlog per topic (batches, events, bytes, oldest age, replay state) and this node's quota.", StatusAsync),
        AdminVerb.Create("check", "Verify the spill store: integrity now, quarantines at earlier starts, damaged batches kept aside (exit 3 if any).", CheckAsync),
    ];

    private static async Task<int> StatusAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/spill/status", AdminJson.Default.SpillStatusResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var rows = reply.Value.Topics.Select(t => new[]
        {
            t.Topic, t.Batches.ToString(), t.Events.ToString(), t.Bytes.ToString(),
            t.OldestSpilledAtMs <= 0 ? "-" : $"{TimeSpan.FromMilliseconds(Math.Max(0, now - t.OldestSpilledAtMs)).TotalSeconds:0}s",
            t.ReplayedEvents.ToString(), t.QuarantinedBatches.ToString(), t.State,
        }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["topic", "batches", "events", "bytes", "oldest", "replayed", "quarantined", "state"], rows);
        var v = reply.Value;
        await call.Out.WriteLineAsync($"Quota: {v.QuotaUsedBytes} of {v.QuotaLimitBytes} bytes used; bus {(v.BusUp ? "up" : "DOWN")}");
        if (v.RequestsInDoubt > 0)
            await call.Out.WriteLineAsync($"In doubt: {v.RequestsInDoubt} spilled requests still with the Kafka producer; replays wait for its verdict");
        return 0;
    }

    private static async Task<int> CheckAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/spill/check", AdminJson.Default.SpillCheckResponse, call.Cancellation);
        var v = reply.Value;
        if (call.Json) await AdminVerb.PrintJsonAsync(call, reply.Json);
        else
        {
            await call.Out.WriteLineAsync($"store: {v.Store ?? v.Provider}: {(v.Healthy ? "ok" : "DAMAGED")} ({v.Detail})");
            foreach (var q in v.Quarantines)
                await call.Out.WriteLineAsync($"quarantined at start: {q.QuarantinedTo} ({q.Detail}): {q.Salvaged} rows salvaged, {q.Lost} unreadable");
            foreach (var b in v.QuarantinedBatches) await call.Out.WriteLineAsync($"damaged spilled batch kept aside: {b}");
        }
        return v.Healthy && v.Quarantines.Count == 0 ? 0 : 3;
    }
}
