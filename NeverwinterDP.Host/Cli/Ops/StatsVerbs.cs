using System.CommandLine;
using System.Globalization;
using System.Text;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp stats</c> (per-minute counts per type, process and host in the six categories) and <c>nwdp audit</c>
/// (per type and minute: accepted, on the bus, delivered per sink; exit 3 when a minute is lost or duplicated).
/// Both ask one node's admin API (<c>GET /v1/stats</c>, <c>GET /v1/audit</c>), which answers for the whole
/// cluster from <c>nwdp.stats</c>.
/// </summary>
public static class StatsVerbs
{
    /// <summary>Exit code of <c>nwdp audit</c> when a settled minute is lost or duplicated in some sink.</summary>
    public const int ExitLossOrDuplicates = 3;

    private static readonly Option<string?> TypeFilter = Flags.Text("--type", "only this log type", "T");
    private static readonly Option<string?> HostFilter = Flags.Text("--host", "only this host", "H");
    private static readonly Option<TimeSpan?> StatsSince = Flags.Duration("--since", "minutes that ended within this long (default 10m)");
    private static readonly Option<TimeSpan?> AuditSince = Flags.Duration("--since", "minutes that ended within this long (default 1h)");

    public static readonly Command Stats = AdminVerb.Create(
        "stats",
        "Per-minute counts of the whole cluster: per minute and (type, process, host), lines and bytes (UTF-8 bytes of the\n" +
        "messages) in the categories normal, error, watchdog and their _spill twins (what went to the spillover store).\n" +
        "Exit 0, 1 when the node cannot be reached or refuses, 2 for usage errors.",
        StatsAsync,
        [TypeFilter, HostFilter, StatsSince]);

    public static readonly Command Audit = AdminVerb.Create(
        "audit",
        "Loss audit of the whole cluster: per log type and minute, the events accepted by ingress, written to the bus and\n" +
        "delivered by each sink, and a verdict per sink: ok, LOST (fewer delivered than accepted), DUPLICATED (more), or\n" +
        "pending (the minute has not settled: it ended, and its counts last changed, less than nwdp.stats.settle-time ago).\n" +
        "Exit 0 when nothing is lost or duplicated, 3 when something is, 1 when the node cannot be reached or refuses, 2 for usage errors.",
        AuditAsync,
        [AuditSince]);

    private static async Task<int> StatsAsync(AdminCall call)
    {
        var since = call.Args.GetValue(StatsSince) ?? TimeSpan.FromMinutes(10);
        var query = $"/v1/stats?since={Seconds(since)}s";
        if (call.Args.GetValue(TypeFilter) is { } type) query += "&type=" + Uri.EscapeDataString(type);
        if (call.Args.GetValue(HostFilter) is { } host) query += "&host=" + Uri.EscapeDataString(host);
        var reply = await call.Client.GetAsync(query, AdminJson.Default.StatsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var header = new List<string> { "MINUTE", "TYPE", "PROCESS", "HOST" };
        header.AddRange(StatsCategories.Names.Select(n => n.ToUpperInvariant() + " lines/bytes"));
        var table = new List<string[]> { header.ToArray() };
        foreach (var row in reply.Value.Rows)
        {
            var cells = new List<string> { Minute(row.MinuteMs), row.Type, row.Process, row.Host };
            cells.AddRange(StatsCategories.Names.Select(n => $"{row.Lines.GetValueOrDefault(n)}/{row.Bytes.GetValueOrDefault(n)}"));
            table.Add(cells.ToArray());
        }
        if (table.Count == 1) await call.Out.WriteLineAsync($"no counts in the last {Seconds(since)} s");
        else await call.Out.WriteAsync(Format(table));
        return 0;
    }

    private static async Task<int> AuditAsync(AdminCall call)
    {
        var since = call.Args.GetValue(AuditSince) ?? TimeSpan.FromHours(1);
        var reply = await call.Client.GetAsync($"/v1/audit?since={Seconds(since)}s", AdminJson.Default.AuditResponse, call.Cancellation);
        var audit = reply.Value;
        var exit = audit.Lost + audit.Duplicated > 0 ? ExitLossOrDuplicates : 0;
        if (call.Json)
        {
            await AdminVerb.PrintJsonAsync(call, reply.Json);
            return exit;
        }
        var sinks = audit.Rows.SelectMany(r => r.Sinks.Select(s => s.Sink)).Distinct().Order(StringComparer.Ordinal).ToList();
        var header = new List<string> { "MINUTE", "TYPE", "ACCEPTED", "ON BUS" };
        header.AddRange(sinks.Select(s => "DELIVERED " + s));
        header.Add("");
        var table = new List<string[]> { header.ToArray() };
        foreach (var row in audit.Rows)
        {
            var cells = new List<string> { Minute(row.MinuteMs), row.Type, Count(row.Accepted), Count(row.OnBus) };
            var marks = new List<string>();
            var bySink = row.Sinks.ToDictionary(s => s.Sink);
            foreach (var sink in sinks)
            {
                if (!bySink.TryGetValue(sink, out var s))
                {
                    cells.Add("-");
                    continue;
                }
                cells.Add(s.Verdict switch
                {
                    AuditVerdicts.Lost => $"{s.Delivered} LOST {row.Accepted - s.Delivered}",
                    AuditVerdicts.Duplicated => $"{s.Delivered} DUPLICATED {s.Delivered - row.Accepted}",
                    AuditVerdicts.Pending => $"{s.Delivered} pending",
                    _ => $"{s.Delivered} ok",
                });
                if (s.Verdict is AuditVerdicts.Lost or AuditVerdicts.Duplicated) marks.Add($"{s.Verdict.ToUpperInvariant()} in {sink}");
            }
            cells.Add(marks.Count > 0 ? "<-- " + string.Join(", ", marks) : "");
            table.Add(cells.ToArray());
        }
        if (table.Count == 1) await call.Out.WriteLineAsync($"no counts in the last {Seconds(since)} s");
        else await call.Out.WriteAsync(Format(table));
        await call.Out.WriteLineAsync(exit != 0
            ? $"{audit.Lost} lost and {audit.Duplicated} duplicated (minute, type, sink) in the last {Seconds(since)} s"
            : $"no loss or duplicates in the last {Seconds(since)} s (minutes settle after {audit.SettleTimeS.ToString(CultureInfo.InvariantCulture)} s)");
        return exit;
    }

    private static string Minute(long minuteMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(minuteMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) => ((long)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

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
