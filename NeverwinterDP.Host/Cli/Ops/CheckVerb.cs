using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp check ingress|bus|sinks|lag|watchdog|spill [--warn RANGE --crit RANGE] [--cacti]</c>: a Nagios / Icinga
/// plugin (Monitoring Plugins development guidelines). Prints one line <c>SERVICE STATUS - text | perfdata</c> and exits
/// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the node cannot be reached or refuses, or a flag is bad: the line names it).
/// <c>--cacti</c> prints the perfdata as Cacti's data input scripts expect (<c>name:value</c> pairs) instead.
/// </summary>
public static class CheckVerb
{
    /// <summary>Each check: what it measures (the value --warn and --crit apply to), its unit, and its default thresholds.</summary>
    public sealed record Definition(string Name, string Measures, string Uom, string Warn, string Crit);

    public static readonly IReadOnlyList<Definition> Checks =
    [
        new("ingress", "percent of nwdp.ingress.max-bytes-in-flight in use (CRITICAL when ingress is not running)", "%", "80", "95"),
        new("bus", "seconds the bus (Kafka) has been down as this node sees it", "s", "0", "60"),
        new("sinks", "sink instances failing their health check", "", "0", "0"),
        new("lag", "the largest lag in seconds of any sink instance or mirror (age of its oldest record not delivered or copied)", "s", "60", "300"),
        new("watchdog", "hosts the watchdog holds offline", "", "0", "3"),
        new("spill", "age in seconds of the oldest batch in the spillover store", "s", "60", "900"),
    ];

    private static readonly Argument<string?> Service = new("service") { HelpName = "ingress|bus|sinks|lag|watchdog|spill", Arity = ArgumentArity.ExactlyOne };
    private static readonly Option<string?> Warn = Flags.Text("--warn", "WARNING threshold range (Nagios syntax: 10, 10:, ~:10, 10:20, @10:20); default per check, see docs/monitoring.md", "RANGE");
    private static readonly Option<string?> Crit = Flags.Text("--crit", "CRITICAL threshold range (same syntax); default per check", "RANGE");
    private static readonly Option<bool> Cacti = Flags.Switch("--cacti", "print name:value pairs for a Cacti data input method instead of the plugin line");

    public static readonly PluginCommand Command = Build();

    private static PluginCommand Build()
    {
        var command = new PluginCommand("check",
            "A Nagios / Icinga plugin: checks one part of the node and prints one line 'SERVICE STATUS - text | perfdata'.\n" +
            string.Join("\n", Checks.Select(c => $"  {c.Name,-9} {c.Measures} (default --warn {c.Warn} --crit {c.Crit})")) + "\n" +
            "Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (node unreachable or refusing, bad flag).");
        command.Arguments.Add(Service);
        foreach (var option in new Option[] { Warn, Crit, Cacti }.Concat(AdminVerb.CommonOptions)) command.Options.Add(option);
        command.SetAction((parsed, cancellation) => RunAsync(parsed, cancellation));
        return command;
    }

    /// <summary>A usage problem found before the verb ran (unknown flag, missing value): UNKNOWN, naming it.</summary>
    internal static async Task<int> UsageErrorAsync(string problem, TextWriter stdout)
    {
        await stdout.WriteLineAsync(new CheckResult("NWDP_CHECK", CheckResult.Unknown, problem, []).PluginLine());
        return CheckResult.Unknown;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancellation)
    {
        var stdout = args.InvocationConfiguration.Output;
        var stderr = args.InvocationConfiguration.Error;
        var name = args.GetValue(Service) ?? "";
        var definition = Checks.FirstOrDefault(c => c.Name == name);
        var service = "NWDP_" + (definition?.Name ?? "CHECK").ToUpperInvariant();
        CheckResult result;
        try
        {
            if (definition is null)
                throw new CliUsageException($"unknown check '{name}': one of {string.Join(", ", Checks.Select(c => c.Name))}");
            var warn = NagiosRange.Parse(args.GetValue(Warn) ?? definition.Warn, "--warn");
            var crit = NagiosRange.Parse(args.GetValue(Crit) ?? definition.Crit, "--crit");
            using (var client = AdminVerb.ClientFor(args)) result = await CheckAsync(definition, service, client, warn, crit, cancellation);
        }
        catch (CliUsageException e)
        {
            result = new CheckResult(service, CheckResult.Unknown, e.Message, []);
        }
        catch (AdminCallException e)
        {
            result = new CheckResult(service, CheckResult.Unknown, e.Message, []);
        }

        if (args.GetValue(AdminVerb.Json)) await stdout.WriteLineAsync(Json(result));
        else if (args.GetValue(Cacti))
        {
            // Cacti reads the values, not the verdict: a check that read its figures exits 0; nothing printed when there are none.
            if (result.Code == CheckResult.Unknown)
            {
                await stderr.WriteLineAsync($"nwdp check: {result.Text}");
                return CheckResult.Unknown;
            }
            await stdout.WriteLineAsync(result.CactiLine());
            return CheckResult.Ok;
        }
        else await stdout.WriteLineAsync(result.PluginLine());
        return result.Code;
    }

    private static Task<CheckResult> CheckAsync(Definition check, string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation) =>
        check.Name switch
        {
            "ingress" => IngressAsync(service, client, warn, crit, cancellation),
            "bus" => BusAsync(service, client, warn, crit, cancellation),
            "sinks" => SinksAsync(service, client, warn, crit, cancellation),
            "lag" => LagAsync(service, client, warn, crit, cancellation),
            "watchdog" => WatchdogAsync(service, client, warn, crit, cancellation),
            _ => SpillAsync(service, client, warn, crit, cancellation),
        };

    private static async Task<CheckResult> IngressAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/ingress", AdminJson.Default.IngressStatusResponse, cancellation)).Value;
        var used = v.MaxBytesInFlight > 0 ? Math.Round(100.0 * v.BytesInFlight / v.MaxBytesInFlight, 1) : 0;
        var perf = new List<PerfDatum>
        {
            new("budget_used", used, "%", warn, crit, 0, 100),
            new("bytes_in_flight", v.BytesInFlight, "B", Min: 0, Max: v.MaxBytesInFlight),
            new("queued", v.Queued, Min: 0),
            new("accepted_events", v.AcceptedEvents, "c"),
            new("spilled_events", v.SpilledEvents, "c"),
            new("refused_requests", v.RefusedRequests, "c"),
        };
        if (!v.Running) return new CheckResult(service, CheckResult.Critical, "ingress is not running (the node is stopping or its bus writer failed)", perf);
        return new CheckResult(service, CheckResult.Grade(used, warn, crit),
            $"{Num(used)}% of the bytes-in-flight budget in use ({v.BytesInFlight} of {v.MaxBytesInFlight} bytes); {v.AcceptedEvents} events accepted, {v.RefusedRequests} requests refused since start", perf);
    }

    private static async Task<CheckResult> BusAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/spill/status", AdminJson.Default.SpillStatusResponse, cancellation)).Value;
        var down = v.BusUp || v.BusDownSinceMs is null ? 0 : Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - v.BusDownSinceMs.Value) / 1000.0);
        var perf = new List<PerfDatum> { new("bus_down", Math.Round(down, 1), "s", warn, crit, 0) };
        var text = v.BusUp ? "the bus is up" : $"the bus is DOWN for {Num(down)} s (ingress spills: {v.QuotaUsedBytes} of {v.QuotaLimitBytes} bytes of spill quota used)";
        return new CheckResult(service, CheckResult.Grade(down, warn, crit), text, perf);
    }

    private static async Task<CheckResult> SpillAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/spill/status", AdminJson.Default.SpillStatusResponse, cancellation)).Value;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var held = v.Topics.Where(t => t.Batches > 0 && t.OldestSpilledAtMs > 0).ToList();
        var oldest = held.Count == 0 ? 0 : held.Max(t => Math.Max(0, now - t.OldestSpilledAtMs) / 1000.0);
        var events = v.Topics.Sum(t => t.Events);
        var batches = v.Topics.Sum(t => (long)t.Batches);
        var quota = v.QuotaLimitBytes > 0 ? Math.Round(100.0 * v.QuotaUsedBytes / v.QuotaLimitBytes, 1) : 0;
        var perf = new List<PerfDatum>
        {
            new("oldest_spill", Math.Round(oldest, 1), "s", warn, crit, 0),
            new("spilled_events", events, Min: 0),
            new("spilled_batches", batches, Min: 0),
            new("quota_used", quota, "%", Min: 0, Max: 100),
        };
        var text = batches == 0
            ? "nothing spilled"
            : $"{events} events in {batches} batches spilled on {held.Count} topics, the oldest {Num(oldest)} s ago; {Num(quota)}% of the spill quota used";
        return new CheckResult(service, CheckResult.Grade(oldest, warn, crit), text, perf);
    }

    private static async Task<CheckResult> SinksAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/sinks", AdminJson.Default.SinksStatusResponse, cancellation)).Value;
        var unhealthy = v.Sinks.Where(s => !s.Healthy).ToList();
        var perf = new List<PerfDatum> { new("unhealthy_sinks", unhealthy.Count, "", warn, crit, 0, v.Sinks.Count) };
        perf.AddRange(v.Sinks.Select(s => new PerfDatum(s.Sink + "_delivered", s.Delivered, "c")));
        var text = v.Sinks.Count == 0 ? "no sink instances configured"
            : unhealthy.Count == 0 ? $"{v.Sinks.Count} sink instances healthy ({string.Join(", ", v.Sinks.Select(s => s.Sink))})"
            : $"{unhealthy.Count} of {v.Sinks.Count} sink instances unhealthy: " + string.Join("; ", unhealthy.Select(s => $"{s.Sink} ({s.Kind}): {s.Detail}"));
        return new CheckResult(service, CheckResult.Grade(unhealthy.Count, warn, crit), text, perf);
    }

    private static async Task<CheckResult> LagAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/lag", AdminJson.Default.LagResponse, cancellation)).Value;
        // The mirrors of nwdp.mirrors count too: the age of the oldest record each has not copied yet.
        var mirrors = (await client.GetAsync("/v1/mirrors", AdminJson.Default.MirrorsResponse, cancellation)).Value;
        if (v.Error is { } error && v.Sinks.All(s => s.Partitions.Count == 0) && mirrors.Mirrors.Count == 0) return new CheckResult(service, CheckResult.Unknown, error, []);
        if (mirrors.Error is { } mirrorError && mirrors.Mirrors.All(m => m.Partitions.Count == 0) && v.Sinks.Count == 0)
            return new CheckResult(service, CheckResult.Unknown, mirrorError, []);
        var worst = v.Sinks.Select(s => s.LagSeconds).Concat(mirrors.Mirrors.Select(m => m.LagSeconds)).DefaultIfEmpty(0).Max();
        var perf = new List<PerfDatum>();
        foreach (var s in v.Sinks)
        {
            perf.Add(new PerfDatum(s.Sink + "_lag_seconds", s.LagSeconds, "s", warn, crit, 0));
            perf.Add(new PerfDatum(s.Sink + "_lag_records", s.LagRecords, "", Min: 0));
        }
        foreach (var m in mirrors.Mirrors)
        {
            perf.Add(new PerfDatum("mirror_" + m.Name + "_lag_seconds", m.LagSeconds, "s", warn, crit, 0));
            perf.Add(new PerfDatum("mirror_" + m.Name + "_lag_records", m.LagRecords, "", Min: 0));
        }
        var parts = v.Sinks.Select(s => $"{s.Sink} {s.LagRecords} records, {Num(s.LagSeconds)} s")
            .Concat(mirrors.Mirrors.Select(m => $"mirror {m.Name}{(m.Status.Paused ? " (paused)" : "")} {m.LagRecords} records, {Num(m.LagSeconds)} s"))
            .ToList();
        var text = parts.Count == 0 ? "no sink instances configured" : $"largest lag {Num(worst)} s: " + string.Join("; ", parts);
        if (v.Error is not null) text += $" (partial: {v.Error})";
        if (mirrors.Error is not null) text += $" (mirrors partial: {mirrors.Error})";
        return new CheckResult(service, CheckResult.Grade(worst, warn, crit), text, perf);
    }

    private static async Task<CheckResult> WatchdogAsync(string service, AdminClient client, NagiosRange warn, NagiosRange crit, CancellationToken cancellation)
    {
        var v = (await client.GetAsync("/v1/watchdog", AdminJson.Default.WatchdogResponse, cancellation)).Value;
        var offline = v.Hosts.Where(h => !h.Online).Select(h => h.Host).Order(StringComparer.Ordinal).ToList();
        var perf = new List<PerfDatum>
        {
            new("hosts_offline", offline.Count, "", warn, crit, 0, v.Hosts.Count),
            new("hosts_online", v.Hosts.Count - offline.Count, "", Min: 0, Max: v.Hosts.Count),
        };
        var text = offline.Count == 0 ? $"{v.Hosts.Count} hosts online"
            : $"{offline.Count} of {v.Hosts.Count} hosts offline: {string.Join(", ", offline.Take(10))}{(offline.Count > 10 ? ", ..." : "")}";
        return new CheckResult(service, CheckResult.Grade(offline.Count, warn, crit), text, perf);
    }

    private static string Num(double v) => PerfDatum.Number(v);

    private static string Json(CheckResult r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("service", r.Service);
            w.WriteString("status", r.Status);
            w.WriteNumber("exit_code", r.Code);
            w.WriteString("text", r.Text);
            w.WriteStartArray("perfdata");
            foreach (var p in r.Perf)
            {
                w.WriteStartObject();
                w.WriteString("label", p.Label);
                w.WriteNumber("value", p.Value);
                w.WriteString("uom", p.Uom);
                w.WriteString("warn", p.Warn?.Text);
                w.WriteString("crit", p.Crit?.Text);
                if (p.Min is { } min) w.WriteNumber("min", min);
                if (p.Max is { } max) w.WriteNumber("max", max);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>A verb whose usage errors are answered its own way (a monitoring plugin: UNKNOWN, exit 3), not with exit 2.</summary>
public sealed class PluginCommand(string name, string description) : Command(name, description);
