namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>
/// Lets a sink's calls in one at a time and refuses them once the sink is disposed. The contract says calls
/// never overlap; the gate keeps a sink correct for a caller that overlaps a write and a flush anyway.
/// </summary>
internal sealed class SinkGate(ISink owner)
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private bool _closed;

    /// <summary>Waits for the sink's turn; disposing the answer ends it.</summary>
    /// <exception cref="ObjectDisposedException">The sink is disposed.</exception>
    public async Task<Turn> EnterAsync(CancellationToken cancellation)
    {
        await _semaphore.WaitAsync(cancellation).ConfigureAwait(false);
        if (_closed)
        {
            _semaphore.Release();
            throw new ObjectDisposedException(owner.GetType().FullName);
        }
        return new Turn(_semaphore);
    }

    /// <summary>The turn of the sink's DisposeAsync, after which every call is refused; null when it was disposed already.</summary>
    public async Task<Turn?> CloseAsync()
    {
        await _semaphore.WaitAsync().ConfigureAwait(false);
        if (_closed)
        {
            _semaphore.Release();
            return null;
        }
        _closed = true;
        return new Turn(_semaphore);
    }

    public sealed class Turn(SemaphoreSlim semaphore) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) semaphore.Release();
        }
    }
}
