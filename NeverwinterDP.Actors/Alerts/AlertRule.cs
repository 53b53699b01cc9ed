using System.Globalization;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>What a rule watches (HOCON <c>kind</c>).</summary>
public static class AlertKinds
{
    /// <summary>Events per second of one type (<c>type</c>), from the per-minute stats of the whole cluster.</summary>
    public const string EventsRate = "events-rate";

    /// <summary>error / (normal + error) lines of a type (or of all), from the per-minute stats.</summary>
    public const string ErrorRatio = "error-ratio";

    /// <summary>A host (the watchdog) or a source (the emitter registry) not heard from for <c>after</c>.</summary>
    public const string Silent = "silent";

    /// <summary>A sink's consumer lag in seconds (age of its oldest unprocessed record).</summary>
    public const string SinkLag = "sink-lag";

    /// <summary>Letters added to a sink's dead-letter topic within <c>window</c>.</summary>
    public const string DlqGrowth = "dlq-growth";

    /// <summary>Age of the oldest spilled batch of a topic not yet replayed to the bus.</summary>
    public const string SpillAge = "spill-age";

    /// <summary>A cluster member the others cannot reach.</summary>
    public const string NodeUnreachable = "node-unreachable";

    public static readonly string[] All = [EventsRate, ErrorRatio, Silent, SinkLag, DlqGrowth, SpillAge, NodeUnreachable];

    /// <summary>Kinds whose threshold is a duration (compared in seconds).</summary>
    public static bool ThresholdIsDuration(string kind) => kind is Silent or SinkLag or SpillAge;
}

/// <summary>Severities a rule may carry.</summary>
public static class AlertSeverities
{
    public static readonly string[] All = ["critical", "warning", "info"];
}

/// <summary>
/// One alert rule (HOCON <c>nwdp.alerts.rules.NAME</c>): a condition on a signal that must hold for
/// <see cref="For"/> before the alert fires. A rule can fire once per subject (a host, a sink, a topic, a node):
/// each subject's labels are added to the rule's own <see cref="Labels"/>.
/// </summary>
/// <param name="Above">Fires when the value is above this (seconds for durations); null with <see cref="Below"/>.</param>
/// <param name="Below">Fires when the value is below this (events-rate only).</param>
/// <param name="Type">The log type (events-rate: required; error-ratio: optional, all types when absent).</param>
/// <param name="Of">silent: <c>host</c> (the watchdog) or <c>source</c> (host/process, the emitter registry).</param>
/// <param name="Subject">An exact host, source, sink or topic to restrict the rule to; null for all.</param>
/// <param name="Window">events-rate, error-ratio: whole minutes of stats averaged; dlq-growth: the growth window.</param>
public sealed record AlertRule(
    string Name,
    string Kind,
    double? Above,
    double? Below,
    string? Type,
    string? Of,
    string? Subject,
    TimeSpan Window,
    TimeSpan For,
    string Severity,
    IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Whether <paramref name="value"/> meets the condition.</summary>
    public bool Holds(double value) => Above is { } a ? value > a : Below is { } b && value < b;

    /// <summary>The condition as people read it: <c>events/s of web &lt; 5</c>.</summary>
    public string Condition
    {
        get
        {
            var threshold = Above ?? Below ?? 0;
            var op = Above is not null ? ">" : "<";
            var t = AlertKinds.ThresholdIsDuration(Kind) ? FormatSeconds(threshold) : threshold.ToString("0.###", CultureInfo.InvariantCulture);
            var subject = Subject is null ? "" : $" {Subject}";
            return Kind switch
            {
                AlertKinds.EventsRate => $"events/s of {Type} over {Minutes(Window)} {op} {t}",
                AlertKinds.ErrorRatio => $"error ratio of {Type ?? "all types"} over {Minutes(Window)} {op} {t}",
                AlertKinds.Silent => $"{Of}{subject} silent for {op} {t}",
                AlertKinds.SinkLag => $"lag of sink{(Subject is null ? "s" : subject)} {op} {t}",
                AlertKinds.DlqGrowth => $"dead letters of sink{(Subject is null ? "s" : subject)} added in {Minutes(Window)} {op} {t}",
                AlertKinds.SpillAge => $"oldest spilled batch of {(Subject is null ? "any topic" : Subject)} {op} {t} old",
                _ => "a node is unreachable",
            };
        }
    }

    internal static string FormatSeconds(double s) =>
        s >= 60 && s % 60 == 0 ? $"{s / 60:0}m" : $"{s.ToString("0.###", CultureInfo.InvariantCulture)}s";

    private static string Minutes(TimeSpan t) => t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0}m" : $"{t.TotalSeconds:0}s";
}

/// <summary>A rule (or webhook) that cannot be used: the message names the rule and the field.</summary>
public sealed class AlertConfigException(string message) : ArgumentException(message);

/// <summary>Reads the rules of <c>nwdp.alerts.rules</c>; every mistake names <c>nwdp.alerts.rules.NAME.FIELD</c>.</summary>
public static class AlertRuleParser
{
    private static readonly string[] Fields = ["kind", "above", "below", "after", "type", "of", "host", "source", "sink", "topic", "window", "for", "severity", "labels"];

    public static IReadOnlyList<AlertRule> Parse(Config rules, string path = "nwdp.alerts.rules")
    {
        var list = new List<AlertRule>();
        if (rules.IsEmpty) return list;
        foreach (var (name, value) in rules.Root.GetObject().Items.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_-]+$"))
                throw new AlertConfigException($"{path}.{name}: a rule's name is letters, digits, - and _");
            if (!value.IsObject()) throw new AlertConfigException($"{path}.{name} must be an object {{ kind = ..., ... }}");
            list.Add(ParseOne(name, rules.GetConfig(name), $"{path}.{name}"));
        }
        return list;
    }

    private static AlertRule ParseOne(string name, Config c, string path)
    {
        string Field(string f) => $"{path}.{f}";
        foreach (var key in c.Root.GetObject().Items.Keys)
            if (!Fields.Contains(key))
                throw new AlertConfigException($"{Field(key)}: unknown field (known: {string.Join(", ", Fields)})");
        string? Str(string f) => c.HasPath(f) && c.GetString(f) is { } s && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;

        var kind = Str("kind") ?? throw new AlertConfigException($"{Field("kind")} is required: one of {string.Join(", ", AlertKinds.All)}");
        if (!AlertKinds.All.Contains(kind))
            throw new AlertConfigException($"{Field("kind")} must be one of {string.Join(", ", AlertKinds.All)}, got '{kind}'");

        double? Threshold(string f)
        {
            if (Str(f) is not { } s) return null;
            if (AlertKinds.ThresholdIsDuration(kind))
            {
                try { return c.GetTimeSpan(f, null, allowInfinite: false).TotalSeconds; }
                catch (Exception) { throw new AlertConfigException($"{Field(f)} must be a duration such as 30s or 5m, got '{s}'"); }
            }
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v
                : throw new AlertConfigException($"{Field(f)} must be a number, got '{s}'");
        }

        TimeSpan Duration(string f, TimeSpan fallback)
        {
            if (Str(f) is not { } s) return fallback;
            TimeSpan v;
            try { v = c.GetTimeSpan(f, null, allowInfinite: false); }
            catch (Exception) { throw new AlertConfigException($"{Field(f)} must be a duration such as 30s or 5m, got '{s}'"); }
            return v >= TimeSpan.Zero ? v : throw new AlertConfigException($"{Field(f)} must not be negative, got '{s}'");
        }

        var above = Threshold("above");
        var below = Threshold("below");
        if (kind == AlertKinds.Silent)
        {
            if (above is not null) throw new AlertConfigException($"{Field("above")}: a silent rule takes after = DURATION");
            above = Str("after") is null ? throw new AlertConfigException($"{Field("after")} is required for kind {kind}: how long silent, e.g. 10m")
                : Duration("after", TimeSpan.Zero).TotalSeconds;
        }
        else if (Str("after") is not null) throw new AlertConfigException($"{Field("after")}: only a silent rule takes after");
        if (kind == AlertKinds.NodeUnreachable)
        {
            if (above is not null || below is not null) throw new AlertConfigException($"{path}: a node-unreachable rule takes no threshold");
            above = 0;
        }
        if (above is not null && below is not null) throw new AlertConfigException($"{path}: give either above or below, not both");
        if (below is not null && kind != AlertKinds.EventsRate) throw new AlertConfigException($"{Field("below")}: only an events-rate rule takes below; use above");
        if (above is null && below is null)
            throw new AlertConfigException($"{Field("above")} is required for kind {kind}{(kind == AlertKinds.EventsRate ? " (or below)" : "")}");
        if (kind == AlertKinds.ErrorRatio && above is < 0 or >= 1) throw new AlertConfigException($"{Field("above")} must be a ratio from 0 to 1 (exclusive), got {above}");

        var type = Str("type");
        if (kind == AlertKinds.EventsRate && type is null) throw new AlertConfigException($"{Field("type")} is required for kind {kind}");
        if (type is not null && kind is not (AlertKinds.EventsRate or AlertKinds.ErrorRatio)) throw new AlertConfigException($"{Field("type")}: only events-rate and error-ratio rules take a type");

        var of = Str("of");
        if (kind == AlertKinds.Silent)
        {
            of ??= "host";
            if (of is not ("host" or "source")) throw new AlertConfigException($"{Field("of")} must be host or source, got '{of}'");
        }
        else if (of is not null) throw new AlertConfigException($"{Field("of")}: only a silent rule takes of");

        var subjectField = kind switch
        {
            AlertKinds.Silent => of,
            AlertKinds.SinkLag or AlertKinds.DlqGrowth => "sink",
            AlertKinds.SpillAge => "topic",
            _ => null,
        };
        foreach (var f in new[] { "host", "source", "sink", "topic" })
            if (f != subjectField && Str(f) is not null)
                throw new AlertConfigException($"{Field(f)}: a {kind} rule{(of is null ? "" : $" of {of}")} takes {(subjectField is null ? "no subject" : subjectField)}");
        var subject = subjectField is null ? null : Str(subjectField);

        var window = Duration("window", kind == AlertKinds.DlqGrowth ? TimeSpan.FromMinutes(10) : TimeSpan.FromMinutes(1));
        if (kind is AlertKinds.EventsRate or AlertKinds.ErrorRatio && (window < TimeSpan.FromMinutes(1) || window.Ticks % TimeSpan.TicksPerMinute != 0))
            throw new AlertConfigException($"{Field("window")} must be whole minutes (the stats are per minute), got {window}");
        if (window <= TimeSpan.Zero) throw new AlertConfigException($"{Field("window")} must be positive");

        var severity = (Str("severity") ?? "warning").ToLowerInvariant();
        if (!AlertSeverities.All.Contains(severity))
            throw new AlertConfigException($"{Field("severity")} must be one of {string.Join(", ", AlertSeverities.All)}, got '{severity}'");

        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (c.HasPath("labels"))
        {
            var l = c.GetValue("labels");
            if (!l.IsObject()) throw new AlertConfigException($"{Field("labels")} must be an object {{ team = web }}");
            foreach (var (k, v) in l.GetObject().Items)
            {
                if (!v.IsString()) throw new AlertConfigException($"{Field("labels")}.{k} must be a string");
                labels[k] = v.GetString();
            }
        }
        foreach (var reserved in new[] { "alertname", "severity" })
            if (labels.ContainsKey(reserved)) throw new AlertConfigException($"{Field("labels")}.{reserved} is set by the rule itself");

        return new AlertRule(name, kind, above, below, type, of, subject, window, Duration("for", TimeSpan.Zero), severity, labels);
    }
}
