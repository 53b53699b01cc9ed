namespace NeverwinterDP.Tests.TestKit;

/// <summary>A directory of its own for one test (under the system temp dir), deleted with everything in it afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nwdp-test-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Already gone, or a file still open on a slow filesystem: a temp dir left behind is not a test failure.
        }
    }
}
