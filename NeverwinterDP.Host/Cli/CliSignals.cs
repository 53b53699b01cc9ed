using System.Runtime.InteropServices;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// Ctrl-C and SIGTERM for a verb that runs in the foreground (broker, mirror, bench): the first one cancels
/// <c>stop</c>, so the verb ends what it is doing and exits on its own; a second Ctrl-C ends the process at once.
/// Disposing unhooks both, so a verb run in-process (tests) leaves no handler behind on a disposed token source.
/// </summary>
public sealed class CliSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Action? _onFirst;
    private readonly PosixSignalRegistration _sigterm;
    private int _interrupts;

    private CliSignals(CancellationTokenSource stop, Action? onFirst)
    {
        _stop = stop;
        _onFirst = onFirst;
        Console.CancelKeyPress += OnCancelKey;
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Stop();
        });
    }

    /// <param name="onFirst">Says what stopping will do (once, at the first signal).</param>
    public static CliSignals CancelOnStop(CancellationTokenSource stop, Action? onFirst = null) => new(stop, onFirst);

    private void OnCancelKey(object? sender, ConsoleCancelEventArgs e)
    {
        if (Volatile.Read(ref _interrupts) > 0) return; // the second Ctrl-C: the process ends
        e.Cancel = true;
        Stop();
    }

    private void Stop()
    {
        if (Interlocked.Increment(ref _interrupts) > 1) return;
        _onFirst?.Invoke();
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the verb already ended
        }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKey;
        _sigterm.Dispose();
    }
}
