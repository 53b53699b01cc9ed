using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp mirror pause|resume NAME</c> and <c>nwdp mirror status [NAME]</c>: the mirrors the cluster runs
/// (<c>nwdp.mirrors</c>), through a node's admin API (<c>/v1/mirrors</c>). Subcommands of <c>nwdp mirror</c>, whose own
/// flags (<c>--from</c>, <c>--to</c>, ...) still run a mirror in the foreground.
/// </summary>
public static class MirrorAdminVerbs
{
    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("pause",
            "Pause a mirror the cluster runs (nwdp.mirrors.NAME): its flag is written to the target (a pause outlives the\n" +
            "mirror moving to another node), then it stops copying after committing the transaction under way.\n" +
            "Exit 0, 1 when the node cannot be reached or refuses (or no such mirror), 2 for usage errors.",
            call => CommandAsync(call, "pause"), positional: "NAME", required: true),
        AdminVerb.Create("resume",
            "Resume a paused mirror: its flag is cleared on the target and it copies again from its committed positions.\n" +
            "Exit 0, 1 when the node cannot be reached or refuses (or no such mirror), 2 for usage errors.",
            call => CommandAsync(call, "resume"), positional: "NAME", required: true),
        AdminVerb.Create("status",
            "The mirrors the cluster runs: state (running, paused, ...), the node running each, what it copied, and its lag\n" +
            "per source topic and partition (records not copied, and the age in seconds of the oldest of them), read from\n" +
            "Kafka at most every nwdp.mirror.lag-interval.\n" +
            "Exit 0, 1 when the node cannot be reached or refuses (or no such mirror), 2 for usage errors.",
            StatusAsync, positional: "[NAME]"),
    ];

    private static async Task<int> CommandAsync(AdminCall call, string command)
    {
        var name = call.Positional!;
        var reply = await call.Client.PostAsync($"/v1/mirrors/{Uri.EscapeDataString(name)}/{command}", AdminJson.Default.MirrorStateInfo, call.Cancellation,
            callTimeout: TimeSpan.FromSeconds(90));
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var s = reply.Value;
        await call.Out.WriteLineAsync($"mirror {s.Name}: {s.State}{(s.Node is null ? "" : " on " + s.Node)}");
        return 0;
    }

    private static async Task<int> StatusAsync(AdminCall call)
    {
        var query = "/v1/mirrors";
        if (call.Positional is { } name) query += "?mirror=" + Uri.EscapeDataString(name);
        var reply = await call.Client.GetAsync(query, AdminJson.Default.MirrorsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var mirrors = reply.Value.Mirrors;
        if (mirrors.Count == 0)
        {
            await call.Out.WriteLineAsync("no mirrors configured (nwdp.mirrors)");
            return 0;
        }
        await AdminVerb.WriteTableAsync(call.Out, ["mirror", "state", "node", "copied", "skipped", "aborted", "lag", "lag_s"], mirrors.Select(m => new[]
        {
            m.Name, m.Status.State, m.Status.Node ?? "-", Count(m.Status.Copied), Count(m.Status.Skipped), Count(m.Status.Aborted), Count(m.LagRecords), Seconds(m.LagSeconds),
        }).ToList());
        await call.Out.WriteLineAsync();
        await AdminVerb.WriteTableAsync(call.Out, ["mirror", "topic", "partition", "target", "next", "end", "lag", "lag_s"], mirrors.SelectMany(m => m.Partitions.Select(p => new[]
        {
            m.Name, p.Topic, Count(p.Partition), p.TargetTopic, p.NextOffset < 0 ? "-" : Count(p.NextOffset), Count(p.EndOffset), Count(p.LagRecords), Seconds(p.LagSeconds),
        })).ToList());
        foreach (var m in mirrors.Where(m => m.Status.LastError is not null))
            await call.Error.WriteLineAsync($"nwdp mirror status: {m.Name}: last error: {m.Status.LastError}");
        if (reply.Value.Error is { } error) await call.Error.WriteLineAsync($"nwdp mirror status: {error}");
        return 0;
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(double s) => s.ToString("0.0", CultureInfo.InvariantCulture);
}
