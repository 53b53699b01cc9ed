using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Cluster.Sharding;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>What one <c>nwdp</c> command printed and returned.</summary>
public sealed record CliOutcome(int ExitCode, string Stdout, string Stderr)
{
    public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout:\n{Stdout}--- stderr:\n{Stderr}";
}

/// <summary>Runs <c>nwdp</c> verbs through <see cref="CliApp.RunAsync"/> (the code path of the executable) in this process.</summary>
public static class Nwdp
{
    public static async Task<CliOutcome> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(LocalAdmins.WithDataDir(args), stdout, stderr);
        return new CliOutcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A verb that runs until cancelled (<c>cluster tail</c>); its output can be read while it runs.</summary>
    public sealed class Running(Task<int> exit, StringBuilder stdout, StringBuilder stderr, CancellationTokenSource stop) : IAsyncDisposable
    {
        public Task<int> Exit { get; } = exit;

        public string Stdout
        {
            get
            {
                lock (stdout) return stdout.ToString();
            }
        }

        public string Stderr
        {
            get
            {
                lock (stderr) return stderr.ToString();
            }
        }

        public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        /// <summary>Ctrl-C: cancels the verb and returns its exit code.</summary>
        public async Task<int> StopAsync()
        {
            await stop.CancelAsync();
            return await Exit.WaitAsync(TimeSpan.FromSeconds(20));
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await Exit.WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
            }
            stop.Dispose();
        }
    }

    public static Running Start(params string[] args)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stop = new CancellationTokenSource();
        var exit = Task.Run(() => CliApp.RunAsync(LocalAdmins.WithDataDir(args), new LockedWriter(stdout), new LockedWriter(stderr), stop.Token));
        return new Running(exit, stdout, stderr, stop);
    }

    /// <summary>A writer another thread may read (under the same lock) while the verb writes.</summary>
    private sealed class LockedWriter(StringBuilder target) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (target) target.Append(value);
        }

        public override void Write(string? value)
        {
            lock (target) target.Append(value);
        }

        public override void WriteLine(string? value)
        {
            lock (target) target.Append(value).Append('\n');
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }
    }
}
