namespace NeverwinterDP.Host.Bench;

/// <summary>A running total (events accepted, events in files, CPU milliseconds) at a moment of the run.</summary>
public readonly record struct RateSample(TimeSpan At, double Total);

/// <summary>What a total did over the steady-state window: how much it grew and how fast.</summary>
public sealed record SteadyWindow(TimeSpan From, TimeSpan To, double Growth)
{
    public TimeSpan Length => To - From;

    /// <summary>Growth per second over the window.</summary>
    public double PerSecond => Length > TimeSpan.Zero ? Growth / Length.TotalSeconds : 0;
}

/// <summary>
/// The steady-state maths: the run's first <c>--warmup</c> (connections, JIT, the node's caches and Kafka
/// batches filling up) and the tail after the load stopped (requests in flight finishing) are left out, and a
/// total sampled through the run is read at both ends of what remains by linear interpolation between the
/// samples around each end.
/// </summary>
public static class SteadyState
{
    /// <summary>
    /// The growth of the sampled total between <paramref name="warmup"/> and <paramref name="loadEnd"/>; null when
    /// the load stopped before the warm-up ended or the samples do not reach both ends. Samples taken by
    /// different threads may come slightly out of order: they are put in time order first. A sample at the very
    /// start (0, 0) is implied.
    /// </summary>
    public static SteadyWindow? Compute(IReadOnlyList<RateSample> samples, TimeSpan warmup, TimeSpan loadEnd)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (warmup < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(warmup), "must not be negative");
        if (loadEnd <= warmup) return null;
        samples = samples.OrderBy(s => s.At).ToArray();
        var from = ValueAt(samples, warmup);
        var to = ValueAt(samples, loadEnd);
        if (from is null || to is null) return null;
        return new SteadyWindow(warmup, loadEnd, to.Value - from.Value);
    }

    /// <summary>The total at <paramref name="at"/>, interpolated; null when no sample is at or after it. Samples in time order.</summary>
    public static double? ValueAt(IReadOnlyList<RateSample> samples, TimeSpan at)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var before = new RateSample(TimeSpan.Zero, 0);
        foreach (var sample in samples)
        {
            if (sample.At >= at)
            {
                if (sample.At == before.At) return sample.Total;
                var share = (at - before.At) / (sample.At - before.At);
                return before.Total + share * (sample.Total - before.Total);
            }
            before = sample;
        }
        return null;
    }
}
