namespace NeverwinterDP.Actors.Sinks;

/// <summary>
/// Records a sink had reported delivered were lost before they became durable (a file failed to write,
/// fsync or rename). Retrying the flush cannot bring them back, so this is deliberately not an
/// <see cref="IOException"/>: the pump must fail and read the partitions again from their last committed
/// offsets. Thrown from <see cref="ISink.FlushAsync"/>; the framework never retries it. (The files sink also
/// refuses later records of the affected hours until that replay arrives, so nothing is published over the gap.)
/// </summary>
public sealed class RedeliveryRequiredException(string message, Exception? innerException) : Exception(message, innerException);
