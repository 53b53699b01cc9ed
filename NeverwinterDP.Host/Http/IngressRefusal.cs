using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Spillover;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// How an input answers an ingress outcome that is not <see cref="IngressOutcome.Durable"/>: HTTP's status, a stable
/// reason, a message for the sender's log, and when to retry. One mapping for <c>/v1/events</c> (and its dialects) and
/// the ZeroMQ input, so the same refusal reads the same on every input. <c>event_too_large</c> is not here: its answer
/// names the request's line, which only the caller can find.
/// </summary>
public sealed record IngressRefusal(int Status, string Reason, string Message, TimeSpan? RetryAfter)
{
    /// <summary>The refusal for <paramref name="outcome"/> and its <paramref name="error"/>; null for a durable outcome.</summary>
    public static IngressRefusal? Of(IngressOutcome outcome, Exception? error, TimeSpan retryAfter) => outcome switch
    {
        IngressOutcome.Durable => null,
        IngressOutcome.Refused => new(BusRefusals.IsTooLarge(error) ? 413 : 400, "bus_refused",
            "the bus refused the events permanently: " + (error?.Message ?? "unknown error"), null),
        IngressOutcome.Saturated => new(429, "saturated", error?.Message ?? "the bus is saturated; retry later", retryAfter),
        IngressOutcome.Stopping => new(503, "stopping", "the node is shutting down; retry on another node or later", retryAfter),
        // Kafka did not take them and the spillover store cannot (disk full, quota used up): its own reason, since
        // the fix is on this node's disk, not on the bus.
        IngressOutcome.Failed when error is SpillRefusedException spill => new(503, "spill_full",
            "the bus did not acknowledge the events and the spillover store cannot keep them: " + spill.Message, retryAfter),
        _ => new(503, "bus_failed", "the bus did not acknowledge the events: " + (error?.Message ?? "unknown error"), retryAfter),
    };
}
