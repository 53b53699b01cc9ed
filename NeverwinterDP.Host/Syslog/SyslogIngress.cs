using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Syslog;

/// <summary>What became of one message of a batch.</summary>
/// <param name="Refusal">Null = durable; else why it was refused for good (RELP answers it 500).</param>
public readonly record struct SyslogVerdict(string? Refusal)
{
    public bool Durable => Refusal is null;
}

/// <summary>
/// The syslog listeners' way to the bus: the same <see cref="EventIngress"/> as HTTP (so the same durability,
/// spillover, stats and observers), the same budget of bytes in flight, one batch per read. A batch is retried
/// while the bus is saturated or down (the sender is not read meanwhile: TCP slows it, RELP leaves it
/// unanswered); only what can never be taken is refused.
/// </summary>
public sealed class SyslogIngress(EventIngress ingress, IngressContexts contexts, IngressBudget budget, NodeConfig config, NodeMetrics metrics, ILogger<SyslogIngress> log)
{
    public SyslogOptions Options => config.Syslog;

    public ILogger Log => log;

    public NodeMetrics Metrics => metrics;

    /// <summary>The context of one read of one connection: the sender's address for events that name no host.</summary>
    public IngressContext Context(System.Net.IPEndPoint? remote)
    {
        var ip = remote?.Address is { } a ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToString() : "unknown";
        return contexts.For(config.Syslog.Settings.Type, ip, ip);
    }

    /// <summary>Parses one message; null and the reason when it is refused.</summary>
    public LogEvent? Parse(ReadOnlySpan<byte> message, IngressContext context, out string? error) =>
        SyslogParser.TryParse(message, config.Syslog.Settings, context, out var logEvent, out error) ? logEvent : null;

    /// <summary>
    /// Makes <paramref name="events"/> durable, retrying while the bus cannot take them now; the verdict of each, or
    /// null when <paramref name="giveUp"/> fired first (the node stops: nothing is promised, RELP leaves them unanswered).
    /// </summary>
    public async Task<SyslogVerdict[]?> SubmitAsync(List<LogEvent> events, IngressContext context, long bytes, string listener, CancellationToken giveUp)
    {
        var verdicts = new SyslogVerdict[events.Count];
        if (events.Count == 0) return verdicts;
        SyslogParser.Stamp(events, context);
        var pending = Enumerable.Range(0, events.Count).ToList();
        var retryAfter = config.Ingress.RetryAfter;
        var warned = false;
        using var reservation = budget.Open();
        while (pending.Count > 0)
        {
            // Twice the messages (they and their records), never more than the whole budget (or it would never fit).
            if (!reservation.TryGrowTo(Math.Min(2 * bytes, budget.Limit)))
            {
                if (!await WaitAsync(retryAfter, giveUp)) return null;
                continue;
            }
            var batch = pending.Count == events.Count ? events : pending.Select(i => events[i]).ToList();
            IngressOutcome outcome;
            Exception? error;
            try
            {
                (outcome, error) = await ingress.AcceptAsync(batch, null, giveUp);
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return null;
            }
            switch (outcome)
            {
                case IngressOutcome.Durable:
                    metrics.SyslogMessages(listener, "accepted", pending.Count);
                    return verdicts;
                case IngressOutcome.Refused when error is EventTooLargeException tooLarge:
                    verdicts[pending[tooLarge.Index]] = new SyslogVerdict(tooLarge.Message);
                    Refused(listener, tooLarge.Message);
                    pending.RemoveAt(tooLarge.Index);
                    break;
                case IngressOutcome.Refused:
                    var reason = IngressRefusal.Of(outcome, error, retryAfter)!.Message;
                    foreach (var i in pending) verdicts[i] = new SyslogVerdict(reason);
                    metrics.SyslogMessages(listener, "refused", pending.Count);
                    log.LogWarning("syslog {Listener}: {Count} messages refused: {Reason}", listener, pending.Count, reason);
                    return verdicts;
                case IngressOutcome.Stopping:
                    return null;
                default:
                    // Saturated or bus down (and no spillover): hold the sender and try again.
                    if (!warned) log.LogWarning("syslog {Listener}: the bus did not take {Count} messages ({Outcome}: {Error}); holding the sender and retrying every {RetryAfter}",
                        listener, pending.Count, outcome, error?.Message, retryAfter);
                    warned = true;
                    if (!await WaitAsync(retryAfter, giveUp)) return null;
                    break;
            }
        }
        return verdicts;
    }

    /// <summary>Logs and counts one message refused before it reached the bus (malformed, too large).</summary>
    public void Refused(string listener, string reason)
    {
        metrics.SyslogMessages(listener, "refused");
        log.LogWarning("syslog {Listener}: message refused: {Reason}", listener, reason);
    }

    private static async Task<bool> WaitAsync(TimeSpan delay, CancellationToken giveUp)
    {
        try
        {
            await Task.Delay(delay, giveUp);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
