namespace NeverwinterDP.Host.ZeroMq;

/// <summary>
/// The batches of the ZeroMQ input by request id: those being made durable (at most <c>max-in-flight-batches</c>,
/// with every route that asked for each) and the ids of the last ones made durable (<c>remembered-batches</c>), so
/// that a batch resent because its answer was lost is answered again, not taken twice. Thread-safe.
/// </summary>
public sealed class ZeroMqBatchTracker(int maxInFlight, int remembered)
{
    private readonly Dictionary<string, List<byte[]>> _inFlight = [];
    private readonly Dictionary<string, int> _durable = [];
    private readonly Queue<string> _durableOrder = new();
    private readonly Lock _gate = new();

    /// <summary>What became of a batch as it arrived.</summary>
    public enum Arrival
    {
        /// <summary>New: make it durable, then <see cref="Finish"/> it.</summary>
        Started,

        /// <summary>The same id is being made durable: this route gets its answer too.</summary>
        Joined,

        /// <summary>Made durable before: answer 200 again with the count remembered.</summary>
        AlreadyDurable,

        /// <summary><c>max-in-flight-batches</c> are being made durable: answer 429.</summary>
        Full,
    }

    public int InFlight
    {
        get
        {
            lock (_gate) return _inFlight.Count;
        }
    }

    /// <param name="accepted">For <see cref="Arrival.AlreadyDurable"/>: the events it held.</param>
    public Arrival Arrive(byte[] requestId, byte[] route, out int accepted)
    {
        var key = Convert.ToHexString(requestId);
        accepted = 0;
        lock (_gate)
        {
            if (_durable.TryGetValue(key, out accepted)) return Arrival.AlreadyDurable;
            if (_inFlight.TryGetValue(key, out var routes))
            {
                if (!routes.Any(r => r.AsSpan().SequenceEqual(route))) routes.Add(route);
                return Arrival.Joined;
            }
            if (_inFlight.Count >= maxInFlight) return Arrival.Full;
            _inFlight[key] = [route];
            return Arrival.Started;
        }
    }

    /// <summary>
    /// Ends a started batch: remembered when <paramref name="answer"/> is durable; the routes to answer (none when
    /// <paramref name="answer"/> is null: the node stopped first and leaves it unanswered).
    /// </summary>
    public IReadOnlyList<byte[]> Finish(byte[] requestId, ZeroMqAnswerKind answer, int accepted = 0)
    {
        var key = Convert.ToHexString(requestId);
        lock (_gate)
        {
            if (!_inFlight.Remove(key, out var routes)) return [];
            if (answer == ZeroMqAnswerKind.Durable)
            {
                _durable[key] = accepted;
                _durableOrder.Enqueue(key);
                while (_durableOrder.Count > remembered) _durable.Remove(_durableOrder.Dequeue());
            }
            return answer == ZeroMqAnswerKind.Unanswered ? [] : routes;
        }
    }
}

/// <summary>How a started batch ended, for <see cref="ZeroMqBatchTracker.Finish"/>.</summary>
public enum ZeroMqAnswerKind
{
    Durable,
    Refused,
    Unanswered,
}
