using HdrHistogram;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// Request latencies in microseconds, kept by HdrHistogram (three significant digits, so a reported percentile
/// is within 0.1% of the true value) from 1 µs to a day; longer values count as a day. Recording is thread-safe.
/// Adds what the bench reports exactly: the smallest and largest value, which percentiles never exceed.
/// </summary>
public sealed class LatencyHistogram
{
    private static readonly long MaxTrackable = (long)TimeSpan.FromDays(1).TotalMicroseconds;

    private readonly LongConcurrentHistogram _histogram = new(1, MaxTrackable, 3);
    private long _max;
    private long _min = long.MaxValue;

    public long Count => _histogram.TotalCount;

    /// <summary>Largest value recorded, exact, in microseconds (0 when empty).</summary>
    public long MaxMicros => Count == 0 ? 0 : Interlocked.Read(ref _max);

    /// <summary>Smallest value recorded, exact, in microseconds (0 when empty).</summary>
    public long MinMicros => Count == 0 ? 0 : Interlocked.Read(ref _min);

    public void Record(TimeSpan latency) => RecordMicros((long)latency.TotalMicroseconds);

    public void RecordMicros(long micros)
    {
        micros = Math.Clamp(micros, 0, MaxTrackable);
        long seen;
        while (micros > (seen = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, micros, seen) != seen)
        {
        }
        while (micros < (seen = Interlocked.Read(ref _min)) && Interlocked.CompareExchange(ref _min, micros, seen) != seen)
        {
        }
        _histogram.RecordValue(micros);
    }

    /// <summary>The value at <paramref name="percentile"/> (0-100) in microseconds, within the exact min and max; 0 when empty.</summary>
    public long ValueAtPercentile(double percentile) =>
        Count == 0 ? 0 : Math.Clamp(_histogram.GetValueAtPercentile(Math.Clamp(percentile, 0, 100)), MinMicros, MaxMicros);
}
