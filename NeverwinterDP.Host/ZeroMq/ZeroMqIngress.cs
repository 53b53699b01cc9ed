using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.ZeroMq;

/// <summary>
/// The ZeroMQ input's way to the bus: one batch parsed whole by <c>/v1/events</c>' parser, held in the same budget
/// of bytes in flight, handed to the same <see cref="EventIngress"/> (durability, spillover, stats, observers) and
/// answered as <c>/v1/events</c> answers: 200 only once durable, else HTTP's code and reason for the same refusal.
/// </summary>
public sealed class ZeroMqIngress(EventIngress ingress, IngressContexts contexts, IngressBudget budget, NodeConfig config, NodeMetrics metrics, ILogger<ZeroMqIngress> log)
{
    public NodeMetrics Metrics => metrics;

    /// <summary>
    /// Makes one batch durable; its answer, or null when <paramref name="giveUp"/> fired first (the node stops before
    /// the batch was durable: it stays unanswered and the client sends it again).
    /// </summary>
    public async Task<ZeroMqAnswer?> HandleAsync(ZeroMqRequest request, CancellationToken giveUp)
    {
        var options = config.Ingress;
        var id = request.RequestId;
        var cost = IngressOptions.BudgetPerBodyByte * (long)request.Payload.Length;
        using var reservation = budget.Open();
        if (request.Payload.Length <= config.ZeroMq.MaxBatchBytes && !reservation.TryGrowTo(Math.Min(cost, budget.Limit)))
            return Counted(ZeroMqAnswer.Refuse(id, 429, "bytes_in_flight",
                $"the node has {budget.InFlight} bytes of requests in flight and this batch needs {cost} more (nwdp.ingress.max-bytes-in-flight = {budget.Limit}); retry later",
                retryAfter: options.RetryAfter));
        // ZeroMQ does not tell who sent a message: events that name no host get "unknown" (the ZeroMqEmitter names its host).
        var context = contexts.For(request.Type, "unknown", "unknown");
        if (Check(request, config.ZeroMq.MaxBatchBytes, options.MaxEventsPerRequest, context, out var events) is { } refused) return Counted(refused);
        if (events.Count == 0) return Counted(ZeroMqAnswer.Accept(id, 0));
        IngressOutcome outcome;
        Exception? error;
        try
        {
            (outcome, error) = await ingress.AcceptAsync(events, null, giveUp);
        }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
        {
            return null;
        }
        if (outcome == IngressOutcome.Durable) return Counted(ZeroMqAnswer.Accept(id, events.Count));
        if (outcome == IngressOutcome.Refused && error is EventTooLargeException tooLarge)
            return Counted(ZeroMqAnswer.Refuse(id, 413, "event_too_large", tooLarge.Message,
                request.Kind == ContentKind.Ndjson ? EventParser.NdjsonLineOf(request.Payload.Span, tooLarge.Index) : tooLarge.Index + 1));
        var refusal = IngressRefusal.Of(outcome, error, options.RetryAfter)!;
        return Counted(ZeroMqAnswer.Refuse(id, refusal.Status, refusal.Reason, refusal.Message, retryAfter: refusal.RetryAfter));
    }

    /// <summary>
    /// What is wrong with a batch before the bus sees it (413 too large, 400 malformed naming the line, 413 too many
    /// events), or null and its events.
    /// </summary>
    public static ZeroMqAnswer? Check(ZeroMqRequest request, long maxBatchBytes, int maxEvents, IngressContext context, out IReadOnlyList<LogEvent> events)
    {
        ArgumentNullException.ThrowIfNull(context);
        events = [];
        var id = request.RequestId;
        if (request.Payload.Length > maxBatchBytes)
            return ZeroMqAnswer.Refuse(id, 413, "body_too_large", $"the batch is {request.Payload.Length} bytes; the limit is {maxBatchBytes} (nwdp.inputs.zeromq.max-batch-bytes)");
        var parsed = EventParser.Parse(request.Payload, request.Kind, context);
        if (!parsed.IsSuccess) return ZeroMqAnswer.Refuse(id, 400, "malformed", parsed.Error, parsed.Line);
        if (parsed.Events.Count > maxEvents)
            return ZeroMqAnswer.Refuse(id, 413, "too_many_events", $"{parsed.Events.Count} events in one batch; the limit is {maxEvents} (nwdp.ingress.max-events-per-request)");
        events = parsed.Events;
        return null;
    }

    /// <summary>Counts and logs an answer (refusals at warning level: the sender's mistake or the node's limit).</summary>
    public ZeroMqAnswer Counted(ZeroMqAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        metrics.ZeroMqBatch(answer.Durable ? "accepted" : answer.Reason ?? "refused", answer.Accepted);
        if (!answer.Durable && !answer.Transient)
            log.LogWarning("zeromq: batch {Id} refused ({Status}): {Error}{Line}", ZeroMqWire.IdText(answer.RequestId), answer.Status, answer.Error,
                answer.Line is { } line ? $" (line {line})" : "");
        return answer;
    }
}
