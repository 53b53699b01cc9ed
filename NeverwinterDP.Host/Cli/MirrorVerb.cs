using System.CommandLine;
using System.Diagnostics;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp mirror</c>: copies topics from one Kafka cluster to another, exactly once into the target
/// (<see cref="KafkaMirror"/>). Runs in the foreground: prints <c>ready mirror NAME</c>, a progress line every
/// <c>--progress</c> on standard error, and stops on Ctrl-C or SIGTERM after committing the transaction under way.
/// </summary>
public static class MirrorVerb
{
    private static readonly Option<string?> From = Flags.Text("--from", "bootstrap servers of the source cluster (required)", "HOST:PORT,...");
    private static readonly Option<string?> To = Flags.Text("--to", "bootstrap servers of the target cluster (required)", "HOST:PORT,...");
    private static readonly Option<string?> Name = Flags.Text("--name", "the mirror's name: its transactional id and stored positions on the target (required)", "NAME");
    private static readonly Option<string?> SourceSite = Flags.Text("--source-site", "the source cluster's site name, in the lineage headers (required)", "SITE");
    private static readonly Option<string?> TargetSite = Flags.Text("--target-site", "the target cluster's site name: records that passed it are not mirrored back (required)", "SITE");
    private static readonly Option<string?> Topics = Flags.Text("--topics", "source topics to copy, a regular expression (default ^nwdp\\.logs\\..*)", "REGEX");
    private static readonly Option<string?> TargetTopic = Flags.Text("--target-topic", "target topic name: {topic} and {site} (default {topic}; {site}.{topic} keeps sites apart)", "TEMPLATE");
    private static readonly Option<string?> Start = Flags.Text("--start", "where a partition without a stored position starts: earliest (default) or latest", "earliest|latest");
    private static readonly Option<int> BatchRecords = Flags.Int("--batch", "records per transaction at most (default 10000)", "N", 10_000, 1, 1_000_000);
    private static readonly Option<TimeSpan?> Interval = Flags.Duration("--interval", "how long a transaction gathers records (default 200ms)");
    private static readonly Option<TimeSpan?> Progress = Flags.Duration("--progress", "how often a progress line is printed (default 5s)");
    private static readonly Option<string[]> FromProperties = Flags.Repeated("--from-property", "a client property for the source cluster (security.protocol=SASL_SSL, ...; repeatable)", "KEY=VALUE");
    private static readonly Option<string[]> ToProperties = Flags.Repeated("--to-property", "a client property for the target cluster (repeatable)", "KEY=VALUE");
    private static readonly Option<TimeSpan?> CheckpointInterval = Flags.Duration("--checkpoint-interval", "how often source groups' offsets are translated into nwdp.mirror.checkpoints (default 10s)");
    private static readonly Option<string?> GroupPattern = Flags.Text("--groups", "source consumer groups to checkpoint, a regular expression (default ^nwdp-pump\\..*, the pump's)", "REGEX");
    private static readonly Option<string[]> Groups = Flags.Repeated("--group", "a source consumer group to checkpoint even if the source does not list its groups (repeatable)", "GROUP");

    // nwdp mirror translate
    private static readonly Option<string?> TranslateTo = Flags.Text("--to", "bootstrap servers of the target cluster, where the checkpoints are (required)", "HOST:PORT,...");
    private static readonly Option<string?> TranslateName = Flags.Text("--name", "the mirror's name (required)", "NAME");
    private static readonly Option<string?> TranslateGroup = Flags.Text("--group", "the consumer group to translate (required)", "GROUP");
    private static readonly Option<bool> Apply = Flags.Switch("--apply", "commit the translated offsets to the group on the target (refused while the group has members there)");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print JSON");
    private static readonly Option<string[]> TranslateToProperties = Flags.Repeated("--to-property", "a client property for the target cluster (repeatable)", "KEY=VALUE");

    public static Command Command { get; } = CreateCommand();

    private static Command CreateCommand()
    {
        var command = new Command("mirror",
            "Copy topics from a source Kafka cluster to a target cluster, exactly once into the target (Kafka transactions;\n" +
            "positions kept on the target in nwdp.mirror.offsets). Keeps keys, headers, timestamps and partitions; adds the\n" +
            "headers nwdp.mirror.path and nwdp.mirror.source; never copies a record into a site it came through.")
        {
            From, To, Name, SourceSite, TargetSite, Topics, TargetTopic, Start, BatchRecords, Interval, Progress, FromProperties, ToProperties,
            CheckpointInterval, GroupPattern, Groups,
        };
        command.SetAction((parsed, cancellation) => RunAsync(parsed, cancellation));
        foreach (var verb in Ops.MirrorAdminVerbs.Commands) command.Subcommands.Add(verb); // pause, resume, status: the cluster's mirrors
        var translate = new Command("translate",
            "Print a source consumer group's offsets translated to the target cluster (from the mirror's checkpoints in\n" +
            "nwdp.mirror.checkpoints there); with --apply commit them to the group on the target, for a consumer that fails over.")
        {
            TranslateTo, TranslateName, TranslateGroup, Apply, Json, TranslateToProperties,
        };
        translate.SetAction((parsed, cancellation) => TranslateAsync(parsed, cancellation));
        command.Subcommands.Add(translate);
        return command;
    }

    private static string Required(ParseResult args, Option<string?> option) =>
        args.GetValue(option) is { Length: > 0 } value ? value : throw new CliUsageException($"flag '{option.Name}' is required");

    private static Dictionary<string, string> Properties(ParseResult args, Option<string[]> option)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in args.GetValue(option)!)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new CliUsageException($"flag '{option.Name}' must be KEY=VALUE, got '{pair}'");
            properties[pair[..eq]] = pair[(eq + 1)..];
        }
        return properties;
    }

    public static async Task<int> RunAsync(ParseResult args, CancellationToken cancellation)
    {
        var start = args.GetValue(Start) ?? "earliest";
        if (start is not ("earliest" or "latest")) throw new CliUsageException($"flag '--start' must be earliest or latest, got '{start}'");
        var options = new MirrorOptions
        {
            Name = Required(args, Name),
            SourceSite = Required(args, SourceSite),
            TargetSite = Required(args, TargetSite),
            TopicPattern = args.GetValue(Topics) ?? @"^nwdp\.logs\..*",
            TargetTopic = args.GetValue(TargetTopic) ?? "{topic}",
            StartAtBeginning = start == "earliest",
            MaxBatchRecords = args.GetValue(BatchRecords),
            BatchInterval = args.GetValue(Interval) ?? TimeSpan.FromMilliseconds(200),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        KafkaClients source, target;
        try
        {
            source = new KafkaClients(Required(args, From), Properties(args, FromProperties));
            target = new KafkaClients(Required(args, To), Properties(args, ToProperties));
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        var every = args.GetValue(Progress) ?? TimeSpan.FromSeconds(5);
        var checkpointOptions = new MirrorCheckpointOptions
        {
            Interval = args.GetValue(CheckpointInterval) ?? TimeSpan.FromSeconds(10),
            GroupPattern = args.GetValue(GroupPattern) ?? @"^nwdp-pump\..*",
            Groups = args.GetValue(Groups)!,
        };
        try
        {
            checkpointOptions.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message.StartsWith("group pattern", StringComparison.Ordinal) ? "flag '--groups': " + e.Message : "flag '--checkpoint-interval': " + e.Message);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var signals = CliSignals.CancelOnStop(stop);

        var mirror = new KafkaMirror(options, source, target, line => Console.Error.WriteLine("nwdp " + line));
        Console.Error.WriteLine($"nwdp mirror {options.Name}: {options.SourceSite} ({source}) -> {options.TargetSite} ({target}), topics {options.TopicPattern} as {options.TargetTopic}");
        var run = mirror.RunAsync(stop.Token);
        var checkpoints = new MirrorCheckpoints(options, checkpointOptions, source, target, line => Console.Error.WriteLine("nwdp " + line));
        var checkpointing = checkpoints.RunAsync(stop.Token);
        Console.Out.WriteLine($"ready mirror {options.Name}");
        Console.Out.Flush();

        var clock = Stopwatch.StartNew();
        long lastCopied = 0;
        var lastAt = TimeSpan.Zero;
        while (await Task.WhenAny(run, Task.Delay(every, CancellationToken.None)) != run)
        {
            var status = mirror.Status;
            var rate = (status.Mirrored - lastCopied) / Math.Max(0.001, (clock.Elapsed - lastAt).TotalSeconds);
            (lastCopied, lastAt) = (status.Mirrored, clock.Elapsed);
            Console.Error.WriteLine($"nwdp mirror {options.Name}: {status.Mirrored} copied ({rate:0}/s), {status.Skipped} skipped (came through {options.TargetSite}), " +
                                    $"lag {status.Lag} records over {status.Partitions.Count} partitions, {status.Transactions} transactions, {status.Aborts} aborted, " +
                                    $"{checkpoints.Status.Written} checkpoints of {checkpoints.Status.Groups} groups" +
                                    (status.LastError is { } error ? $"; last error: {error}" : ""));
        }
        // The mirror stopped (asked to, or on an error): so do the checkpoints.
        stop.Cancel();
        await checkpointing;
        try
        {
            await run;
        }
        catch (Exception e) when (e is Confluent.Kafka.KafkaException or InvalidOperationException)
        {
            Console.Error.WriteLine($"nwdp mirror {options.Name}: stopped on an error retrying cannot mend: {e.Message}");
            return 1;
        }
        var end = mirror.Status;
        Console.Error.WriteLine($"nwdp mirror {options.Name}: {checkpoints.Status.Written} checkpoints written");
        Console.Error.WriteLine($"nwdp mirror {options.Name}: stopped; {end.Mirrored} copied, {end.Skipped} skipped, {end.Transactions} transactions, {end.Aborts} aborted");
        return 0;
    }

    public static async Task<int> TranslateAsync(ParseResult args, CancellationToken cancellation)
    {
        var name = Required(args, TranslateName);
        var group = Required(args, TranslateGroup);
        KafkaClients target;
        try
        {
            target = new KafkaClients(Required(args, TranslateTo), Properties(args, TranslateToProperties));
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        var output = args.InvocationConfiguration.Output;
        var errors = args.InvocationConfiguration.Error;
        var apply = args.GetValue(Apply);
        var json = args.GetValue(Json);
        List<MirrorCheckpoint> checkpoints;
        try
        {
            checkpoints = await Task.Run(() => MirrorTranslation.Read(target, name, group), cancellation);
        }
        catch (Confluent.Kafka.KafkaException e)
        {
            errors.WriteLine($"nwdp mirror translate: reading {MirrorCheckpointOptions.DefaultTopic} on {target} failed: {e.Error.Reason}");
            return 1;
        }
        if (checkpoints.Count == 0)
        {
            errors.WriteLine($"nwdp mirror translate: no checkpoints of group {group} by mirror {name} in {MirrorCheckpointOptions.DefaultTopic} on {target} " +
                                    "(is the mirror running, and does it checkpoint this group: --groups / --group?)");
            return 1;
        }
        string? refused = null;
        if (apply)
        {
            try
            {
                await Task.Run(() => MirrorTranslation.Apply(target, group, checkpoints), cancellation);
            }
            catch (MirrorTranslationException e)
            {
                refused = e.Message;
            }
            catch (Confluent.Kafka.KafkaException e)
            {
                refused = $"committing to group {group} failed: {e.Error.Reason}";
            }
        }
        if (json)
        {
            output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["mirror"] = name,
                ["group"] = group,
                ["applied"] = apply && refused is null,
                ["error"] = refused,
                ["partitions"] = checkpoints,
            }));
        }
        else
        {
            output.WriteLine($"mirror {name}, group {group}: {checkpoints.Count} partitions");
            foreach (var c in checkpoints)
            {
                var at = DateTimeOffset.FromUnixTimeMilliseconds(c.AtMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                output.WriteLine($"  {c.Topic}/{c.Partition} {c.SourceOffset} -> {c.TargetTopic}/{c.TargetPartition} {c.TargetOffset}  (as of {at})" +
                                      (c.Ahead > 0 ? $"  {c.Ahead} records read on the source were not copied yet: read again if the mirror still copies them" : ""));
            }
            if (apply && refused is null) output.WriteLine($"committed {checkpoints.Count} offsets to group {group} on {target}");
        }
        if (refused is not null)
        {
            errors.WriteLine($"nwdp mirror translate: {refused}");
            return 1;
        }
        return 0;
    }
}
