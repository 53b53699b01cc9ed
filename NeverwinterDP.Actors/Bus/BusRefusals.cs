using Confluent.Kafka;

namespace NeverwinterDP.Actors.Bus;

/// <summary>
/// An event larger than the bus accepts: refused before anything is sent (a retry would fail the same way, and a
/// spill would be replayed for ever).
/// </summary>
/// <param name="Index">The event's position in its request (0-based).</param>
/// <param name="Bytes">The encoded record's size: key + Avro value.</param>
/// <param name="Limit">The producer's <c>message.max.bytes</c> as it takes effect.</param>
public sealed class EventTooLargeException(int index, long bytes, int limit)
    : Exception($"event of {bytes} bytes exceeds the bus limit of {limit}" + (bytes <= limit ? $" (with {BusRefusals.RecordAllowance} bytes kept for Kafka's record framing and the replay header)" : ""))
{
    public int Index { get; } = index;

    public long Bytes { get; } = bytes;

    public int Limit { get; } = limit;
}

/// <summary>What the bus can never take, told apart from what it cannot take now.</summary>
public static class BusRefusals
{
    /// <summary>
    /// Bytes of a record besides key and value that count against <c>message.max.bytes</c>: librdkafka's
    /// record framing (at most 36 bytes of varints) and the <c>nwdp-spill</c> header a replay adds (its name and
    /// <c>spillover|&lt;topic&gt;/&lt;seq&gt;/&lt;index&gt;</c>, under 300 bytes for the longest topic name),
    /// rounded up. An event that fits with them goes through ingress and through a replay alike.
    /// </summary>
    public const int RecordAllowance = 512;

    /// <summary>
    /// Errors that are about the records themselves, so that sending them again fails the same way: too large
    /// (for librdkafka or for the broker), invalid record or timestamp, invalid topic name, a format the broker
    /// refuses. Not permanent: everything about the bus's state (down, leader moved, timed out, not authorised —
    /// an operator can fix those without touching the records).
    /// </summary>
    private static readonly HashSet<ErrorCode> Permanent =
    [
        ErrorCode.MsgSizeTooLarge,
        ErrorCode.RecordListTooLarge,
        ErrorCode.InvalidRecord,
        ErrorCode.InvalidTimestamp,
        ErrorCode.TopicException,
        ErrorCode.UnsupportedForMessageFormat,
    ];

    /// <summary>Whether <paramref name="error"/> says the records are too large for the bus (a 413 rather than a 400).</summary>
    public static bool IsTooLarge(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is EventTooLargeException) return true;
            if (e is KafkaException k && k.Error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge) return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="error"/> (a produce failure, however wrapped) is one the bus will give again for the same records.</summary>
    public static bool IsPermanent(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case EventTooLargeException:
                    return true;
                case KafkaException k when Permanent.Contains(k.Error.Code):
                    return true;
            }
        }
        return false;
    }
}
