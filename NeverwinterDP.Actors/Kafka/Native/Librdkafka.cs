using System.Reflection;
using System.Runtime.InteropServices;

namespace NeverwinterDP.Actors.Kafka.Native;

/// <summary>
/// Makes the process use the librdkafka that ships with Confluent.Kafka (librdkafka.redist), never a
/// system copy. Debian's librdkafka1 (2.0.2) would otherwise win the library search and consumers crash
/// on missing entry points; the redist's default Linux build needs libsasl2.so.3, which Debian 12 lacks,
/// so we fall back to its centos8 build. Call <see cref="EnsureLoaded"/> before any Kafka client is built.
/// </summary>
public static class Librdkafka
{
    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static string? _path;

    /// <summary>Path of the native library in use (after <see cref="EnsureLoaded"/>).</summary>
    public static string Path => _path ?? throw new InvalidOperationException("librdkafka is not loaded yet");

    public static void EnsureLoaded()
    {
        if (_handle != IntPtr.Zero) return;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return;
            var tried = new List<string>();
            foreach (var candidate in Candidates())
            {
                tried.Add(candidate);
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                {
                    _path = candidate;
                    Register(typeof(Confluent.Kafka.Library).Assembly, handle);
                    Register(typeof(Librdkafka).Assembly, handle);
                    _handle = handle;
                    return;
                }
            }
            throw new DllNotFoundException(
                "could not load the librdkafka bundled with Confluent.Kafka; tried: " + string.Join(", ", tried));
        }
    }

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("NWDP_LIBRDKAFKA");
        if (!string.IsNullOrEmpty(env)) yield return env;
        var baseDir = AppContext.BaseDirectory;
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        if (OperatingSystem.IsLinux())
        {
            var native = System.IO.Path.Combine(baseDir, "runtimes", rid, "native");
            yield return System.IO.Path.Combine(native, "librdkafka.so");
            yield return System.IO.Path.Combine(native, "centos8-librdkafka.so");
            yield return System.IO.Path.Combine(native, "alpine-librdkafka.so");
            yield return System.IO.Path.Combine(baseDir, "librdkafka.so");
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return System.IO.Path.Combine(baseDir, "runtimes", "osx-" + (rid.EndsWith("arm64") ? "arm64" : "x64"), "native", "librdkafka.dylib");
        }
        else if (OperatingSystem.IsWindows())
        {
            yield return System.IO.Path.Combine(baseDir, "runtimes", "win-x64", "native", "librdkafka.dll");
        }
    }

    private static void Register(Assembly assembly, IntPtr handle)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
                name.Contains("rdkafka", StringComparison.OrdinalIgnoreCase) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set for this assembly (EnsureLoaded raced in another load context); keep it.
        }
    }
}
