using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp sources</c> and <c>nwdp watchdog</c>: what the emitter registry and the watchdog know.</summary>
public static class RegistryVerbs
{
    public static Command Sources { get; } =
        AdminVerb.Create("sources", "The sources (host/process) that sent events: counts, bytes, last seen.", SourcesAsync);

    public static Command Watchdog { get; } =
        AdminVerb.Create("watchdog", "The hosts the watchdog tracks: online/offline, last heartbeat, processes.", WatchdogAsync);

    private static string Time(long ms) => ms <= 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'");

    private static async Task<int> SourcesAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/sources", AdminJson.Default.SourcesResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Sources.Select(s => new[] { s.SourceId, s.Events.ToString(), s.Bytes.ToString(), Time(s.LastSeenMs), s.Version }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["source", "events", "bytes", "last seen", "version"], rows);
        await call.Out.WriteLineAsync($"Count: {rows.Count} sources");
        await NotAnsweringAsync(call, reply.Value.Unavailable, "sources");
        return 0;
    }

    private static async Task<int> WatchdogAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/watchdog", AdminJson.Default.WatchdogResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Hosts.Select(h => new[] { h.Host, h.Online ? "online" : "OFFLINE", Time(h.LastHeartbeatMs), string.Join(',', h.Processes) }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["host", "state", "last heartbeat", "processes"], rows);
        await call.Out.WriteLineAsync($"Count: {rows.Count} hosts, {reply.Value.Hosts.Count(h => !h.Online)} offline");
        await NotAnsweringAsync(call, reply.Value.Unavailable, "hosts");
        return 0;
    }

    private static async Task NotAnsweringAsync(AdminCall call, IReadOnlyList<string>? unavailable, string what)
    {
        if (unavailable is not { Count: > 0 }) return;
        await call.Out.WriteLineAsync($"Not answering: {unavailable.Count} {what} ({string.Join(", ", unavailable.Take(10))}{(unavailable.Count > 10 ? ", ..." : "")}): "
            + "their shard is on a member that is down and not removed yet, or moving; ask again in a few seconds");
    }
}
