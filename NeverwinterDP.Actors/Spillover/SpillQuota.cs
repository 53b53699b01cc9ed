using NeverwinterDP.Actors.Bus;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>Bytes of spilled, not yet replayed events held by this node's spillover entities, against the quota.</summary>
public sealed class SpillQuota(long limitBytes) : ISpillBacklog
{
    private long _used;

    public long Limit { get; } = limitBytes;

    public long Used => Interlocked.Read(ref _used);

    /// <summary>Bytes are held until their batches are replayed: while any are, the spill holds batches.</summary>
    public bool HoldsBatches => Used > 0;

    /// <summary>Reserves <paramref name="bytes"/> if they fit under the limit.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var used = Interlocked.Read(ref _used);
            if (used + bytes > Limit) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
        }
    }

    /// <summary>Counts bytes found in the store at recovery (even past the limit: they are already kept).</summary>
    public void Add(long bytes) => Interlocked.Add(ref _used, bytes);

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
