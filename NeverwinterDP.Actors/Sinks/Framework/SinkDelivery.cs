using Polly;
using Polly.Retry;

namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>What one <see cref="SinkDelivery.DeliverAsync"/> did.</summary>
public sealed record DeliveryReport(int Delivered, int DeadLettered, int Retries);

/// <summary>Thrown when a sink breaks its contract (an outcome list of the wrong length): a bug, not retried.</summary>
public sealed class SinkContractException(string message) : Exception(message);

/// <summary>
/// The framework around one <see cref="ISink"/>, shared by every sink: writes a batch, retries the records
/// the sink reports <see cref="SinkOutcome.Errored"/> (and whole batches whose write threw) with exponential
/// backoff and jitter (Polly), dead-letters the <see cref="SinkOutcome.Rejected"/> ones with their reason,
/// and counts everything in <see cref="SinkMetrics"/>. A batch is done when every record is delivered or
/// dead-lettered; only then may the pump commit its offsets (after <see cref="FlushAsync"/>).
/// </summary>
public sealed class SinkDelivery
{
    private readonly ISink _sink;
    private readonly IDeadLetterQueue _deadLetters;
    private readonly SinkRetryOptions _retry;
    private readonly Action<string>? _warn;
    private readonly ResiliencePipeline _pipeline;
    private readonly ResiliencePipeline _flushPipeline;
    private readonly IDeliveryObserver? _observer;

    public SinkDelivery(ISink sink, SinkRetryOptions retry, IDeadLetterQueue deadLetters, SinkMetrics? metrics = null, Action<string>? warn = null,
        IDeliveryObserver? observer = null)
    {
        _observer = observer;
        _sink = sink;
        _retry = retry;
        _deadLetters = deadLetters;
        _warn = warn;
        Metrics = metrics ?? new SinkMetrics(sink.Name);
        _pipeline = Retrying(retry, e => e is not (OperationCanceledException or SinkContractException));
        // A flush that lost accepted records cannot be retried: the pump must read them again.
        _flushPipeline = Retrying(retry, e => e is not (OperationCanceledException or SinkContractException or RedeliveryRequiredException));
    }

    private ResiliencePipeline Retrying(SinkRetryOptions retry, Func<Exception, bool> transient) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle(transient),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = retry.MinBackoff,
                MaxDelay = retry.MaxBackoff,
                MaxRetryAttempts = retry.MaxAttempts > 0 ? retry.MaxAttempts - 1 : int.MaxValue,
                OnRetry = args =>
                {
                    Metrics.AddRetry();
                    _warn?.Invoke($"sink {_sink.Name}: {Describe(args.Outcome.Exception)}; attempt {args.AttemptNumber + 2} in {args.RetryDelay.TotalMilliseconds:0} ms");
                    return default;
                },
            })
            .Build();

    public ISink Sink => _sink;

    public SinkMetrics Metrics { get; }

    /// <summary>Writes <paramref name="batch"/> until every record is delivered or dead-lettered (or cancelled).</summary>
    public async Task<DeliveryReport> DeliverAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        if (batch.Count == 0) return new DeliveryReport(0, 0, 0);
        var pending = batch;
        var delivered = 0;
        var retriesBefore = Metrics.Retries;
        var letters = new List<DeadLetterRecord>();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await _pipeline.ExecuteAsync(async ct =>
            {
                var result = await _sink.WriteAsync(pending, ct).ConfigureAwait(false);
                if (result.Outcomes.Count != pending.Count)
                    throw new SinkContractException($"sink {_sink.Name} returned {result.Outcomes.Count} outcomes for {pending.Count} records");
                List<SinkRecord>? errored = null;
                List<SinkRecord>? deliveredNow = _observer is null ? null : new List<SinkRecord>(pending.Count);
                string? firstReason = null;
                for (var i = 0; i < pending.Count; i++)
                {
                    var reason = result.Reasons is { } reasons && i < reasons.Count ? reasons[i] : null;
                    switch (result.Outcomes[i])
                    {
                        case SinkOutcome.Delivered:
                            delivered++;
                            deliveredNow?.Add(pending[i]);
                            break;
                        case SinkOutcome.Rejected:
                            letters.Add(new DeadLetterRecord(pending[i], reason ?? "rejected by the store (no reason given)"));
                            break;
                        default:
                            (errored ??= new List<SinkRecord>()).Add(pending[i]);
                            firstReason ??= reason;
                            break;
                    }
                }
                if (deliveredNow is { Count: > 0 }) _observer!.Delivered(_sink.Name, deliveredNow);
                if (errored is not null)
                {
                    Metrics.AddErrored(errored.Count);
                    pending = errored;
                    throw new SinkRecordsErroredException(errored.Count, firstReason);
                }
            }, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or SinkContractException))
        {
            // Only reached with a finite max-attempts: what is still pending is given up on, and kept in the DLQ.
            var reason = $"gave up after {_retry.MaxAttempts} attempts: {Describe(e)}";
            letters.AddRange(pending.Select(r => new DeadLetterRecord(r, reason)));
        }
        if (letters.Count > 0)
        {
            await _deadLetters.SendAsync(_sink.Name, letters, cancellation).ConfigureAwait(false);
            foreach (var letter in letters.Take(3))
                _warn?.Invoke($"sink {_sink.Name} dead-lettered {letter.Record.Topic}-{letter.Record.Partition}@{letter.Record.Offset}: {letter.Reason}");
        }
        Metrics.AddBatch(delivered, letters.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return new DeliveryReport(delivered, letters.Count, (int)(Metrics.Retries - retriesBefore));
    }

    /// <summary>Flushes the sink, retrying failures with the same backoff; returns once everything delivered is durable.</summary>
    public async Task FlushAsync(CancellationToken cancellation)
    {
        await _flushPipeline.ExecuteAsync(async ct => await _sink.FlushAsync(ct).ConfigureAwait(false), cancellation).ConfigureAwait(false);
        Metrics.AddFlush();
    }

    private static string Describe(Exception? e) => e switch
    {
        null => "no error",
        SinkRecordsErroredException errored => errored.Message,
        _ => $"{e.GetType().Name}: {e.GetBaseException().Message}",
    };
}

/// <summary>Some records of a batch errored (transient); the delivery retries just those.</summary>
public sealed class SinkRecordsErroredException(int count, string? reason)
    : Exception($"{count} record(s) errored" + (reason is null ? "" : $" ({reason})"));
