using Akka.Configuration;
using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>A webhook (HOCON <c>nwdp.alerts.webhooks.NAME</c>): where notifications are posted and in which shape.</summary>
/// <param name="Format"><c>json</c> (one notification object) or <c>slack</c> (Slack's incoming-webhook shape, <c>text</c> + attachments).</param>
public sealed record AlertWebhook(string Name, Uri Url, string Format);

/// <summary>How notifications are delivered (HOCON <c>nwdp.alerts.notify</c>).</summary>
public sealed record AlertNotifyOptions(int QueueSize, int MaxAttempts, TimeSpan MinBackoff, TimeSpan MaxBackoff, TimeSpan Timeout)
{
    /// <summary>The wait before attempt <paramref name="attempt"/> + 1 (attempt counts from 1): min-backoff doubling, at most max-backoff.</summary>
    public TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30))));
}

/// <summary>The alerts' configuration (HOCON <c>nwdp.alerts</c>; defaults in Alerts/reference.conf), re-read on reload.</summary>
public sealed record AlertSettings(bool Enabled, TimeSpan EvaluationInterval, IReadOnlyList<AlertRule> Rules, IReadOnlyList<AlertWebhook> Webhooks, AlertNotifyOptions Notify)
{
    public static readonly string[] Formats = ["json", "slack"];

    /// <summary>Reads <c>nwdp.alerts</c>; a bad rule or webhook throws <see cref="AlertConfigException"/> naming it and the field.</summary>
    public static AlertSettings FromConfig(ConfigReader alerts)
    {
        var notify = alerts.Section("notify");
        var options = new AlertNotifyOptions(notify.PositiveInt("queue-size"), notify.PositiveInt("max-attempts"), notify.PositiveDuration("min-backoff"),
            notify.PositiveDuration("max-backoff"), notify.PositiveDuration("timeout"));
        return new AlertSettings(alerts.Bool("enabled"), alerts.PositiveDuration("evaluation-interval"),
            AlertRuleParser.Parse(alerts.Raw("rules"), alerts.Key("rules")), ParseWebhooks(alerts.Raw("webhooks"), alerts.Key("webhooks")), options);
    }

    private static List<AlertWebhook> ParseWebhooks(Config webhooks, string path)
    {
        var list = new List<AlertWebhook>();
        if (webhooks.IsEmpty) return list;
        foreach (var (name, value) in webhooks.Root.GetObject().Items.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!value.IsObject()) throw new AlertConfigException($"{path}.{name} must be an object {{ url = \"http://...\" }}");
            var items = value.GetObject().Items;
            foreach (var key in items.Keys)
                if (key is not ("url" or "format")) throw new AlertConfigException($"{path}.{name}.{key}: unknown field (known: url, format)");
            var url = items.TryGetValue("url", out var u) ? u.GetString() : null;
            if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new AlertConfigException($"{path}.{name}.url must be an http(s) URL, got '{url}'");
            var format = items.TryGetValue("format", out var f) ? f.GetString().Trim().ToLowerInvariant() : "json";
            if (!Formats.Contains(format)) throw new AlertConfigException($"{path}.{name}.format must be json or slack, got '{format}'");
            list.Add(new AlertWebhook(name, uri, format));
        }
        return list;
    }
}
