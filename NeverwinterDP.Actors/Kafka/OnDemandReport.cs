namespace NeverwinterDP.Actors.Kafka;

/// <summary>
/// A report read from Kafka only when someone asks, at most once per <paramref name="interval"/>, one computation at a
/// time: callers within the interval get the last one, callers during a computation share it. The consumer lag and the
/// mirror lag are computed this way, so a dashboard polled by many browsers costs Kafka one read per interval.
/// </summary>
/// <param name="compute">The computation, on the thread pool; its token is cancelled by <see cref="DisposeAsync"/>.</param>
public sealed class OnDemandReport<T>(Func<CancellationToken, T> compute, TimeSpan interval, TimeProvider clock) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private Task<T>? _last;
    private long _lastStarted;
    private bool _disposed;

    public TimeSpan Interval => interval;

    /// <summary>The last report when it is younger than the interval (or <paramref name="fresh"/> is false and one is running), else a new one.</summary>
    public Task<T> GetAsync(CancellationToken cancellation = default, bool fresh = false)
    {
        Task<T> current;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = clock.GetTimestamp();
            if (_last is null || (_last.IsCompleted && (fresh || clock.GetElapsedTime(_lastStarted, now) >= interval)))
            {
                _lastStarted = now;
                var stop = _stop.Token;
                _last = Task.Run(() => compute(stop), CancellationToken.None);
            }
            current = _last;
        }
        return current.WaitAsync(cancellation);
    }

    /// <summary>Cancels a computation under way and waits for it; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            running = _last;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (running is not null) await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
