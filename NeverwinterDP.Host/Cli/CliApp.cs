using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text;
using NeverwinterDP.Host.Cli.Ops;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// The <c>nwdp</c> command line on System.CommandLine: finds the verb named by the first words (<c>cluster show</c>
/// is the command <c>show</c> under <c>cluster</c>), parses its flags and runs it. Usage errors print one line
/// naming the flag and exit 2; <c>--help</c> works on every verb; <c>[suggest]</c> gives shell completions.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code of a usage error (unknown verb or flag, missing or bad value).</summary>
    public const int UsageError = 2;

    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

    /// <summary>Every verb, grouped by its first word(s).</summary>
    public static RootCommand Root { get; } = BuildRoot();

    private static RootCommand BuildRoot()
    {
        var root = new RootCommand("nwdp — NeverwinterDP, a real-time log pipeline on Akka.NET and Kafka")
        {
            RunVerb.Command,
            BrokerVerb.Command,
            MirrorVerb.Command,
            BenchVerb.Command,
            DiscoverVerb.Command,
            Group("cluster", "Cluster membership: show it and change it.", ClusterVerbs.Commands),
            Group("cluster-sharding", "Shard regions and where their shards and entities live.", ShardingVerbs.Commands),
            Group("actor", "The node's actors.", [ActorVerbs.Hierarchy]),
            RegistryVerbs.Sources,
            RegistryVerbs.Watchdog,
            Group("spill", "The spillover store.", SpillVerbs.Commands),
            StatsVerbs.Stats,
            StatsVerbs.Audit,
            Group("report", "Coverage and summary reports: what a log type's events contain.", ReportVerbs.Commands),
            LagVerbs.Lag,
            WatermarkVerbs.Watermarks,
            SearchVerbs.Search,
            AlertVerbs.Alerts,
            CheckVerb.Command,
            Group("schema", "The schema registry: its subjects, and a log type's schema.", SchemaVerbs.Commands),
            Group("keys", "The senders' API keys file: add, list and revoke keys.", KeysVerbs.Commands),
            Group("spill-key", "Keys that encrypt spilled batches at rest: make one, show a key file's id.", SpillKeyVerbs.Commands),
            ReplayVerbs.Replay,
            Group("dlq", "The dead-letter topics: what the sinks refused, and replaying it.", DlqVerbs.Commands),
        };
        foreach (var option in root.Options)
        {
            if (option is System.CommandLine.Help.HelpOption help)
            {
                help.Description = "show this help";
                // -h and --help only, as before: '/h' and '/?' stay arguments, '-?' is not a flag of nwdp.
                foreach (var alias in help.Aliases.Where(a => a != "-h").ToList()) help.Aliases.Remove(alias);
                help.Action = new TextAction(r => Help(r.CommandResult.Command));
            }
            else if (option is VersionOption version)
                version.Action = new TextAction(_ => (typeof(CliApp).Assembly.GetName().Version?.ToString() ?? "0") + "\n");
        }
        return root;
    }

    /// <summary>The first word of two-word verbs (<c>cluster</c> of <c>cluster show</c>): runs nothing itself.</summary>
    private static Command Group(string name, string description, IEnumerable<Command> verbs)
    {
        var group = new Command(name, description);
        foreach (var verb in verbs) group.Subcommands.Add(verb);
        return group;
    }

    /// <summary>
    /// Parses <paramref name="args"/> as <c>nwdp</c> would (no <c>@file</c> expansion). Tests use it to build a
    /// verb's options from a command line: <c>CliApp.Parse("bench", "--url", ...)</c>.
    /// </summary>
    public static ParseResult Parse(params string[] args) => Root.Parse(args, Parser);

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellation = default)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        if (args.Length == 0 || args[0] is "help")
        {
            await stdout.WriteAsync(Help(Root));
            return args.Length == 0 ? UsageError : 0;
        }

        var parsed = Parse(args);
        var verb = parsed.CommandResult.Command;
        if (parsed.Action is not { ClearsParseErrors: true })
        {
            if (verb.Action is null)
            {
                await stderr.WriteLineAsync($"nwdp: unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}'. Run 'nwdp --help' for the list.");
                return UsageError;
            }
            if (UsageProblem(parsed) is { } problem)
            {
                if (verb is PluginCommand) return await CheckVerb.UsageErrorAsync($"nwdp {NameOf(verb)}: {problem}", stdout);
                await stderr.WriteLineAsync($"nwdp {NameOf(verb)}: {problem}");
                await stderr.WriteLineAsync($"Run 'nwdp {NameOf(verb)} --help' for usage.");
                return UsageError;
            }
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // The verbs handle Ctrl-C and SIGTERM themselves (the node drains, the bench prints its summary).
                ProcessTerminationTimeout = null,
            }, cancellation);
        }
        catch (CliUsageException e)
        {
            await stderr.WriteLineAsync($"nwdp {NameOf(verb)}: {e.Message}");
            return UsageError;
        }
    }

    /// <summary>The first thing wrong with the command line, in nwdp's words (naming the flag); null when nothing is.</summary>
    private static string? UsageProblem(ParseResult parsed)
    {
        var verb = parsed.CommandResult.Command;
        // An unknown flag where the verb takes positionals arrives as a positional: still an unknown flag.
        var afterDoubleDash = parsed.Tokens.Select((t, i) => (t, i)).FirstOrDefault(x => x.t.Type == TokenType.DoubleDash).i is var dd and > 0 ? dd : int.MaxValue;
        var unknown = parsed.UnmatchedTokens
            .Concat(verb.Arguments.SelectMany(a => parsed.GetResult(a)?.Tokens.Where(t => IsFlag(t.Value) && IndexOf(parsed, t) < afterDoubleDash).Select(t => t.Value) ?? []))
            .FirstOrDefault();
        if (unknown is not null)
        {
            if (IsFlag(unknown)) return $"unknown flag '{unknown.Split('=')[0]}' for 'nwdp {NameOf(verb)}'";
            var takes = verb.Arguments.Count == 0 ? "" : $" (takes {verb.Arguments[0].HelpName})";
            return $"unexpected argument '{unknown}'{takes}";
        }
        var error = parsed.Errors.FirstOrDefault();
        return error?.SymbolResult switch
        {
            null => null,
            OptionResult { Tokens.Count: 0 } o when o.Option.Arity.MinimumNumberOfValues > 0 && o.IdentifierToken is not null =>
                $"flag '{o.Option.Name}' needs a value ({o.Option.HelpName})",
            ArgumentResult a when a.Tokens.Count < a.Argument.Arity.MinimumNumberOfValues => $"missing {a.Argument.HelpName} argument",
            _ => error.Message,
        };
    }

    private static int IndexOf(ParseResult parsed, Token token)
    {
        for (var i = 0; i < parsed.Tokens.Count; i++)
            if (ReferenceEquals(parsed.Tokens[i], token)) return i;
        return -1;
    }

    private static bool IsFlag(string token) => token.Length > 1 && token[0] == '-';

    /// <summary>The verb's words after <c>nwdp</c>: <c>cluster show</c>.</summary>
    public static string NameOf(Command command)
    {
        var words = new List<string>();
        for (Symbol? s = command; s is Command c and not RootCommand; s = c.Parents.FirstOrDefault())
            words.Insert(0, c.Name);
        return string.Join(' ', words);
    }

    /// <summary>Every verb that runs (the leaves under the groups), in the order of <see cref="Root"/>.</summary>
    public static IEnumerable<Command> Verbs(Command? under = null) =>
        (under ?? Root).Subcommands.SelectMany(c => c.Subcommands.Count == 0 ? [c] : c.Action is null ? Verbs(c) : [c, .. Verbs(c)]);

    /// <summary><c>--help</c>: of a verb, its usage and flags; of <c>nwdp</c> or a group, the verbs under it.</summary>
    public static string Help(Command command) => command.Subcommands.Count > 0 && command.Action is null ? Overview(command) : Usage(command);

    private static string Overview(Command group)
    {
        var lines = Verbs(group).Select(v => $"  {NameOf(v).PadRight(34)} {v.Description?.Split('\n')[0]}");
        var name = group is RootCommand ? "nwdp" : "nwdp " + NameOf(group);
        var title = group is RootCommand ? group.Description + "\n\n" : "";
        return $"{title}Usage: {name} <command> [options]\n\nCommands:\n" + string.Join('\n', lines) +
               "\n\nRun 'nwdp <command> --help' for the options of a command.\n";
    }

    private static string Usage(Command verb)
    {
        var sb = new StringBuilder();
        sb.Append("Usage: nwdp ").Append(NameOf(verb));
        if (verb.Options.Count > 0) sb.Append(" [options]");
        foreach (var argument in verb.Arguments) sb.Append(' ').Append(argument.HelpName);
        sb.AppendLine().AppendLine().AppendLine(verb.Description).AppendLine().AppendLine("Options:");
        var help = Root.Options.OfType<System.CommandLine.Help.HelpOption>().First();
        foreach (var o in verb.Options.Append(help))
        {
            var left = string.Concat(o.Aliases.Order(StringComparer.Ordinal).Select(a => a + ", ")) + o.Name + (o.ValueType == typeof(bool) ? "" : " " + o.HelpName);
            sb.Append("  ").Append(left.PadRight(30)).Append(' ').AppendLine(o.Description);
        }
        // A verb that also has verbs under it (mirror, mirror translate).
        if (verb.Subcommands.Count > 0)
        {
            sb.AppendLine().AppendLine("Commands:");
            foreach (var sub in Verbs(verb)) sb.Append("  ").Append(NameOf(sub).PadRight(34)).Append(' ').AppendLine(sub.Description?.Split('\n')[0]);
        }
        return sb.ToString();
    }

    /// <summary>Writes a text (help, version) to standard output; like the library's help, it wins over parse errors.</summary>
    private sealed class TextAction(Func<ParseResult, string> text) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.Write(text(parseResult));
            return 0;
        }
    }
}
