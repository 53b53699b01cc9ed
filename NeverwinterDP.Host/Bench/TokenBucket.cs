namespace NeverwinterDP.Host.Bench;

/// <summary>
/// Paces <c>nwdp bench --rate</c>: a token bucket filled at <see cref="Rate"/> events a second, holding at most
/// <see cref="Burst"/>. A worker reserves its batch's events before it sends; when the bucket is short it waits
/// until the events are due (reservations go into debt, so waiting workers are served in order). The cap on what
/// the bucket holds means that after a stall (the node down, answers slow) the load resumes at the rate instead of
/// catching up in one burst.
/// </summary>
public sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _last;

    /// <param name="rate">Events per second, positive.</param>
    /// <param name="burst">Most events the bucket holds (at least one batch, so a batch is never refused for ever).</param>
    public TokenBucket(double rate, double burst, TimeProvider? time = null)
    {
        if (!(rate > 0) || double.IsInfinity(rate)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "must be positive");
        if (!(burst > 0) || double.IsInfinity(burst)) throw new ArgumentOutOfRangeException(nameof(burst), burst, "must be positive");
        Rate = rate;
        Burst = burst;
        _time = time ?? TimeProvider.System;
        _last = _time.GetTimestamp();
        _tokens = burst;
    }

    public double Rate { get; }

    public double Burst { get; }

    /// <summary>Takes <paramref name="events"/> tokens and returns how long to wait before sending them (zero when they were there).</summary>
    public TimeSpan Reserve(int events)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + _time.GetElapsedTime(_last, now).TotalSeconds * Rate);
            _last = now;
            _tokens -= events;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / Rate);
        }
    }

    /// <summary>Reserves <paramref name="events"/> and waits until they are due.</summary>
    public Task WaitAsync(int events, CancellationToken cancellation)
    {
        var wait = Reserve(events);
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, cancellation);
    }
}
