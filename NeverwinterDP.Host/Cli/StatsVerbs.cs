using System.Globalization;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Stats;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp stats</c> (per-minute counts per type, process and host in the six categories) and <c>nwdp audit</c>
/// (per type and minute: accepted, on the bus, delivered per sink; exit 3 when a minute is lost or duplicated).
/// Both ask one node, which answers for the whole cluster from <c>nwdp.stats</c>.
/// </summary>
public static class StatsVerbs
{
    /// <summary>Exit code of <c>nwdp audit</c> when a settled minute is lost or duplicated in some sink.</summary>
    public const int ExitLossOrDuplicates = 3;

    private static readonly OptionSpec Node = new("--node", $"the node to ask (default {StatsClient.DefaultNode})", "HOST:PORT");
    private static readonly OptionSpec Json = new("--json", "print the node's JSON answer as it is", IsSwitch: true);

    public static readonly VerbSpec Stats = new(
        "stats",
        "Per-minute counts of the whole cluster: per minute and (type, process, host), lines and bytes (UTF-8 bytes of the\n" +
        "messages) in the categories normal, error, watchdog and their _spill twins (what went to the spillover store).\n" +
        "Exit 0, 1 when the node cannot be reached, 2 for usage errors.",
        [
            new OptionSpec("--type", "only this log type", "T"),
            new OptionSpec("--host", "only this host", "H"),
            new OptionSpec("--since", "minutes that ended within this long (default 10m)", "DURATION"),
            Node,
            Json,
        ],
        (args, ct) => RunStatsAsync(args, Console.Out, Console.Error, ct));

    public static readonly VerbSpec Audit = new(
        "audit",
        "Loss audit of the whole cluster: per log type and minute, the events accepted by ingress, written to the bus and\n" +
        "delivered by each sink, and a verdict per sink: ok, LOST (fewer delivered than accepted), DUPLICATED (more), or\n" +
        "pending (the minute has not settled: it ended, and its counts last changed, less than nwdp.stats.settle-time ago).\n" +
        "Exit 0 when nothing is lost or duplicated, 3 when something is, 1 when the node cannot be reached, 2 for usage errors.",
        [
            new OptionSpec("--since", "minutes that ended within this long (default 1h)", "DURATION"),
            Node,
            Json,
        ],
        (args, ct) => RunAuditAsync(args, Console.Out, Console.Error, ct));

    public static async Task<int> RunStatsAsync(CliArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var node = StatsClient.NodeUri(args.Get("--node"));
        var since = args.GetDuration("--since") ?? TimeSpan.FromMinutes(10);
        var query = $"/admin/stats?since={Seconds(since)}s";
        if (args.Get("--type") is { } type) query += "&type=" + Uri.EscapeDataString(type);
        if (args.Get("--host") is { } host) query += "&host=" + Uri.EscapeDataString(host);
        JsonDocument doc;
        string raw;
        try
        {
            (doc, raw) = await StatsClient.GetAsync(node, query, cancellation);
        }
        catch (NodeUnreachableException e)
        {
            await stderr.WriteLineAsync("nwdp stats: " + e.Message);
            return 1;
        }
        using (doc)
        {
            if (args.Switch("--json"))
            {
                await stdout.WriteLineAsync(raw);
                return 0;
            }
            var header = new List<string> { "MINUTE", "TYPE", "PROCESS", "HOST" };
            header.AddRange(StatsCategories.Names.Select(n => n.ToUpperInvariant() + " lines/bytes"));
            var table = new List<string[]> { header.ToArray() };
            foreach (var row in doc.RootElement.GetProperty("rows").EnumerateArray())
            {
                var cells = new List<string> { Minute(row), row.GetProperty("type").GetString()!, row.GetProperty("process").GetString()!, row.GetProperty("host").GetString()! };
                var lines = row.GetProperty("lines");
                var bytes = row.GetProperty("bytes");
                cells.AddRange(StatsCategories.Names.Select(n => $"{lines.GetProperty(n).GetInt64()}/{bytes.GetProperty(n).GetInt64()}"));
                table.Add(cells.ToArray());
            }
            if (table.Count == 1) await stdout.WriteLineAsync($"no counts in the last {Seconds(since)} s");
            else await stdout.WriteAsync(Format(table));
            return 0;
        }
    }

    public static async Task<int> RunAuditAsync(CliArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var node = StatsClient.NodeUri(args.Get("--node"));
        var since = args.GetDuration("--since") ?? TimeSpan.FromHours(1);
        JsonDocument doc;
        string raw;
        try
        {
            (doc, raw) = await StatsClient.GetAsync(node, $"/admin/audit?since={Seconds(since)}s", cancellation);
        }
        catch (NodeUnreachableException e)
        {
            await stderr.WriteLineAsync("nwdp audit: " + e.Message);
            return 1;
        }
        using (doc)
        {
            var root = doc.RootElement;
            var flagged = root.GetProperty("lost").GetInt64() + root.GetProperty("duplicated").GetInt64();
            if (args.Switch("--json"))
            {
                await stdout.WriteLineAsync(raw);
                return flagged > 0 ? ExitLossOrDuplicates : 0;
            }
            var rows = root.GetProperty("rows").EnumerateArray().ToList();
            var sinks = rows.SelectMany(r => r.GetProperty("sinks").EnumerateArray().Select(s => s.GetProperty("sink").GetString()!)).Distinct().Order(StringComparer.Ordinal).ToList();
            var header = new List<string> { "MINUTE", "TYPE", "ACCEPTED", "ON BUS" };
            header.AddRange(sinks.Select(s => "DELIVERED " + s));
            header.Add("");
            var table = new List<string[]> { header.ToArray() };
            foreach (var row in rows)
            {
                var accepted = row.GetProperty("accepted").GetInt64();
                var cells = new List<string> { Minute(row), row.GetProperty("type").GetString()!, accepted.ToString(CultureInfo.InvariantCulture), row.GetProperty("on_bus").GetInt64().ToString(CultureInfo.InvariantCulture) };
                var marks = new List<string>();
                var bySink = row.GetProperty("sinks").EnumerateArray().ToDictionary(s => s.GetProperty("sink").GetString()!, s => s);
                foreach (var sink in sinks)
                {
                    if (!bySink.TryGetValue(sink, out var s))
                    {
                        cells.Add("-");
                        continue;
                    }
                    var delivered = s.GetProperty("delivered").GetInt64();
                    var verdict = s.GetProperty("verdict").GetString();
                    cells.Add(verdict switch
                    {
                        AuditVerdicts.Lost => $"{delivered} LOST {accepted - delivered}",
                        AuditVerdicts.Duplicated => $"{delivered} DUPLICATED {delivered - accepted}",
                        AuditVerdicts.Pending => $"{delivered} pending",
                        _ => $"{delivered} ok",
                    });
                    if (verdict is AuditVerdicts.Lost or AuditVerdicts.Duplicated) marks.Add($"{verdict!.ToUpperInvariant()} in {sink}");
                }
                cells.Add(marks.Count > 0 ? "<-- " + string.Join(", ", marks) : "");
                table.Add(cells.ToArray());
            }
            if (table.Count == 1) await stdout.WriteLineAsync($"no counts in the last {Seconds(since)} s");
            else await stdout.WriteAsync(Format(table));
            await stdout.WriteLineAsync(flagged > 0
                ? $"{root.GetProperty("lost").GetInt64()} lost and {root.GetProperty("duplicated").GetInt64()} duplicated (minute, type, sink) in the last {Seconds(since)} s"
                : $"no loss or duplicates in the last {Seconds(since)} s (minutes settle after {root.GetProperty("settle_time_s").GetDouble().ToString(CultureInfo.InvariantCulture)} s)");
            return flagged > 0 ? ExitLossOrDuplicates : 0;
        }
    }

    private static string Minute(JsonElement row) =>
        DateTimeOffset.FromUnixTimeMilliseconds(row.GetProperty("minute_ms").GetInt64()).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

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
