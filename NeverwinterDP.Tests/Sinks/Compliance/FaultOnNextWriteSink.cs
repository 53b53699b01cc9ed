using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;

namespace NeverwinterDP.Tests.Sinks.Compliance;

/// <summary>
/// Passes every call to the sink it wraps; when <see cref="Arm"/> was called, the next write runs inside a
/// real fault of the store (<c>fault</c> sets it up, <c>repair</c> removes it as soon as the write returned),
/// so the write fails for real and the framework's retry finds the store repaired. For stores whose faults
/// do not heal by themselves (a local directory): the sink sees the true failure, nothing is simulated.
/// </summary>
public sealed class FaultOnNextWriteSink(ISink inner) : ISink
{
    private (Func<Task> Fault, Func<Task> Repair)? _armed;

    /// <summary>True once an armed write ran (and so the fault was seen and repaired).</summary>
    public bool FaultDone { get; private set; }

    public ISink Inner => inner;

    public string Name => inner.Name;

    public void Arm(Func<Task> fault, Func<Task> repair) => _armed = (fault, repair);

    public Task OpenAsync(CancellationToken cancellation) => inner.OpenAsync(cancellation);

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        if (_armed is not { } armed) return await inner.WriteAsync(batch, cancellation);
        _armed = null;
        await armed.Fault();
        try
        {
            return await inner.WriteAsync(batch, cancellation);
        }
        finally
        {
            await armed.Repair();
            FaultDone = true;
        }
    }

    public Task FlushAsync(CancellationToken cancellation) => inner.FlushAsync(cancellation);

    public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => inner.CheckHealthAsync(cancellation);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// The immutable attribute (<c>chattr +i</c>, ext4/xfs/btrfs): a directory carrying it refuses new entries with
/// EPERM even for root, which the tests run as and which ignores permission bits. A real file-system failure.
/// </summary>
public static class ImmutableAttribute
{
    public static Task SetAsync(string path, bool on) => RunAsync("chattr", "-R", on ? "+i" : "-i", path);

    private static async Task RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{command} did not start");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Trim()} " +
                "(the fault needs a file system with the immutable attribute, e.g. ext4, and CAP_LINUX_IMMUTABLE)");
        }
    }
}
