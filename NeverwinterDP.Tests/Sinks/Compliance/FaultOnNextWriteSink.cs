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
/// A real file-system failure that root meets too (root ignores permission bits, and <c>chattr +i</c> needs a
/// capability containers usually lack): directories the sink writes into are moved aside and a regular file
/// put in each one's place, so creating a file there fails with ENOTDIR/EEXIST. <see cref="Repair"/> puts them back.
/// </summary>
public sealed class DirectoriesReplacedByFiles
{
    private const string Aside = ".moved-aside";
    private readonly List<string> _replaced = [];

    /// <summary>Replaces <paramref name="directories"/>, or when none are given every leaf directory under <paramref name="root"/>.</summary>
    public Task Fault(string root, params string[] directories)
    {
        var targets = directories.Length > 0
            ? directories
            : Directory.GetDirectories(root, "*", SearchOption.AllDirectories).Where(d => Directory.GetDirectories(d).Length == 0).ToArray();
        if (targets.Length == 0) throw new InvalidOperationException($"no directory under {root} to replace");
        foreach (var directory in targets)
        {
            Directory.Move(directory, directory + Aside);
            File.WriteAllText(directory, "a regular file where the sink expects its directory");
            _replaced.Add(directory);
        }
        return Task.CompletedTask;
    }

    public Task Repair()
    {
        foreach (var directory in _replaced)
        {
            File.Delete(directory);
            Directory.Move(directory + Aside, directory);
        }
        _replaced.Clear();
        return Task.CompletedTask;
    }
}
