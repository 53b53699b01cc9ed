namespace NeverwinterDP.Host.Cli;

/// <summary>Finds the verb named by the first words of the command line, parses its flags and runs it.</summary>
public static class CliApp
{
    public static IReadOnlyList<VerbSpec> Verbs { get; } =
    [
        RunVerb.Spec,
        BrokerVerb.Spec,
        BenchVerb.Spec,
        .. Ops.ClusterVerbs.Specs,
        .. Ops.ShardingVerbs.Specs,
        Ops.ActorVerbs.Hierarchy,
        .. Ops.RegistryVerbs.Specs,
        .. Ops.SpillVerbs.Specs,
        Ops.StatsVerbs.Stats,
        Ops.StatsVerbs.Audit,
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellation = default)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            await stdout.WriteAsync(Overview());
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version")
        {
            await stdout.WriteLineAsync(typeof(CliApp).Assembly.GetName().Version?.ToString() ?? "0");
            return 0;
        }

        // The longest verb name that matches the leading words ("cluster show" before "cluster").
        var verb = Verbs
            .Select(v => (Verb: v, Words: v.Name.Split(' ')))
            .Where(v => v.Words.Length <= args.Length && v.Words.SequenceEqual(args.Take(v.Words.Length)))
            .OrderByDescending(v => v.Words.Length)
            .FirstOrDefault();
        if (verb.Verb is null)
        {
            await stderr.WriteLineAsync($"nwdp: unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}'. Run 'nwdp --help' for the list.");
            return 2;
        }

        CliArgs parsed;
        try
        {
            parsed = CliArgs.Parse(args.Skip(verb.Words.Length).ToArray(), verb.Verb);
        }
        catch (CliUsageException e)
        {
            await stderr.WriteLineAsync($"nwdp {verb.Verb.Name}: {e.Message}");
            await stderr.WriteLineAsync($"Run 'nwdp {verb.Verb.Name} --help' for usage.");
            return 2;
        }
        if (parsed.Switch("--help"))
        {
            await stdout.WriteAsync(verb.Verb.Usage());
            return 0;
        }
        try
        {
            return verb.Verb.RunWith is { } runWith
                ? await runWith(parsed, stdout, stderr, cancellation)
                : await verb.Verb.Run(parsed, cancellation);
        }
        catch (CliUsageException e)
        {
            await stderr.WriteLineAsync($"nwdp {verb.Verb.Name}: {e.Message}");
            return 2;
        }
    }

    public static string Overview()
    {
        var lines = Verbs.Select(v => $"  {v.Name.PadRight(34)} {v.Summary.Split('\n')[0]}");
        return "nwdp — NeverwinterDP, a real-time log pipeline on Akka.NET and Kafka\n\nUsage: nwdp <command> [options]\n\nCommands:\n"
               + string.Join('\n', lines) + "\n\nRun 'nwdp <command> --help' for the options of a command.\n";
    }
}
