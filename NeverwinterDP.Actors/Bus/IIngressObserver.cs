using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Bus;

/// <summary>Told about every batch ingress made durable (emitter registry, watchdog, per-minute stats).</summary>
public interface IIngressObserver
{
    /// <summary>Called once per accepted batch, once it is durable (in Kafka, or spilled); must not block.</summary>
    void Accepted(IReadOnlyList<LogEvent> events);

    /// <summary>Called for a batch accepted into the spillover store instead of Kafka (after <see cref="Accepted"/>).</summary>
    void Spilled(IReadOnlyList<LogEvent> events)
    {
    }

    /// <summary>Called when Kafka acknowledged a batch: at once for a direct write, at replay for a spilled one.</summary>
    void WrittenToBus(IReadOnlyList<LogEvent> events)
    {
    }

    /// <summary>
    /// Called when Kafka acknowledged a spilled batch at its replay, once the spillover store recorded it (instead of
    /// <see cref="WrittenToBus"/>, which it calls unless overridden).
    /// </summary>
    void Replayed(IReadOnlyList<LogEvent> events) => WrittenToBus(events);

    /// <summary>Called when a spilled batch the bus refused for good was set aside (quarantined) instead of replayed.</summary>
    void Quarantined(IReadOnlyList<LogEvent> events)
    {
    }

    /// <summary>
    /// Completes once what this observer counted of the batches it was told about so far is durable (the stats:
    /// published to <c>nwdp.stats</c> and acknowledged); it may fail or time out, the batch is durable all the same.
    /// Ingress awaits it after <see cref="WrittenToBus"/> and before it answers a batch written to Kafka. Default: at once.
    /// </summary>
    Task CountsDurableAsync(CancellationToken cancellation) => Task.CompletedTask;
}

public static class IngressObservers
{
    /// <summary>
    /// Waits until every observer's counts are durable (<see cref="IIngressObserver.CountsDurableAsync"/>); never fails:
    /// counts not durable yet (the stats publisher stopped or timed out, the caller left) are published again by the
    /// stats publisher, and the events they count are durable either way.
    /// </summary>
    public static async Task CountsDurableAsync(IEnumerable<IIngressObserver> observers, CancellationToken cancellation)
    {
        foreach (var observer in observers)
        {
            try
            {
                await observer.CountsDurableAsync(cancellation).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Not durable yet: see above.
            }
        }
    }
}
