using System.Globalization;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>
/// The rules' state machine, with no actor and no I/O: per alert (a rule and a subject) inactive → pending (the
/// condition holds) → firing (it held for the rule's <c>for</c>) → resolved (it stopped holding). Only the two
/// transitions to firing and from firing to resolved produce a notification, once each. A rule whose signal
/// could not be read leaves its alerts as they are; a rule removed by a reload resolves its firing alerts.
/// </summary>
public sealed class AlertEvaluator(TimeProvider clock, string evaluator)
{
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AlertNotification> _firing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<(long Ms, double Total)>> _history = new(StringComparer.Ordinal);

    /// <summary>The firing alerts, by key.</summary>
    public IReadOnlyDictionary<string, AlertNotification> Firing => _firing;

    /// <summary>Takes back the firing alerts a previous evaluator journaled (they do not fire again).</summary>
    public void Restore(IEnumerable<AlertNotification> firing)
    {
        foreach (var f in firing) _firing[f.Key] = f;
    }

    /// <summary>Checks every rule against <paramref name="reading"/> and returns the notifications to send, in order.</summary>
    public IReadOnlyList<AlertNotification> Evaluate(IReadOnlyList<AlertRule> rules, AlertReading reading)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var notifications = new List<AlertNotification>();
        var holding = new HashSet<string>(StringComparer.Ordinal);
        var byName = rules.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if (reading.Errors.ContainsKey(rule.Name) || !reading.Samples.TryGetValue(rule.Name, out var samples)) continue;
            foreach (var sample in samples)
            {
                var key = Key(rule.Name, sample.Labels);
                var value = rule.Kind == AlertKinds.DlqGrowth ? Growth(key, rule.Window, now, sample.Value) : sample.Value;
                if (!rule.Holds(value)) continue;
                holding.Add(key);
                if (_firing.TryGetValue(key, out var firing))
                {
                    _firing[key] = firing with { Value = value };
                    continue;
                }
                if (!_pending.TryGetValue(key, out var pending)) _pending[key] = pending = new Pending(rule.Name, sample.Labels, now, value);
                pending.Value = value;
                if (now - pending.SinceMs < (long)rule.For.TotalMilliseconds) continue;
                _pending.Remove(key);
                var labels = Labels(rule, sample.Labels);
                var n = new AlertNotification($"{key}@{pending.SinceMs.ToString(CultureInfo.InvariantCulture)}", AlertStatus.Firing, key, rule.Name, rule.Severity,
                    labels, value, rule.Condition, pending.SinceMs, now, null, evaluator);
                _firing[key] = n;
                notifications.Add(n);
            }
        }
        // What no longer holds, among the rules that were read (or that a reload removed).
        bool Settled(string rule) => !byName.ContainsKey(rule) || (!reading.Errors.ContainsKey(rule) && reading.Samples.ContainsKey(rule));
        foreach (var (key, p) in _pending.ToList())
            if (!holding.Contains(key) && Settled(p.Rule)) _pending.Remove(key);
        foreach (var (key, f) in _firing.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            if (holding.Contains(key) || !Settled(f.Rule)) continue;
            _firing.Remove(key);
            notifications.Add(f with { Status = AlertStatus.Resolved, EndsAtMs = now, Evaluator = evaluator });
        }
        foreach (var key in _history.Keys.ToList())
            if (!holding.Contains(key) && _history[key].Count > 0 && _history[key].Last().Ms < now - 24 * 3600_000L) _history.Remove(key);
        return notifications;
    }

    /// <summary>The pending and firing alerts, firing first.</summary>
    public IReadOnlyList<AlertView> Active(IReadOnlyList<AlertRule> rules)
    {
        var byName = rules.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var list = _firing.Values
            .Select(f => new AlertView(f.Key, f.Rule, AlertStatus.Firing, f.Severity, f.Labels, f.Value, f.StartsAtMs, f.FiredAtMs))
            .OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
        foreach (var (key, p) in _pending.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (byName.TryGetValue(p.Rule, out var rule))
                list.Add(new AlertView(key, p.Rule, AlertStatus.Pending, rule.Severity, Labels(rule, p.Subject), p.Value, p.SinceMs, null));
        return list;
    }

    /// <summary>The alert's key: <c>rule</c> or <c>rule{k=v,...}</c> with the subject's labels in order.</summary>
    public static string Key(string rule, IReadOnlyDictionary<string, string> subject) =>
        subject.Count == 0 ? rule : $"{rule}{{{string.Join(",", subject.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))}}}";

    private static SortedDictionary<string, string> Labels(AlertRule rule, IReadOnlyDictionary<string, string> subject)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in rule.Labels) labels[k] = v;
        foreach (var (k, v) in subject) labels[k] = v;
        labels["alertname"] = rule.Name;
        labels["severity"] = rule.Severity;
        return labels;
    }

    /// <summary>How much a total grew within the window: now minus the oldest total seen in it (0 at the first sight).</summary>
    private double Growth(string key, TimeSpan window, long now, double total)
    {
        if (!_history.TryGetValue(key, out var h)) _history[key] = h = new Queue<(long, double)>();
        // Keep one sample at or before the window's start, so growth covers the whole window once it has been seen that long.
        while (h.Count > 1 && h.ElementAt(1).Ms <= now - (long)window.TotalMilliseconds) h.Dequeue();
        h.Enqueue((now, total));
        // A topic that shrank (retention, recreation): growth counts from the smaller total.
        var baseline = h.Peek().Total;
        if (total < baseline)
        {
            h.Clear();
            h.Enqueue((now, total));
            return 0;
        }
        return total - baseline;
    }

    private sealed class Pending(string rule, IReadOnlyDictionary<string, string> subject, long sinceMs, double value)
    {
        public string Rule { get; } = rule;
        public IReadOnlyDictionary<string, string> Subject { get; } = subject;
        public long SinceMs { get; } = sinceMs;
        public double Value { get; set; } = value;
    }
}
