namespace NeverwinterDP.Actors.Coverage;

/// <summary>One value a <see cref="SpaceSaving"/> tracks: <c>Count - Error &lt;= true count &lt;= Count</c>.</summary>
public readonly record struct TopValue(string Value, long Count, long Error);

/// <summary>
/// The most frequent values of a stream in k counters (Metwally, Agrawal, El Abbadi, "Efficient computation of
/// frequent and top-k elements in data streams", 2005). A new value, when all k counters are taken, replaces the value
/// with the smallest count and inherits that count as its error. Guarantees, for N values seen:
/// <list type="bullet">
/// <item>every tracked value's true count lies in [Count − Error, Count], and Error ≤ N/k;</item>
/// <item>a value not tracked occurred at most <see cref="MinCount"/> ≤ N/k times, so every value more frequent than N/k is tracked.</item>
/// </list>
/// Until k distinct values were seen it is exact. Merging two summaries (streams of different nodes) keeps both
/// guarantees for the combined stream: a value missing from a full summary is counted as that summary's minimum,
/// with the same amount of error. Not thread-safe.
/// </summary>
public sealed class SpaceSaving
{
    private readonly Dictionary<string, int> _slots;
    private readonly string[] _values;
    private readonly long[] _counts;
    private readonly long[] _errors;
    private int _used;

    // The most a value that is not tracked occurred while fewer than k counters are taken: 0, except after merging a
    // full summary of a smaller capacity.
    private long _floor;

    public SpaceSaving(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _slots = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _values = new string[capacity];
        _counts = new long[capacity];
        _errors = new long[capacity];
    }

    public int Capacity { get; }

    /// <summary>Values seen (N).</summary>
    public long Total { get; private set; }

    /// <summary>The most an untracked value can have occurred: the smallest count once all k counters are taken, 0 before.</summary>
    public long MinCount
    {
        get
        {
            if (_used < Capacity) return _floor;
            var min = long.MaxValue;
            for (var i = 0; i < _used; i++) min = Math.Min(min, _counts[i]);
            return min;
        }
    }

    public void Add(string value, long count = 1)
    {
        Total += count;
        if (_slots.TryGetValue(value, out var slot))
        {
            _counts[slot] += count;
            return;
        }
        if (_used < Capacity)
        {
            slot = _used++;
            _values[slot] = value;
            _counts[slot] = _floor + count;
            _errors[slot] = _floor;
            _slots[value] = slot;
            return;
        }
        // Linear scan for the minimum: k is small (tens), and only values that are not tracked pay for it.
        slot = 0;
        for (var i = 1; i < _used; i++)
            if (_counts[i] < _counts[slot]) slot = i;
        _slots.Remove(_values[slot]);
        _values[slot] = value;
        _errors[slot] = _counts[slot];
        _counts[slot] += count;
        _slots[value] = slot;
    }

    /// <summary>The tracked values, highest count first (ties by value, so the order is stable).</summary>
    public IReadOnlyList<TopValue> Top(int? limit = null)
    {
        var list = new List<TopValue>(_used);
        for (var i = 0; i < _used; i++) list.Add(new TopValue(_values[i], _counts[i], _errors[i]));
        list.Sort((a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : string.CompareOrdinal(a.Value, b.Value));
        return limit is { } n && n < list.Count ? list.GetRange(0, n) : list;
    }

    /// <summary>
    /// Adds <paramref name="other"/>'s stream (a different capacity is fine; this one's is kept). Both sides' counts
    /// are summed; a value that a full side does not track gets that side's minimum (and as much error), since it
    /// occurred at most that often there. The k highest sums stay.
    /// </summary>
    public void Merge(SpaceSaving other)
    {
        var mineMin = MinCount;
        var theirsMin = other.MinCount;
        var merged = new Dictionary<string, (long Count, long Error)>(StringComparer.Ordinal);
        for (var i = 0; i < _used; i++)
        {
            var theirs = other._slots.TryGetValue(_values[i], out var j) ? (other._counts[j], other._errors[j]) : (theirsMin, theirsMin);
            merged[_values[i]] = (_counts[i] + theirs.Item1, _errors[i] + theirs.Item2);
        }
        for (var j = 0; j < other._used; j++)
        {
            if (merged.ContainsKey(other._values[j])) continue;
            merged[other._values[j]] = (other._counts[j] + mineMin, other._errors[j] + mineMin);
        }
        var ordered = merged.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var kept = ordered.Take(Capacity).ToList();
        _floor = Math.Max(mineMin + theirsMin, ordered.Count > Capacity ? ordered[Capacity].Value.Count : 0);
        _slots.Clear();
        _used = 0;
        foreach (var (value, (count, error)) in kept)
        {
            _values[_used] = value;
            _counts[_used] = count;
            _errors[_used] = error;
            _slots[value] = _used++;
        }
        // When values were dropped, all k counters are taken: an untracked value's bound is the smallest kept count,
        // which is at least mineMin + theirsMin (the bound of a value neither side tracked) and at least any dropped sum.
        Total += other.Total;
    }

    public SpaceSaving Clone()
    {
        var copy = new SpaceSaving(Capacity);
        copy.Merge(this);
        return copy;
    }

    /// <summary>The wire form (what <see cref="FromWire"/> reads back).</summary>
    public SpaceSavingWire ToWire() => new(Capacity, Total, _floor, Top().Select(t => new SpaceSavingEntry(t.Value, t.Count, t.Error)).ToList());

    public static SpaceSaving FromWire(SpaceSavingWire wire)
    {
        var s = new SpaceSaving(wire.Capacity);
        foreach (var e in wire.Entries.Take(wire.Capacity))
        {
            s._values[s._used] = e.Value;
            s._counts[s._used] = e.Count;
            s._errors[s._used] = e.Error;
            s._slots[e.Value] = s._used++;
        }
        s.Total = wire.Total;
        s._floor = wire.Floor;
        return s;
    }
}

public sealed record SpaceSavingEntry(string Value, long Count, long Error);

public sealed record SpaceSavingWire(int Capacity, long Total, long Floor, IReadOnlyList<SpaceSavingEntry> Entries);
