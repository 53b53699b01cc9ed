using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using SysProcess = System.Diagnostics.Process;

// The brief asked for NeverwinterDP.Tests.Process, but a namespace named 'Process' under NeverwinterDP.Tests
// hides System.Diagnostics.Process for every sibling namespace (Kafka/SecondProcessSpecs.cs stops compiling),
// hence 'Processes'. The test filter 'FullyQualifiedName~NeverwinterDP.Tests.Process' still selects these tests.
namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A child OS process (by default the <c>nwdp</c> executable) whose standard output and error are captured
/// line by line. Waits are bounded and their failures carry the process' state and the tail of its output.
/// Disposing kills the process tree if it is still running.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private readonly SysProcess _process;
    private readonly Lock _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly Stopwatch _age = Stopwatch.StartNew();
    private TaskCompletionSource _changed = NewSignal();
    private bool _stdoutClosed;
    private int? _exitCode;

    private ChildProcess(string name, ProcessStartInfo info, bool keepStdinOpen)
    {
        Name = name;
        CommandLine = info.FileName + " " + string.Join(' ', info.ArgumentList);
        _process = new SysProcess { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data, isStdout: true);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data, isStdout: false);
        _process.Exited += (_, _) => Changed();
        if (!_process.Start()) throw new InvalidOperationException($"could not start {CommandLine}");
        Id = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!keepStdinOpen) _process.StandardInput.Close();
    }

    /// <summary>What the test calls this process in messages (<c>node-1</c>, <c>broker</c>, ...).</summary>
    public string Name { get; }

    public string CommandLine { get; }

    public int Id { get; }

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_gate) return _stdout.ToList();
        }
    }

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_gate) return _stderr.ToList();
        }
    }

    /// <summary>The nwdp.dll the tests run: the one copied into the test output, or <c>NWDP_TEST_NWDP_DLL</c>.</summary>
    public static string NwdpDll
    {
        get
        {
            var dll = Environment.GetEnvironmentVariable("NWDP_TEST_NWDP_DLL") is { Length: > 0 } custom
                ? custom
                : Path.Combine(AppContext.BaseDirectory, "nwdp.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"nwdp.dll not found at {dll} (NeverwinterDP.Host should be copied into the test output)", dll);
        }
    }

    /// <summary>Starts <c>dotnet nwdp.dll ARGS</c>. Standard input stays open only when <paramref name="keepStdinOpen"/>.</summary>
    /// <param name="prefix">A program that execs the rest of the command line (<c>setpriv --regid GID --</c>); the process keeps its id.</param>
    public static ChildProcess StartNwdp(string name, IEnumerable<string> args, bool keepStdinOpen = false, string? workingDirectory = null,
        IReadOnlyList<string>? prefix = null)
    {
        var info = new ProcessStartInfo(prefix is { Count: > 0 } ? prefix[0] : DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (prefix is { Count: > 0 })
        {
            foreach (var a in prefix.Skip(1)) info.ArgumentList.Add(a);
            info.ArgumentList.Add(DotnetHost());
        }
        info.ArgumentList.Add(NwdpDll);
        foreach (var a in LocalAdmins.WithDataDir(args.ToList())) info.ArgumentList.Add(a);
        // The node reads these (over its config file); a developer's shell must not steer the tests.
        foreach (var variable in new[] { "NWDP_DATA", "NWDP_HTTP", "NWDP_KAFKA", "NWDP_NODE_ID", "NWDP_NODE_PORT", "NWDP_SEEDS", "NWDP_ADMIN_TOKEN" }) info.Environment.Remove(variable);
        return new ChildProcess(name, info, keepStdinOpen);
    }

    /// <summary>Any other program (a server a test needs, such as <c>gmond</c>), with its output captured.</summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory ?? Path.GetTempPath() };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Start(name, info);
    }

    /// <summary>Starts any program (a script, a tool); standard input closed.</summary>
    public static ChildProcess Start(string name, ProcessStartInfo info)
    {
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.StandardOutputEncoding = info.StandardErrorEncoding = Encoding.UTF8;
        info.UseShellExecute = false;
        return new ChildProcess(name, info, keepStdinOpen: false);
    }

    /// <summary>The <c>dotnet</c> muxer: the one running the tests if it is a muxer, else the one on PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    /// <summary>Waits for a line on standard output (from line index <paramref name="from"/>) that matches.</summary>
    /// <exception cref="TimeoutException">No such line in time, or the process closed its output first.</exception>
    public async Task<string> WaitForStdoutAsync(Func<string, bool> match, TimeSpan timeout, string what, int from = 0)
    {
        var clock = Stopwatch.StartNew();
        var index = from;
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                for (; index < _stdout.Count; index++)
                    if (match(_stdout[index])) return _stdout[index];
                if (_stdoutClosed)
                    throw new TimeoutException($"{Name}: closed its standard output before {what}. {Describe()}");
                signal = _changed.Task;
            }
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Name}: no {what} within {timeout.TotalSeconds:0.#} s. {Describe()}");
            await Task.WhenAny(signal, Task.Delay(left));
        }
    }

    /// <summary>Writes one line to standard input and returns the next line the process prints on standard output.</summary>
    public async Task<string> CommandAsync(string line, TimeSpan timeout)
    {
        int from;
        lock (_gate) from = _stdout.Count;
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
        return await WaitForStdoutAsync(_ => true, timeout, $"answer to '{line}'", from);
    }

    /// <summary>Sends a POSIX signal (<see cref="SIGTERM"/>, <see cref="SIGKILL"/>) to the process.</summary>
    public void Signal(int signal)
    {
        if (_process.HasExited) throw new InvalidOperationException($"{Name} already exited; cannot send signal {signal}. {Describe()}");
        if (kill(Id, signal) != 0)
            throw new InvalidOperationException($"kill({Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the process to exit (and its output to be read) and returns the exit code.</summary>
    /// <exception cref="TimeoutException">It still runs after <paramref name="timeout"/>.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name}: still running {timeout.TotalSeconds:0.#} s later. {Describe()}");
        }
        _exitCode = _process.ExitCode;
        return _exitCode.Value;
    }

    /// <summary>State and the tail of both outputs, for assertion messages.</summary>
    public string Describe(int stderrLines = 25, int stdoutLines = 5)
    {
        string state;
        try
        {
            state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        }
        catch (InvalidOperationException)
        {
            state = _exitCode is { } c ? $"exited with code {c}" : "disposed";
        }
        List<string> err, @out;
        lock (_gate)
        {
            err = _stderr.TakeLast(stderrLines).ToList();
            @out = _stdout.TakeLast(stdoutLines).ToList();
        }
        var sb = new StringBuilder();
        sb.Append($"[{Name}: pid {Id}, {state}, {_age.Elapsed.TotalSeconds:0.0} s old; {CommandLine}]");
        sb.Append($"\n  last {@out.Count} stdout lines:");
        foreach (var l in @out) sb.Append("\n    ").Append(l);
        sb.Append($"\n  last {err.Count} stderr lines:");
        foreach (var l in err) sb.Append("\n    ").Append(l.Length > 400 ? l[..400] + "..." : l);
        return sb.ToString();
    }

    public override string ToString() => $"{Name} (pid {Id})";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or the kill did not finish in time: nothing more a test can do.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(List<string> lines, string? line, bool isStdout)
    {
        lock (_gate)
        {
            if (line is null)
            {
                if (isStdout) _stdoutClosed = true;
            }
            else lines.Add(line);
        }
        Changed();
    }

    private void Changed()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = NewSignal();
        }
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
