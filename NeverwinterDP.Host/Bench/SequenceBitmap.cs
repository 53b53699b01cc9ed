using System.Numerics;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// A set of bench sequence numbers (0 .. <see cref="BenchEventGenerator.MaxSequence"/>) as one bit each, in
/// chunks of 2^20 allocated on first use (128 KiB per million sequence numbers touched), so a run of any
/// length costs an eighth of a byte per event. <see cref="Add"/> and <see cref="AddRange"/> are thread-safe
/// and lock-free; the counting methods read a consistent set only once writers have stopped.
/// </summary>
public sealed class SequenceBitmap
{
    private const int ChunkBits = 1 << 20;
    private const int WordsPerChunk = ChunkBits / 64;

    private readonly long[]?[] _chunks = new long[]?[(BenchEventGenerator.MaxSequence + ChunkBits) / ChunkBits];

    /// <summary>Adds <paramref name="seq"/>; true when it was not in the set yet.</summary>
    public bool Add(long seq)
    {
        var (word, mask) = Locate(seq, out var chunk);
        var before = Interlocked.Or(ref chunk[word], mask);
        return (before & mask) == 0;
    }

    /// <summary>Adds <paramref name="first"/> .. <paramref name="first"/>+<paramref name="count"/>-1.</summary>
    public void AddRange(long first, long count)
    {
        for (var seq = first; seq < first + count; seq++) Add(seq);
    }

    public bool Contains(long seq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seq, BenchEventGenerator.MaxSequence);
        var chunk = Volatile.Read(ref _chunks[seq / ChunkBits]);
        return chunk is not null && (Volatile.Read(ref chunk[seq % ChunkBits / 64]) & (1L << (int)(seq % 64))) != 0;
    }

    /// <summary>How many sequence numbers are in the set.</summary>
    public long Count => Combine(null, static (a, _) => a);

    /// <summary>How many are in both this set and <paramref name="other"/>.</summary>
    public long CountBoth(SequenceBitmap other) => Combine(other, static (a, b) => a & b);

    /// <summary>How many are in this set but not in <paramref name="other"/>.</summary>
    public long CountExcept(SequenceBitmap other) => Combine(other, static (a, b) => a & ~b);

    /// <summary>The first <paramref name="max"/> runs of consecutive numbers in this set but not in <paramref name="other"/>, ascending.</summary>
    public IReadOnlyList<(long First, long Last)> RangesExcept(SequenceBitmap other, int max)
    {
        var ranges = new List<(long First, long Last)>();
        long? start = null;
        var previous = -2L;
        for (var c = 0; c < _chunks.Length; c++)
        {
            var mine = Volatile.Read(ref _chunks[c]);
            if (mine is null) continue;
            var theirs = Volatile.Read(ref other._chunks[c]);
            for (var w = 0; w < WordsPerChunk; w++)
            {
                var bits = mine[w] & ~(theirs?[w] ?? 0);
                while (bits != 0)
                {
                    var seq = (long)c * ChunkBits + w * 64L + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    if (seq != previous + 1)
                    {
                        if (start is { } s)
                        {
                            ranges.Add((s, previous));
                            if (ranges.Count == max) return ranges;
                        }
                        start = seq;
                    }
                    previous = seq;
                }
            }
        }
        if (start is { } last && ranges.Count < max) ranges.Add((last, previous));
        return ranges;
    }

    private long Combine(SequenceBitmap? other, Func<long, long, long> op)
    {
        var count = 0L;
        for (var c = 0; c < _chunks.Length; c++)
        {
            var mine = Volatile.Read(ref _chunks[c]);
            if (mine is null) continue;
            var theirs = other is null ? null : Volatile.Read(ref other._chunks[c]);
            for (var w = 0; w < WordsPerChunk; w++) count += BitOperations.PopCount((ulong)op(mine[w], theirs?[w] ?? 0));
        }
        return count;
    }

    private (int Word, long Mask) Locate(long seq, out long[] chunk)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seq, BenchEventGenerator.MaxSequence);
        var index = seq / ChunkBits;
        chunk = Volatile.Read(ref _chunks[index])!;
        if (chunk is null)
        {
            var fresh = new long[WordsPerChunk];
            chunk = Interlocked.CompareExchange(ref _chunks[index], fresh, null) ?? fresh;
        }
        return ((int)(seq % ChunkBits / 64), 1L << (int)(seq % 64));
    }
}
