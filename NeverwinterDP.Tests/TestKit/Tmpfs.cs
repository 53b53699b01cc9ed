using System.Diagnostics;
using Xunit;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A small tmpfs the test mounts (<c>mount -t tmpfs -o size=N</c>, as root) and unmounts on dispose: a data
/// directory whose disk can be filled for real. <see cref="TmpfsFactAttribute"/> skips, saying why, where mounting is impossible.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    private static readonly Lazy<string?> WhyNot = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "mounting a tmpfs needs Linux";
        try
        {
            using var probe = Mount(1);
            return null;
        }
        catch (Exception e)
        {
            return e.Message;
        }
    });

    /// <summary>Null where a tmpfs can be mounted here; else why not.</summary>
    public static string? CannotMount => WhyNot.Value;

    public static Tmpfs Mount(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nwdp-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mount -t tmpfs -o size={megabytes}m failed ({code}): {output.Trim()} (the test needs root or CAP_SYS_ADMIN)");
        }
        return new Tmpfs(path);
    }

    /// <summary>Bytes free on the filesystem now.</summary>
    public long Free => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Fills the filesystem with <paramref name="name"/> until a write fails for want of space; returns its size.</summary>
    public long Fill(string name = "filler")
    {
        var chunk = new byte[16 * 1024];
        long written = 0;
        try
        {
            using var file = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
            while (true)
            {
                file.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Smaller pieces take what is left.
        }
        try
        {
            using var file = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
            while (true)
            {
                file.Write(chunk.AsSpan(0, 512));
                written += 512;
            }
        }
        catch (IOException)
        {
        }
        return written;
    }

    /// <summary>Gives the space taken by <see cref="Fill"/> back.</summary>
    public void Unfill(string name = "filler") => File.Delete(System.IO.Path.Combine(Path, name));

    public void Dispose()
    {
        var (code, output) = Run("umount", Path);
        if (code != 0) (code, output) = Run("umount", "-l", Path); // lazily, should a file still be open
        if (code == 0) Directory.Delete(Path);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}

/// <summary>A fact that needs <see cref="Tmpfs"/>: skipped, with the reason, where a tmpfs cannot be mounted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.CannotMount is { } why) Skip = "cannot mount a tmpfs here: " + why;
    }
}
