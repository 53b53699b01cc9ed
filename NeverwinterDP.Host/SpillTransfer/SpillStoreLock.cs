using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Persistence;

namespace NeverwinterDP.Host.SpillTransfer;

/// <summary>
/// A running node's hold on its data directory's spill store: an exclusive lock on <c>&lt;data&gt;/spill.lock</c>
/// (flock on Linux), taken first at start and released last at stop (or when the process dies).
/// <c>nwdp spill export</c> and <c>import</c> take the same lock, so they never move batches under a running node.
/// </summary>
public sealed class SpillStoreLock(NodeConfig config, ILogger<SpillStoreLock> log) : IHostedService, IDisposable
{
    private FileStream? _file;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _file = TryOpen(config.DataDir, out var error);
        // The store's own SQLite locks keep it consistent; what is lost is only the CLI's protection.
        if (_file is null) log.LogWarning("could not lock {File} ({Error}): another process uses this data directory; nwdp spill export/import cannot tell that this node runs",
            Path.Combine(config.DataDir, SpillStoreFile.LockFile), error);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The lock for a CLI verb (dispose to release), or an error naming the data directory and its flag when a node holds it.</summary>
    public static IDisposable TakeOrThrow(string dataDir, string flag) =>
        TryOpen(dataDir, out var error) ?? throw new SpillTransferException(
            $"flag '{flag}': a node is running on {Path.GetFullPath(dataDir)} ({Path.Combine(Path.GetFullPath(dataDir), SpillStoreFile.LockFile)} is locked: {error}); stop it first", exitCode: 1);

    private static FileStream? TryOpen(string dataDir, out string? error)
    {
        error = null;
        try
        {
            Directory.CreateDirectory(dataDir);
            return new FileStream(Path.Combine(dataDir, SpillStoreFile.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            error = e.Message;
            return null;
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}
