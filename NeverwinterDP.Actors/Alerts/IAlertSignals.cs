namespace NeverwinterDP.Actors.Alerts;

/// <summary>One subject's value of a rule's signal: a host's silence in seconds, a sink's lag, a type's events/s.</summary>
/// <param name="Labels">The subject (<c>sink=es</c>, <c>host=web-1</c>); empty for a rule with one subject.</param>
public sealed record AlertSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>What the evaluator read at one evaluation: samples per rule, and the rules whose signal failed.</summary>
public sealed record AlertReading(IReadOnlyDictionary<string, IReadOnlyList<AlertSample>> Samples, IReadOnlyDictionary<string, string> Errors);

/// <summary>
/// Reads the signals the rules watch, for the whole cluster (stats, watchdog, registry, consumer lag, dead letters,
/// spill backlog, membership). The contract sits here; the node (<c>Host/Node</c>) implements it over its parts.
/// dlq-growth samples are the topic's total letters: the evaluator turns them into growth over the window.
/// </summary>
public interface IAlertSignals
{
    Task<AlertReading> ReadAsync(IReadOnlyList<AlertRule> rules, CancellationToken cancellation);
}
