using System.CommandLine;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Protocol.Tls;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>What one ops verb runs with: its flags, the node's client, the output streams.</summary>
public sealed record AdminCall(ParseResult Args, AdminClient Client, TextWriter Out, TextWriter Error, bool Json, CancellationToken Cancellation)
{
    /// <summary>The verb's <c>nwdp ...</c> name, for messages.</summary>
    public required string Verb { get; init; }

    /// <summary>The verb's positional (<c>ADDR</c>) when it takes one and it was given.</summary>
    public string? Positional { get; init; }
}

/// <summary>
/// Builds the ops verbs (pbm's commands, against a node's admin API): each gets <c>--node HOST:PORT</c>
/// (default 127.0.0.1:9110), <c>--token</c> (or <c>NWDP_ADMIN_TOKEN</c>, or the local node's <c>admin.token</c>, <c>--data</c>) and <c>--json</c>. Exit 0 on success,
/// 1 with one line naming the node when it cannot be reached or refuses, 2 for usage errors.
/// </summary>
public static class AdminVerb
{
    public static readonly Option<string?> Node = Flags.Text("--node",
        $"admin API of the node to ask (default {AdminClient.DefaultNode}); https://HOST:PORT for a node with nwdp.admin.tls (HOST:PORT is https too when a CA is given)", "[https://]HOST:PORT");
    public static readonly Option<string?> Token = Flags.Text("--token", "admin token of the node (default: env NWDP_ADMIN_TOKEN, else DIR/admin.token of --data for a node on this machine)", "TOKEN");
    public static readonly Option<string?> Data = Flags.Text("--data", "data directory of the node, when it runs on this machine: its admin.token is read from there (default: NWDP_DATA, else nwdp.node.data-dir, ./data)", "DIR");
    public static readonly Option<bool> Json = Flags.Switch("--json", "print the node's JSON answer as it is");
    public static readonly Option<string?> Ca = Flags.Text("--ca", "PEM bundle of the CA(s) that issued the https admin API's certificate (default: env NWDP_ADMIN_CA, else the system's trust store)", "FILE");
    public static readonly Option<string?> ClientCert = Flags.Text("--client-cert", "client certificate for an admin API that asks for one: PEM (with --client-key) or .pfx/.p12 (default: env NWDP_ADMIN_CLIENT_CERT)", "FILE");
    public static readonly Option<string?> ClientKey = Flags.Text("--client-key", "private key (PEM) of --client-cert (default: env NWDP_ADMIN_CLIENT_KEY; a password in NWDP_ADMIN_CLIENT_KEY_PASSWORD)", "FILE");

    /// <summary>Every flag an admin verb takes besides its own.</summary>
    public static Option[] CommonOptions => [Node, Token, Data, Json, Ca, ClientCert, ClientKey];

    /// <param name="name">The verb's last word (<c>show</c> of <c>cluster show</c>).</param>
    /// <param name="positional">Usage text of the verb's one positional (<c>ADDR</c>, <c>[ADDR]</c>); null = none allowed.</param>
    /// <param name="required">Whether the positional must be given.</param>
    public static Command Create(string name, string summary, Func<AdminCall, Task<int>> body, Option[]? options = null,
        string? positional = null, bool required = false)
    {
        var command = new Command(name, summary);
        foreach (var option in options ?? []) command.Options.Add(option);
        foreach (var option in CommonOptions) command.Options.Add(option);
        Argument<string?>? argument = null;
        if (positional is not null)
        {
            argument = new Argument<string?>("positional") { HelpName = positional, Arity = required ? ArgumentArity.ExactlyOne : ArgumentArity.ZeroOrOne };
            command.Arguments.Add(argument);
        }
        command.SetAction((parsed, cancellation) => RunAsync(parsed, body, argument, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, Func<AdminCall, Task<int>> body, Argument<string?>? positional, CancellationToken cancellation)
    {
        var verb = CliApp.NameOf(args.CommandResult.Command);
        var stdout = args.InvocationConfiguration.Output;
        var stderr = args.InvocationConfiguration.Error;
        using (var client = ClientFor(args))
        {
            try
            {
                var call = new AdminCall(args, client, stdout, stderr, args.GetValue(Json), cancellation)
                {
                    Verb = verb,
                    Positional = positional is null ? null : args.GetValue(positional),
                };
                return await body(call);
            }
            catch (AdminCallException e)
            {
                await stderr.WriteLineAsync($"nwdp {verb}: {e.Message}");
                return 1;
            }
        }
    }

    /// <summary>The client of <c>--node</c> with its token and TLS settings (<c>--ca</c>, <c>--client-cert</c>, <c>--client-key</c> or their variables).</summary>
    /// <exception cref="CliUsageException">A bad address or certificate file (named).</exception>
    public static AdminClient ClientFor(ParseResult args)
    {
        var node = args.GetValue(Node) ?? AdminClient.DefaultNode;
        try
        {
            var tls = TlsFor(args);
            return new AdminClient(node, TokenFor(node, args.GetValue(Token), args.GetValue(Data)), tls);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>The CA and client certificate given by flag or environment; null when neither is (plain http unless --node says https).</summary>
    private static AdminTls? TlsFor(ParseResult args)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var (caFlag, ca) = args.GetValue(Ca) is { } c ? ("--ca", c) : ("NWDP_ADMIN_CA", Env("NWDP_ADMIN_CA"));
        var (certFlag, cert) = args.GetValue(ClientCert) is { } f ? ("--client-cert", f) : ("NWDP_ADMIN_CLIENT_CERT", Env("NWDP_ADMIN_CLIENT_CERT"));
        var key = args.GetValue(ClientKey) ?? Env("NWDP_ADMIN_CLIENT_KEY");
        if (ca is null && cert is null)
            return key is null ? null : throw new ArgumentException("--client-key (NWDP_ADMIN_CLIENT_KEY) needs --client-cert (NWDP_ADMIN_CLIENT_CERT)");
        var cas = ca is null ? null : CertificateFiles.LoadCaBundle(Path.GetFullPath(ca), caFlag);
        var certificate = cert is null ? null
            : CertificateFiles.Load(Path.GetFullPath(cert), key is null ? null : Path.GetFullPath(key), Env("NWDP_ADMIN_CLIENT_KEY_PASSWORD"),
                new CertificateSettings(certFlag, "--client-key (NWDP_ADMIN_CLIENT_KEY)", "NWDP_ADMIN_CLIENT_KEY_PASSWORD"));
        return new AdminTls(cas, certificate);
    }

    /// <summary>The admin token to send: <c>--token</c>, else <c>NWDP_ADMIN_TOKEN</c>, else a local node's <c>admin.token</c>.</summary>
    public static string? TokenFor(string node, string? token, string? dataDir) =>
        token ?? Environment.GetEnvironmentVariable("NWDP_ADMIN_TOKEN") ?? LocalToken(node, dataDir);

    /// <summary>
    /// The token a node on this machine wrote to its data directory. Only for a loopback <c>--node</c>: the token of a
    /// local node is never sent to another machine.
    /// </summary>
    private static string? LocalToken(string node, string? dataDir)
    {
        string host;
        try
        {
            host = AdminClient.Address(node, tls: false).Host.Trim('[', ']');
        }
        catch (ArgumentException)
        {
            return null;
        }
        if (!AdminOptions.IsLoopback(host)) return null;
        return AdminToken.Read(AdminToken.CliDataDir(dataDir));
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
