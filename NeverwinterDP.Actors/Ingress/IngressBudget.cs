namespace NeverwinterDP.Actors.Ingress;

/// <summary>
/// One budget of bytes in flight across every ingress request on the node (<c>nwdp.ingress.max-bytes-in-flight</c>):
/// a request reserves its bytes before it reads them (its declared length, or as it reads and inflates) and gives
/// them back when it is answered; a request that finds the budget full is answered 429 without being read. So
/// memory stays bounded whatever senders do.
/// </summary>
public sealed class IngressBudget(long limit)
{
    private long _inFlight;
    private long _peak;

    /// <summary>The budget (bytes).</summary>
    public long Limit { get; } = limit > 0 ? limit : throw new ArgumentOutOfRangeException(nameof(limit), limit, "the budget must be positive");

    /// <summary>Bytes reserved by the requests being handled now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>
    /// The most held at once since the last <see cref="TakePeak"/>: many medium requests together grow the heap as one
    /// large request does, so giving memory back is decided on this, not on one request's share.
    /// </summary>
    public long Peak => Interlocked.Read(ref _peak);

    /// <summary>Answers <see cref="Peak"/> and starts a new one from zero.</summary>
    public long TakePeak() => Interlocked.Exchange(ref _peak, 0);

    /// <summary>Reserves <paramref name="bytes"/> more, unless that would pass <see cref="Limit"/>.</summary>
    public bool TryReserve(long bytes)
    {
        if (bytes <= 0) return true;
        while (true)
        {
            var used = Interlocked.Read(ref _inFlight);
            if (used + bytes > Limit) return false;
            if (Interlocked.CompareExchange(ref _inFlight, used + bytes, used) != used) continue;
            var now = used + bytes;
            long peak;
            while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
            {
            }
            return true;
        }
    }

    public void Release(long bytes)
    {
        if (bytes > 0) Interlocked.Add(ref _inFlight, -bytes);
    }

    /// <summary>What one request holds of the budget; disposing it gives everything back.</summary>
    public Reservation Open() => new(this);

    /// <summary>One request's share of the budget, grown as it reads (<see cref="TryGrowTo"/>), released on dispose.</summary>
    public sealed class Reservation(IngressBudget budget) : IDisposable
    {
        /// <summary>Bytes this request holds.</summary>
        public long Bytes { get; private set; }

        /// <summary>The most this request held at once.</summary>
        public long Peak { get; private set; }

        /// <summary>Holds at least <paramref name="bytes"/> in all; false (and nothing more held) when the budget cannot give them.</summary>
        public bool TryGrowTo(long bytes)
        {
            if (bytes <= Bytes) return true;
            if (!budget.TryReserve(bytes - Bytes)) return false;
            Bytes = bytes;
            Peak = Math.Max(Peak, bytes);
            return true;
        }

        /// <summary>Holds <paramref name="bytes"/> more; false when the budget cannot give them.</summary>
        public bool TryGrowBy(long bytes) => TryGrowTo(Bytes + bytes);

        public void Dispose()
        {
            budget.Release(Bytes);
            Bytes = 0;
        }
    }
}
