namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>A record a sink refused for good, and why; <paramref name="Attempts"/> counts the times it was dead-lettered
/// (1 from the pump, one more each time a dead-letter replay is refused again).</summary>
public sealed record DeadLetterRecord(SinkRecord Record, string Reason, int Attempts = 1);

/// <summary>
/// Where rejected records go (<c>nwdp.dlq.&lt;sink&gt;</c> on the bus). <see cref="SendAsync"/> returns once the
/// letters are durable: the pump commits the records' offsets only after that.
/// </summary>
public interface IDeadLetterQueue
{
    Task SendAsync(string sink, IReadOnlyList<DeadLetterRecord> letters, CancellationToken cancellation);
}

/// <summary>Told which records a sink delivered (per-sink counts for metrics and the loss audit); must not block.</summary>
public interface IDeliveryObserver
{
    void Delivered(string sink, IReadOnlyList<SinkRecord> records);
}
