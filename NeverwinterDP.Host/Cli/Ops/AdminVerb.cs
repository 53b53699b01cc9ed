using System.Runtime.InteropServices;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>What one ops verb runs with: its flags, the node's client, the output streams.</summary>
public sealed record AdminCall(CliArgs Args, AdminClient Client, TextWriter Out, TextWriter Error, bool Json, CancellationToken Cancellation)
{
    /// <summary>The verb's <c>nwdp ...</c> name, for messages.</summary>
    public required string Verb { get; init; }
}

/// <summary>
/// Builds the ops verbs (pbm's commands, against a node's admin API): each gets <c>--node HOST:PORT</c>
/// (default 127.0.0.1:9110), <c>--token</c> (or <c>NWDP_ADMIN_TOKEN</c>) and <c>--json</c>. Exit 0 on success,
/// 1 with one line naming the node when it cannot be reached or refuses, 2 for usage errors.
/// </summary>
public static class AdminVerb
{
    public static readonly OptionSpec[] Common =
    [
        new("--node", $"admin API of the node to ask (default {AdminClient.DefaultNode})", "HOST:PORT"),
        new("--token", "admin token of the node (default: env NWDP_ADMIN_TOKEN)", "TOKEN"),
        new("--json", "print the node's JSON answer as it is", IsSwitch: true),
    ];

    /// <param name="positionals">Usage text of the positionals (<c>ADDR</c>, <c>[ADDR]</c>); null = none allowed.</param>
    /// <param name="maxPositionals">How many positionals the verb takes.</param>
    public static VerbSpec Create(string name, string summary, Func<AdminCall, Task<int>> body, OptionSpec[]? options = null,
        string? positionals = null, int minPositionals = 0, int maxPositionals = 0)
    {
        async Task<int> RunWith(CliArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
        {
            if (args.Positionals.Count > maxPositionals)
                throw new CliUsageException($"unexpected argument '{args.Positionals[maxPositionals]}'{(positionals is null ? "" : $" (takes {positionals})")}");
            if (args.Positionals.Count < minPositionals)
                throw new CliUsageException($"missing {positionals} argument");
            var node = args.Get("--node") ?? AdminClient.DefaultNode;
            var token = args.Get("--token") ?? Environment.GetEnvironmentVariable("NWDP_ADMIN_TOKEN");
            AdminClient client;
            try
            {
                client = new AdminClient(node, token);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message);
            }
            using (client)
            {
                try
                {
                    return await body(new AdminCall(args, client, stdout, stderr, args.Switch("--json"), cancellation) { Verb = name });
                }
                catch (AdminCallException e)
                {
                    await stderr.WriteLineAsync($"nwdp {name}: {e.Message}");
                    return 1;
                }
            }
        }

        return new VerbSpec(name, summary, [.. options ?? [], .. Common], RunOnConsoleAsync, positionals)
        {
            RunWith = RunWith,
        };

        // From the console: Ctrl-C and SIGTERM end a streaming verb (cluster tail) cleanly.
        async Task<int> RunOnConsoleAsync(CliArgs args, CancellationToken cancellation)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
                {
                    ctx.Cancel = true;
                    stop.Cancel();
                });
                return await RunWith(args, Console.Out, Console.Error, stop.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }
    }

    /// <summary>Prints the node's JSON as it sent it (one object, one line).</summary>
    public static async Task<int> PrintJsonAsync(AdminCall call, string json)
    {
        await call.Out.WriteLineAsync(json.Trim());
        return 0;
    }

    /// <summary>Rows as columns separated by <c> | </c>, padded to the widest cell.</summary>
    public static async Task WriteTableAsync(TextWriter output, string[] header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join(" | ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        await output.WriteLineAsync(Line(header));
        foreach (var row in rows) await output.WriteLineAsync(Line(row));
    }
}
