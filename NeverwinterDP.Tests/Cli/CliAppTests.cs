using NeverwinterDP.Host.Bench;
using NeverwinterDP.Host.Cli;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Cli;

/// <summary>The <c>nwdp</c> command line itself: verbs, help, usage errors, completions (no node needed).</summary>
public sealed class CliAppTests
{
    private static readonly string[] EveryVerb =
    [
        "run", "broker", "mirror", "mirror pause", "mirror resume", "mirror status", "mirror translate", "bench", "cluster show", "cluster status", "cluster leader", "cluster leave", "cluster join", "cluster down",
        "cluster down-unreachable", "cluster tail", "cluster-sharding regions", "cluster-sharding region-stats", "cluster-sharding shard-stats",
        "actor hierarchy", "sources", "watchdog", "spill status", "spill check", "spill export", "spill import", "stats", "audit", "report summary", "report keys", "report values", "lag", "watermarks", "search", "check",
        "schema list", "schema get", "schema set", "keys add", "keys list", "keys revoke", "spill-key new", "spill-key id",
        "replay", "dlq list", "dlq show", "dlq replay", "alerts", "discover",
    ];

    [Fact]
    public async Task Mirror_refuses_bad_flags_naming_them()
    {
        var missing = await Nwdp.RunAsync("mirror", "--to", "127.0.0.1:1", "--name", "m", "--source-site", "a", "--target-site", "b");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("flag '--from' is required", missing.Stderr);
        var same = await Nwdp.RunAsync("mirror", "--from", "127.0.0.1:1", "--to", "127.0.0.1:2", "--name", "m", "--source-site", "a", "--target-site", "a");
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("source and target site are both 'a'", same.Stderr);
        var property = await Nwdp.RunAsync("mirror", "--from", "127.0.0.1:1", "--to", "127.0.0.1:2", "--name", "m", "--source-site", "a", "--target-site", "b", "--to-property", "oops");
        Assert.Equal(2, property.ExitCode);
        Assert.Contains("flag '--to-property' must be KEY=VALUE, got 'oops'", property.Stderr);

        // The cluster's mirrors: pause and resume take the mirror's name; the foreground mirror's help lists them.
        var noName = await Nwdp.RunAsync("mirror", "pause", "--node", "127.0.0.1:1");
        Assert.True(noName.ExitCode == 2, noName.ToString());
        Assert.Contains("nwdp mirror pause: missing NAME argument", noName.Stderr);
        var extra = await Nwdp.RunAsync("mirror", "resume", "a", "b", "--node", "127.0.0.1:1");
        Assert.True(extra.ExitCode == 2, extra.ToString());
        Assert.Contains("nwdp mirror resume: unexpected argument 'b'", extra.Stderr);
        var badNode = await Nwdp.RunAsync("mirror", "status", "--node", "nowhere");
        Assert.True(badNode.ExitCode == 2, badNode.ToString());
        Assert.Contains("flag '--node'", badNode.Stderr);
        var unknown = await Nwdp.RunAsync("mirror", "status", "--bogus");
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("unknown flag '--bogus' for 'nwdp mirror status'", unknown.Stderr);
        var help = await Nwdp.RunAsync("mirror", "--help");
        Assert.StartsWith("Usage: nwdp mirror [options]", help.Stdout);
        Assert.Contains("\nCommands:\n  mirror pause ", help.Stdout);
        // Nobody answers at the node given: exit 1, naming it.
        var unreachable = await Nwdp.RunAsync("mirror", "status", "--node", "127.0.0.1:1");
        Assert.True(unreachable.ExitCode == 1, unreachable.ToString());
        Assert.StartsWith("nwdp mirror status: ", unreachable.Stderr);
    }

    [Fact]
    public async Task Mirror_translate_is_a_verb_under_mirror_and_refuses_bad_flags_naming_them()
    {
        var missing = await Nwdp.RunAsync("mirror", "translate", "--to", "127.0.0.1:1", "--name", "m");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("flag '--group' is required", missing.Stderr);
        var property = await Nwdp.RunAsync("mirror", "translate", "--to", "127.0.0.1:1", "--name", "m", "--group", "g", "--to-property", "oops");
        Assert.Equal(2, property.ExitCode);
        Assert.Contains("flag '--to-property' must be KEY=VALUE, got 'oops'", property.Stderr);
        var unknown = await Nwdp.RunAsync("mirror", "translate", "--to", "127.0.0.1:1", "--name", "m", "--group", "g", "--from", "x");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown flag '--from' for 'nwdp mirror translate'", unknown.Stderr);
        // The mirror itself still runs from 'nwdp mirror' with its flags, and checks its new ones.
        var groups = await Nwdp.RunAsync("mirror", "--from", "127.0.0.1:1", "--to", "127.0.0.1:2", "--name", "m", "--source-site", "a", "--target-site", "b", "--groups", "(");
        Assert.Equal(2, groups.ExitCode);
        Assert.Contains("flag '--groups': group pattern '(' is not a regular expression", groups.Stderr);
        var help = await Nwdp.RunAsync("mirror", "--help");
        Assert.Contains("--checkpoint-interval", help.Stdout);
        Assert.Contains("\n  mirror translate ", help.Stdout);
    }

    [Fact]
    public async Task Help_lists_every_verb_and_every_verb_has_help()
    {
        var overview = await Nwdp.RunAsync("--help");
        Assert.True(overview.ExitCode == 0, overview.ToString());
        Assert.StartsWith("nwdp — NeverwinterDP", overview.Stdout);
        foreach (var verb in EveryVerb)
            Assert.Contains(overview.Stdout.Split('\n'), l => l.StartsWith("  " + verb + " ", StringComparison.Ordinal));
        Assert.Equal(EveryVerb.Order(), CliApp.Verbs().Select(CliApp.NameOf).Order());

        foreach (var verb in EveryVerb)
        {
            var help = await Nwdp.RunAsync([.. verb.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, $"nwdp {verb} --help: {help}");
            Assert.StartsWith($"Usage: nwdp {verb}", help.Stdout);
            Assert.Contains("\n  -h, --help ", help.Stdout);
            if (verb is not ("run" or "broker" or "mirror" or "bench"))
                Assert.Contains("--json", help.Stdout);
        }

        // No verb: the overview, as a usage error; 'help' and '-h' as asked for.
        var none = await Nwdp.RunAsync();
        Assert.Equal((2, overview.Stdout), (none.ExitCode, none.Stdout));
        Assert.Equal((0, overview.Stdout), ((await Nwdp.RunAsync("help")).ExitCode, (await Nwdp.RunAsync("-h")).Stdout));
        var group = await Nwdp.RunAsync("cluster", "--help");
        Assert.True(group.ExitCode == 0, group.ToString());
        Assert.Contains(group.Lines, l => l.StartsWith("cluster down-unreachable ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("bench --url http://127.0.0.1:1 --bogus")]
    [InlineData("bench --url http://127.0.0.1:1 --bogus=3")]
    [InlineData("run --bogus 1")]
    [InlineData("cluster leave --bogus")]
    [InlineData("cluster show -x")]
    public async Task An_unknown_flag_is_a_usage_error_that_names_it(string commandLine)
    {
        var args = commandLine.Split(' ');
        var outcome = await Nwdp.RunAsync(args);
        var verb = string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')));
        var flag = args.Last(a => a.StartsWith('-')).Split('=')[0];

        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        Assert.Equal("", outcome.Stdout);
        Assert.StartsWith($"nwdp {verb}: unknown flag '{flag}' for 'nwdp {verb}'", outcome.Stderr);
        Assert.Contains($"Run 'nwdp {verb} --help' for usage.", outcome.Stderr);
    }

    [Theory]
    [InlineData("bench --url", "--url", "URL")]
    [InlineData("bench --url http://127.0.0.1:1 --events", "--events", "N")]
    [InlineData("run --data", "--data", "DIR")]
    [InlineData("cluster-sharding shard-stats -t", "--type", "TYPE")]
    [InlineData("stats --since", "--since", "DURATION")]
    public async Task A_flag_without_its_value_is_a_usage_error_that_names_it(string commandLine, string flag, string valueName)
    {
        var outcome = await Nwdp.RunAsync(commandLine.Split(' '));

        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        Assert.Contains($"flag '{flag}' needs a value ({valueName})", outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
    }

    [Fact]
    public async Task Unknown_verbs_missing_and_extra_positionals_are_usage_errors()
    {
        var unknown = await Nwdp.RunAsync("frobnicate", "--now");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("nwdp: unknown command 'frobnicate'. Run 'nwdp --help' for the list.\n", unknown.Stderr);
        var half = await Nwdp.RunAsync("cluster");
        Assert.Equal(2, half.ExitCode);
        Assert.Contains("unknown command 'cluster'", half.Stderr);

        var missing = await Nwdp.RunAsync("cluster", "join");
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.StartsWith("nwdp cluster join: missing ADDR argument", missing.Stderr);
        var extra = await Nwdp.RunAsync("cluster", "down", "a:1", "b:2");
        Assert.True(extra.ExitCode == 2, extra.ToString());
        Assert.StartsWith("nwdp cluster down: unexpected argument 'b:2' (takes ADDR)", extra.Stderr);
        var none = await Nwdp.RunAsync("sources", "x");
        Assert.True(none.ExitCode == 2, none.ToString());
        Assert.StartsWith("nwdp sources: unexpected argument 'x'", none.Stderr);
    }

    [Fact]
    public void A_repeated_flag_keeps_its_last_value_and_repeatable_flags_keep_all()
    {
        var options = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "http://n:1", "--batch", "7", "--batch=9", "-q", "--events", "5"));
        Assert.Equal(9, options.Batch);
        Assert.Equal(5, options.Events);

        var config = RunVerb.LoadConfig(CliApp.Parse("run", "--data", "/tmp/a", "--data", "/tmp/b", "--set", "nwdp.pump.enabled=false", "--set", "nwdp.node.id = n7"));
        Assert.Equal("/tmp/b", config.DataDir);
        Assert.False(config.PumpEnabled);
        Assert.Equal("n7", config.NodeId);
    }

    [Fact]
    public async Task Flag_validation_in_run_names_the_flag()
    {
        foreach (var (args, text) in new[]
                 {
                     (new[] { "run", "--node-port", "x" }, "flag '--node-port' must be a port number (0 = any free port), got 'x'"),
                     (["run", "--roles", "ingress,cook"], "flag '--roles': unknown role 'cook'"),
                     (["run", "--set", "novalue"], "flag '--set' takes KEY=VALUE, got 'novalue'"),
                     (["run", "--http", "nonsense"], "flag '--http'"),
                 })
        {
            var outcome = await Nwdp.RunAsync(args);
            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            Assert.StartsWith("nwdp run: ", outcome.Stderr);
            Assert.Contains(text, outcome.Stderr);
        }
    }

    [Fact]
    public async Task The_suggest_directive_completes_verbs_and_flags()
    {
        var verbs = await Nwdp.RunAsync("[suggest:11]", "nwdp cluste");
        Assert.True(verbs.ExitCode == 0, verbs.ToString());
        Assert.Equal(["cluster", "cluster-sharding"], verbs.Lines);

        var flags = await Nwdp.RunAsync("[suggest:16]", "nwdp bench --con");
        Assert.Equal(["--concurrency"], flags.Lines);
    }
}
