using System.CommandLine;
using System.Globalization;
using System.Text;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp report summary|keys|values --type T [--since 24h] [--json]</c>: what a log type's events contain, for the
/// whole cluster, from one node's admin API (<c>GET /v1/report/...</c>), which merges every node's sketches.
/// </summary>
public static class ReportVerbs
{
    private static readonly Option<string?> Type = Flags.Text("--type", "the log type to report on (required)", "T");
    private static readonly Option<TimeSpan?> Since = Flags.Duration("--since", "hours that ended within this long (default 24h; whole UTC hours, keys per minute up to 1h)");
    private static readonly Option<string?> Key = Flags.Text("--key", "only this attribute key", "K");

    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("summary",
            "A log type's events, bytes, error-level ratio, distinct hosts and sources (HyperLogLog estimates), per minute for the\n" +
            "last hour, and what each sink delivered. Exit 0, 1 when the node cannot be reached or has no such type, 2 for usage errors.",
            SummaryAsync, [Type, Since]),
        AdminVerb.Create("keys",
            "Key coverage: per attribute key, the share of the type's events that carry it, first and last seen.",
            KeysAsync, [Type, Since]),
        AdminVerb.Create("values",
            "Value coverage: per attribute key, distinct values (exact when marked '=', else estimated), share of empty values,\n" +
            "numeric min/max, and the top values with their share ('+N' = the count may be over by at most N).",
            ValuesAsync, [Type, Since, Key]),
    ];

    private static string Query(AdminCall call, string report)
    {
        var type = call.Args.GetValue(Type) ?? throw new CliUsageException("flag '--type' is required (the log type to report on)");
        var since = call.Args.GetValue(Since) ?? TimeSpan.FromHours(24);
        var query = $"/v1/report/{report}?type={Uri.EscapeDataString(type)}&since={((long)Math.Ceiling(since.TotalSeconds)).ToString(CultureInfo.InvariantCulture)}s";
        if (report == "values" && call.Args.GetValue(Key) is { } key) query += "&key=" + Uri.EscapeDataString(key);
        return query;
    }

    private static async Task<int> SummaryAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync(Query(call, "summary"), AdminJson.Default.SummaryReport, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var r = reply.Value;
        var o = call.Out;
        await o.WriteLineAsync($"type {r.Type}, hours from {r.From} (since {r.Since}), nodes: {string.Join(", ", r.Nodes)}");
        await o.WriteLineAsync($"events           {N(r.Events)}");
        await o.WriteLineAsync($"bytes            {N(r.Bytes)}");
        await o.WriteLineAsync($"error-level      {N(r.Errors)} ({Pct(r.ErrorRatio)})");
        await o.WriteLineAsync($"distinct hosts   ~{N(r.DistinctHosts)} (±{F(r.DistinctErrorPct)}%)");
        await o.WriteLineAsync($"distinct sources ~{N(r.DistinctSources)} (host/process, ±{F(r.DistinctErrorPct)}%)");
        await o.WriteLineAsync($"attribute keys   {r.Keys}{(r.KeysDropped > 0 ? $" (+{N(r.KeysDropped)} occurrences of keys past the bound)" : "")}");
        await o.WriteLineAsync($"first / last     {r.FirstSeen ?? "-"} / {r.LastSeen ?? "-"}");
        if (r.Unsketched > 0) await o.WriteLineAsync($"not sketched     {N(r.Unsketched)} events (the sketcher was behind; counted above, not in keys/values)");
        foreach (var s in r.Sinks) await o.WriteLineAsync($"sink {s.Sink,-11} delivered {N(s.Delivered)}");
        if (r.Minutes.Count > 0)
        {
            var table = new List<string[]> { new[] { "MINUTE", "EVENTS", "BYTES", "ERRORS" } };
            table.AddRange(r.Minutes.Select(m => new[] { m.Minute, N(m.Events), N(m.Bytes), N(m.Errors) }));
            await o.WriteAsync(Format(table));
        }
        return 0;
    }

    private static async Task<int> KeysAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync(Query(call, "keys"), AdminJson.Default.KeysReport, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var r = reply.Value;
        await call.Out.WriteLineAsync($"type {r.Type}, {N(r.Events)} events from {r.From} (per {r.Resolution})");
        var table = new List<string[]> { new[] { "KEY", "EVENTS", "SHARE", "FIRST SEEN", "LAST SEEN" } };
        table.AddRange(r.Keys.Select(k => new[] { k.Key, N(k.Events), Pct(k.Share), k.FirstSeen ?? "-", k.LastSeen ?? "-" }));
        await call.Out.WriteAsync(Format(table));
        if (r.KeysDropped > 0) await call.Out.WriteLineAsync($"{N(r.KeysDropped)} occurrences of keys past nwdp.coverage.max-keys-per-type ({r.MaxKeysPerType}) not counted");
        return 0;
    }

    private static async Task<int> ValuesAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync(Query(call, "values"), AdminJson.Default.ValuesReport, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var r = reply.Value;
        await call.Out.WriteLineAsync($"type {r.Type}, {N(r.Events)} events from {r.From}; distinct estimates ±{F(r.DistinctErrorPct)}%");
        var table = new List<string[]> { new[] { "KEY", "EVENTS", "DISTINCT", "EMPTY", "MIN", "MAX", "TOP VALUES" } };
        foreach (var k in r.Keys)
        {
            var top = string.Join(", ", k.Top.Take(5).Select(t => $"{Cut(t.Value)} {Pct(t.Share)}{(t.MaxOver > 0 ? $" +{N(t.MaxOver)}" : "")}"));
            table.Add([k.Key, N(k.Events), (k.DistinctExact ? "=" : "~") + N(k.Distinct), Pct(k.EmptyShare),
                k.Min is { } min ? F(min) : "-", k.Max is { } max ? F(max) : "-", top]);
        }
        await call.Out.WriteAsync(Format(table));
        return 0;
    }

    private static string Cut(string v) => v.Length > 24 ? v[..23] + "…" : v.Length == 0 ? "\"\"" : v;

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string F(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Pct(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>Left-aligned columns, two spaces apart.</summary>
    private static string Format(List<string[]> table)
    {
        var widths = Enumerable.Range(0, table[0].Length).Select(c => table.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var row in table)
            sb.AppendLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString();
    }
}
