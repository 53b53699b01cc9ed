using System.Diagnostics;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// The nodes a bench spreads its batches over (<c>--url</c> given more than once) and how a batch fails over between
/// them. Worker <c>i</c> sends to node <c>i mod n</c> (its home) while that node is up. A node that refused a
/// connection, cut one, or answered 503/429 is set aside for <see cref="CoolDown"/>: batches go to the next node in
/// order that is not set aside; when every node is, to the one whose time is up first (someone has to try).
/// Thread-safe; <paramref name="now"/> (Stopwatch ticks) is for tests.
/// </summary>
public sealed class BenchTargets
{
    private readonly long[] _asideUntil; // Stopwatch ticks; 0 = never set aside
    private readonly long _coolDownTicks;
    private readonly Func<long> _now;

    public BenchTargets(IReadOnlyList<Uri> urls, TimeSpan coolDown, Func<long>? now = null)
    {
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Count == 0) throw new ArgumentException("no URL to send to", nameof(urls));
        if (coolDown < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(coolDown), "must not be negative");
        Urls = urls;
        CoolDown = coolDown;
        _asideUntil = new long[urls.Count];
        _coolDownTicks = (long)(coolDown.TotalSeconds * Stopwatch.Frequency);
        _now = now ?? Stopwatch.GetTimestamp;
    }

    public IReadOnlyList<Uri> Urls { get; }

    public int Count => Urls.Count;

    /// <summary>How long a node that failed a batch is passed over.</summary>
    public TimeSpan CoolDown { get; }

    /// <summary>The node worker <paramref name="worker"/> prefers.</summary>
    public int Home(int worker) => worker % Count;

    /// <summary>True unless the node failed a batch less than <see cref="CoolDown"/> ago.</summary>
    public bool IsUp(int index) => Volatile.Read(ref _asideUntil[index]) <= _now();

    /// <summary>Where a batch goes: <paramref name="preferred"/> when up, else the next node up after it, else the
    /// node set aside the shortest time ahead.</summary>
    public int Pick(int preferred)
    {
        var now = _now();
        var soonest = preferred;
        for (var k = 0; k < Count; k++)
        {
            var i = (preferred + k) % Count;
            var until = Volatile.Read(ref _asideUntil[i]);
            if (until <= now) return i;
            if (until < Volatile.Read(ref _asideUntil[soonest])) soonest = i;
        }
        return soonest;
    }

    /// <summary>Node <paramref name="index"/> failed a batch: sets it aside and answers where the batch goes next
    /// (never the same node while another one is up).</summary>
    public int FailOver(int index)
    {
        Volatile.Write(ref _asideUntil[index], _now() + _coolDownTicks);
        return Pick((index + 1) % Count);
    }
}
