using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp dlq list|show|replay</c>: the dead-letter topics (<c>nwdp.dlq.SINK</c>) on the admin API
/// (<c>/v1/admin/dlq</c>): counts, the letters and why, and a replay into the sink once the cause is fixed.
/// </summary>
public static class DlqVerbs
{
    private static readonly Option<string?> SinkFilter = Flags.Text("--sink", "only this sink instance", "NAME");
    private static readonly Option<string?> SinkRequired = Flags.Text("--sink", "sink instance whose dead letters to read (required)", "NAME");
    private static readonly Option<string?> Reason = Flags.Text("--reason", "only letters whose reason contains this text (case-insensitive), e.g. 22001 or 'too long'", "TEXT");
    private static readonly Option<int> Limit = Flags.Int("--limit", "letters to show", "N", 20, min: 1, max: 10_000);

    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("list", "Dead letters counted by sink, reason and log type.", ListAsync, [SinkFilter]),
        AdminVerb.Create("show", "The dead letters of a sink: where each came from, why it was refused, the event.", ShowAsync, [SinkRequired, Reason, Limit]),
        AdminVerb.Create("replay", "Send a sink's dead letters back through it (after the cause was fixed); each letter once, those refused again return with one more attempt.",
            ReplayAsync, [SinkRequired, Reason]),
    ];

    private static string Query(params (string Key, string? Value)[] pairs)
    {
        var given = pairs.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }

    private static string RequiredSink(AdminCall call) =>
        call.Args.GetValue(SinkRequired) ?? throw new CliUsageException("flag '--sink' is required (the sink instance whose dead letters to read)");

    private static async Task<int> ListAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/admin/dlq" + Query(("sink", call.Args.GetValue(SinkFilter))), AdminJson.Default.DlqListResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Counts.Select(c => new[] { c.Sink, c.Type, c.Count.ToString(), c.MaxAttempts.ToString(), c.Reason }).ToList();
        if (rows.Count == 0)
        {
            await call.Out.WriteLineAsync($"no dead letters ({string.Join(", ", reply.Value.Sinks)})");
            return 0;
        }
        await AdminVerb.WriteTableAsync(call.Out, ["sink", "type", "count", "attempts", "reason"], rows);
        return 0;
    }

    private static async Task<int> ShowAsync(AdminCall call)
    {
        var sink = RequiredSink(call);
        var path = $"/v1/admin/dlq/{Uri.EscapeDataString(sink)}" + Query(("reason", call.Args.GetValue(Reason)),
            ("limit", call.Args.GetValue(Limit).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var reply = await call.Client.GetAsync(path, AdminJson.Default.DlqShowResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        foreach (var l in reply.Value.Letters)
        {
            await call.Out.WriteLineAsync($"{l.SourceTopic}-{l.SourcePartition}@{l.SourceOffset} (dlq {l.DlqPartition}@{l.DlqOffset}, attempts {l.Attempts}): {l.Reason}");
            var message = l.Message.Length > 200 ? l.Message[..200] + "..." : l.Message;
            await call.Out.WriteLineAsync($"    type={l.Type} host={l.Host} level={l.Level} ts={l.TimestampMs} msg={message}");
        }
        if (reply.Value.Letters.Count == 0) await call.Out.WriteLineAsync($"no dead letters of sink {sink}{(reply.Value.Reason is { } r ? $" with reason containing '{r}'" : "")}");
        return 0;
    }

    private static async Task<int> ReplayAsync(AdminCall call)
    {
        var sink = RequiredSink(call);
        var reason = call.Args.GetValue(Reason);
        var reply = await call.Client.PostAsync($"/v1/admin/dlq/{Uri.EscapeDataString(sink)}/replay" + Query(("reason", reason)),
            AdminJson.Default.DeadLetterReplayReport, call.Cancellation, TimeSpan.FromMinutes(30));
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var v = reply.Value;
        await call.Out.WriteLineAsync($"dlq replay of sink {v.Sink}{(v.Reason is { } r ? $" (reason containing '{r}')" : "")}: {v.Read} letters read, {v.Matched} matched, " +
            $"{v.Delivered} delivered, {v.Rejected} refused again (back in the DLQ with one more attempt), {v.Skipped} skipped (no event); position committed in group {v.Group}");
        return v.Rejected > 0 ? 3 : 0;
    }
}
