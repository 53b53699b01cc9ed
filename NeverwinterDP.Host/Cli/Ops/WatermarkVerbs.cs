using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp watermarks [--sink S] [--topic T] [--all]</c>: which hours of which log topics are complete (<c>GET /v1/watermarks</c>).</summary>
public static class WatermarkVerbs
{
    private static readonly Option<string?> Sink = Flags.Text("--sink", "only this sink instance", "S");
    private static readonly Option<string?> Topic = Flags.Text("--topic", "only this log topic (nwdp.logs.TYPE)", "T");
    private static readonly Option<bool> All = Flags.Switch("--all", "every version of each hour, not only the last");

    public static readonly Command Watermarks = AdminVerb.Create(
        "watermarks",
        "Hour completions announced by the node's data pump: for each sink instance, log topic and hour (UTC), whether\n" +
        "it is complete (every partition holds the hour marker of every ingress node that wrote in it) or was closed\n" +
        "incomplete after nwdp.watermarks.grace (and why), the events the markers announce, those delivered, and late ones.\n" +
        "A later version of an hour follows late events. Also published on the nwdp.watermarks topic.\n" +
        "Exit 0, 1 when the node cannot be reached or refuses, 2 for usage errors.",
        WatermarksAsync,
        [Sink, Topic, All]);

    private static async Task<int> WatermarksAsync(AdminCall call)
    {
        var query = new List<string>();
        if (call.Args.GetValue(Sink) is { } sink) query.Add("sink=" + Uri.EscapeDataString(sink));
        if (call.Args.GetValue(Topic) is { } topic) query.Add("topic=" + Uri.EscapeDataString(topic));
        if (call.Args.GetValue(All)) query.Add("all=true");
        var reply = await call.Client.GetAsync("/v1/watermarks" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), AdminJson.Default.WatermarksResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Watermarks.Select(w => new[]
        {
            w.Sink, w.Topic, w.Hour, Count(w.Version), w.State, Count(w.Events), Count(w.Delivered), Count(w.LateEvents), Count(w.Nodes.Count),
        }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["sink", "topic", "hour", "version", "state", "events", "delivered", "late", "nodes"], rows);
        foreach (var w in reply.Value.Watermarks.Where(w => w.Reason is not null))
            await call.Out.WriteLineAsync($"{w.Sink} {w.Topic} {w.Hour} v{w.Version}: {w.Reason}");
        if (!reply.Value.Enabled) await call.Error.WriteLineAsync("nwdp watermarks: nwdp.watermarks.enabled is off on this node");
        else if (!reply.Value.Pump) await call.Error.WriteLineAsync("nwdp watermarks: this node runs no pump; ask a node with the pump role");
        return 0;
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
