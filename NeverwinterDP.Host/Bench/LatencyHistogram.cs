namespace NeverwinterDP.Host.Bench;

/// <summary>
/// A fixed-size log-linear histogram of latencies in microseconds (HdrHistogram-like): exact below 128 µs, then
/// 64 buckets per power of two, so a reported percentile is within 1.6% of the true value, for values up to
/// about 12 days. Bounded memory (2,304 counters); recording is lock-free and thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Linear = 128;
    private const int SubBuckets = 64;
    private const int MaxExponent = 40;
    private const int BucketCount = Linear + (MaxExponent - 7 + 1) * SubBuckets;
    private static readonly long MaxTrackable = (1L << (MaxExponent + 1)) - 1;

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _max;
    private long _min = long.MaxValue;
    private long _sum;

    public long Count => Interlocked.Read(ref _total);

    /// <summary>Largest value recorded, exact, in microseconds (0 when empty).</summary>
    public long MaxMicros => Count == 0 ? 0 : Interlocked.Read(ref _max);

    /// <summary>Smallest value recorded, exact, in microseconds (0 when empty).</summary>
    public long MinMicros => Count == 0 ? 0 : Interlocked.Read(ref _min);

    public double MeanMicros => Count == 0 ? 0 : (double)Interlocked.Read(ref _sum) / Count;

    public void Record(TimeSpan latency) => RecordMicros((long)latency.TotalMicroseconds);

    public void RecordMicros(long micros)
    {
        micros = Math.Clamp(micros, 0, MaxTrackable);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _total);
        Interlocked.Add(ref _sum, micros);
        long seen;
        while (micros > (seen = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, micros, seen) != seen)
        {
        }
        while (micros < (seen = Interlocked.Read(ref _min)) && Interlocked.CompareExchange(ref _min, micros, seen) != seen)
        {
        }
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0-100) in microseconds: the upper end of the bucket holding
    /// that rank, capped at the exact maximum. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(Math.Max(UpperBoundOf(i), MinMicros), MaxMicros);
        }
        return MaxMicros;
    }

    internal static int IndexOf(long micros)
    {
        if (micros < Linear) return (int)micros;
        var exponent = 63 - (int)long.LeadingZeroCount(micros); // >= 7
        var shift = exponent - 6;
        var mantissa = (int)(micros >> shift); // 64..127
        return Linear + (exponent - 7) * SubBuckets + (mantissa - SubBuckets);
    }

    internal static long UpperBoundOf(int index)
    {
        if (index < Linear) return index;
        var exponent = (index - Linear) / SubBuckets + 7;
        var mantissa = (index - Linear) % SubBuckets + SubBuckets;
        var shift = exponent - 6;
        return ((long)(mantissa + 1) << shift) - 1;
    }
}
