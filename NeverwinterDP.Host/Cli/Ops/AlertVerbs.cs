using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp alerts</c>: the rules and what is pending or firing (<c>GET /v1/alerts</c>); <c>nwdp alerts reload</c>: the
/// evaluator re-reads nwdp.alerts (<c>POST /v1/alerts/reload</c>).
/// </summary>
public static class AlertVerbs
{
    public static readonly Command Alerts = AdminVerb.Create(
        "alerts",
        "The alert rules and the alerts pending (condition holds, 'for' not yet over) or firing, from the cluster's\n" +
        "one evaluator (a cluster singleton), with the webhooks and the notifications not yet delivered.\n" +
        "'nwdp alerts reload' makes the evaluator re-read nwdp.alerts (rules and webhooks) from its node's\n" +
        "configuration, as SIGHUP does; a bad rule is refused, naming the rule and the field, and the previous\n" +
        "rules stay. Exit 0, 1 when the node cannot be reached or refuses (or the reload is refused), 2 for usage errors.",
        RunAsync,
        positional: "[reload]");

    private static async Task<int> RunAsync(AdminCall call)
    {
        if (call.Positional is { } action)
        {
            if (action != "reload") throw new CliUsageException($"nwdp alerts: unknown action '{action}' (only 'reload')");
            var reloaded = await call.Client.PostAsync("/v1/alerts/reload", AdminJson.Default.AlertsReloaded, call.Cancellation);
            if (call.Json) return await AdminVerb.PrintJsonAsync(call, reloaded.Json);
            await call.Out.WriteLineAsync($"reloaded on {reloaded.Value.Evaluator}: {reloaded.Value.Rules} rules, {reloaded.Value.Webhooks} webhooks");
            return 0;
        }
        var reply = await call.Client.GetAsync("/v1/alerts", AdminJson.Default.AlertsView, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var v = reply.Value;
        await call.Out.WriteLineAsync($"Rules ({v.Rules.Count}):");
        await AdminVerb.WriteTableAsync(call.Out, ["rule", "kind", "condition", "for", "severity", "labels"], v.Rules.Select(r => new[]
        {
            r.Name, r.Kind, r.Condition, $"{r.ForSeconds.ToString("0", CultureInfo.InvariantCulture)}s", r.Severity, Labels(r.Labels),
        }).ToList());
        await call.Out.WriteLineAsync();
        await call.Out.WriteLineAsync($"Alerts ({v.Alerts.Count(a => a.State == "firing")} firing, {v.Alerts.Count(a => a.State == "pending")} pending):");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await AdminVerb.WriteTableAsync(call.Out, ["state", "alert", "severity", "value", "since"], v.Alerts.Select(a => new[]
        {
            a.State.ToUpperInvariant(), a.Key, a.Severity, a.Value.ToString("0.###", CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(a.SinceMs).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        }).ToList());
        await call.Out.WriteLineAsync();
        await call.Out.WriteLineAsync($"Evaluator: {v.Evaluator} ({v.Evaluations} evaluations); last evaluated {(v.EvaluatedAtMs == 0 ? "never" : $"{Math.Max(0, now - v.EvaluatedAtMs) / 1000.0:0.0}s ago")}; " +
                                      $"webhooks: {(v.Webhooks.Count == 0 ? "none (log only)" : string.Join(", ", v.Webhooks))}; undelivered: {v.Undelivered}");
        foreach (var (rule, error) in v.Errors) await call.Error.WriteLineAsync($"nwdp alerts: rule {rule}: cannot read its signal: {error}");
        return 0;
    }

    private static string Labels(IReadOnlyDictionary<string, string> labels) => string.Join(",", labels.Select(kv => $"{kv.Key}={kv.Value}"));
}
