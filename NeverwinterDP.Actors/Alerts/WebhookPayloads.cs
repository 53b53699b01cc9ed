using System.Globalization;
using System.Text.Json.Nodes;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>The bodies webhooks receive: <c>json</c> (the notification) or <c>slack</c> (Slack's incoming-webhook shape).</summary>
public static class WebhookPayloads
{
    public static string Body(AlertNotification n, string format) => (format == "slack" ? Slack(n) : Json(n)).ToJsonString();

    /// <summary>One line: <c>[FIRING] sink-lag{sink=es} (critical): lag of sink es &gt; 30s, value 42.5</c>.</summary>
    public static string Summary(AlertNotification n) =>
        $"[{n.Status.ToUpperInvariant()}] {n.Key} ({n.Severity}): {n.Condition}, value {n.Value.ToString("0.###", CultureInfo.InvariantCulture)}";

    public static JsonObject Json(AlertNotification n)
    {
        var labels = new JsonObject();
        foreach (var (k, v) in n.Labels) labels[k] = v;
        return new JsonObject
        {
            ["id"] = n.Id,
            ["status"] = n.Status,
            ["alert"] = n.Rule,
            ["key"] = n.Key,
            ["severity"] = n.Severity,
            ["labels"] = labels,
            ["value"] = n.Value,
            ["condition"] = n.Condition,
            ["startsAt"] = Time(n.StartsAtMs),
            ["firedAt"] = Time(n.FiredAtMs),
            ["endsAt"] = n.EndsAtMs is { } e ? Time(e) : null,
            ["evaluator"] = n.Evaluator,
            ["summary"] = Summary(n),
        };
    }

    public static JsonObject Slack(AlertNotification n)
    {
        var fields = new JsonArray();
        foreach (var (k, v) in n.Labels) fields.Add(new JsonObject { ["title"] = k, ["value"] = v, ["short"] = true });
        fields.Add(new JsonObject { ["title"] = "since", ["value"] = Time(n.StartsAtMs), ["short"] = true });
        return new JsonObject
        {
            ["text"] = Summary(n),
            ["attachments"] = new JsonArray(new JsonObject
            {
                ["color"] = n.Status == AlertStatus.Resolved ? "good" : n.Severity == "critical" ? "danger" : "warning",
                ["title"] = n.Key,
                ["text"] = n.Condition,
                ["fields"] = fields,
                ["fallback"] = Summary(n),
            }),
        };
    }

    private static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
