using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>Notification states.</summary>
public static class AlertStatus
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";
    public const string Pending = "pending";
}

/// <summary>
/// A firing or resolved notification: what webhooks receive (see <c>WebhookPayloads</c>) and what the evaluator
/// journals. <see cref="Id"/> is the same for every delivery of one notification (a receiver may dedupe on it).
/// </summary>
/// <param name="Key">The alert: its rule and its subject's labels, e.g. <c>sink-lag{sink=es}</c>.</param>
/// <param name="Labels">The rule's labels, the subject's, <c>alertname</c> and <c>severity</c>.</param>
/// <param name="StartsAtMs">When the condition started to hold (the alert fired <c>for</c> later).</param>
/// <param name="EndsAtMs">When it was seen resolved; null while firing.</param>
/// <param name="Evaluator">The cluster address of the node that evaluated it.</param>
public sealed record AlertNotification(string Id, string Status, string Key, string Rule, string Severity, IReadOnlyDictionary<string, string> Labels,
    double Value, string Condition, long StartsAtMs, long FiredAtMs, long? EndsAtMs, string Evaluator) : INodeMessage
{
    public static string Manifest => "A5";
}

/// <summary>Journal: an alert fired (its firing notification is to be delivered).</summary>
public sealed record AlertFired(AlertNotification Notification) : INodeMessage
{
    public static string Manifest => "A1";
}

/// <summary>Journal: a firing alert resolved (its resolved notification is to be delivered).</summary>
public sealed record AlertResolved(AlertNotification Notification) : INodeMessage
{
    public static string Manifest => "A2";
}

/// <summary>Journal: a notification went to every webhook (delivered, or given up after the last attempt).</summary>
public sealed record AlertNotified(string Id) : INodeMessage
{
    public static string Manifest => "A3";
}

/// <summary>Snapshot of the evaluator: the firing alerts and the notifications not yet delivered.</summary>
public sealed record AlertsSnapshot(IReadOnlyList<AlertNotification> Firing, IReadOnlyList<AlertNotification> Outbox) : INodeMessage
{
    public static string Manifest => "A4";
}

/// <summary>Query to the evaluator: the rules and the alerts (answer <see cref="AlertsView"/>).</summary>
public sealed record GetAlerts : INodeMessage
{
    public static readonly GetAlerts Instance = new();

    public static string Manifest => "A6";
}

/// <summary>A rule as <c>nwdp alerts</c> lists it.</summary>
public sealed record AlertRuleView(string Name, string Kind, string Condition, double ForSeconds, string Severity, IReadOnlyDictionary<string, string> Labels);

/// <summary>A pending or firing alert.</summary>
public sealed record AlertView(string Key, string Rule, string State, string Severity, IReadOnlyDictionary<string, string> Labels, double Value,
    long SinceMs, long? FiredAtMs);

/// <summary>The evaluator's answer to <see cref="GetAlerts"/>.</summary>
/// <param name="Evaluations">Evaluations this evaluator made since it started.</param>
/// <param name="Errors">Rules whose signal could not be read at the last evaluation (their alerts are left as they were).</param>
public sealed record AlertsView(string Evaluator, long EvaluatedAtMs, long Evaluations, IReadOnlyList<AlertRuleView> Rules, IReadOnlyList<AlertView> Alerts,
    IReadOnlyList<string> Webhooks, int Undelivered, IReadOnlyDictionary<string, string> Errors) : INodeMessage
{
    public static string Manifest => "A7";
}

/// <summary>Command to the evaluator: re-read nwdp.alerts from its node's configuration (answer <see cref="AlertsReloaded"/>).</summary>
public sealed record ReloadAlerts : INodeMessage
{
    public static readonly ReloadAlerts Instance = new();

    public static string Manifest => "A8";
}

/// <summary>The result of a reload: on error the previous rules stay and <see cref="Error"/> names the rule and field.</summary>
public sealed record AlertsReloaded(bool Ok, string? Error, int Rules, int Webhooks, string Evaluator) : INodeMessage
{
    public static string Manifest => "A9";
}
