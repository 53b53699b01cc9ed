using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Cli;

/// <summary>
/// <c>nwdp check</c> as Nagios runs it, <c>nwdp lag</c> and the lag gauges, against a node in this process whose pump is
/// off (so what ingress takes stays as lag of the files sink).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class CheckVerbSpecs(ITestOutputHelper output)
{
    // The plugin line of the Monitoring Plugins development guidelines: 'SERVICE STATUS - text | perfdata', perfdata being
    // space-separated 'label'=value[UOM];[warn];[crit];[min];[max].
    private static readonly Regex PluginLine = new(@"^(?<service>[A-Z_]+) (?<status>OK|WARNING|CRITICAL|UNKNOWN) - (?<text>[^|]+?)(?: \| (?<perf>.+))?$");
    private static readonly Regex PerfDatum = new(@"^(?<label>'[^'=]+'|[^'= ]+)=(?<value>-?[0-9]+(?:\.[0-9]+)?)(?<uom>s|ms|us|%|B|KB|MB|TB|c)?(?:;(?<warn>[^; ]*)(?:;(?<crit>[^; ]*)(?:;(?<min>[^; ]*)(?:;(?<max>[^; ]*))?)?)?)?$");
    private static readonly Regex CactiLine = new(@"^[A-Za-z0-9_]+:-?[0-9]+(?:\.[0-9]+)?(?: [A-Za-z0-9_]+:-?[0-9]+(?:\.[0-9]+)?)*$");

    private sealed record Plugin(int Exit, string Status, string Text, Dictionary<string, Match> Perf);

    private async Task<Plugin> CheckAsync(params string[] args)
    {
        var outcome = await Nwdp.RunAsync(["check", .. args]);
        output.WriteLine($"nwdp check {string.Join(' ', args)} -> {outcome}");
        var line = Assert.Single(outcome.Lines);
        var m = PluginLine.Match(line);
        Assert.True(m.Success, $"not a plugin line: {line}");
        var perf = new Dictionary<string, Match>();
        if (m.Groups["perf"].Success)
            foreach (var datum in m.Groups["perf"].Value.Split(' '))
            {
                var d = PerfDatum.Match(datum);
                Assert.True(d.Success, $"not a perfdata item: {datum}");
                perf[d.Groups["label"].Value.Trim('\'')] = d;
            }
        Assert.Equal(Array.IndexOf(["OK", "WARNING", "CRITICAL", "UNKNOWN"], m.Groups["status"].Value), outcome.ExitCode);
        return new Plugin(outcome.ExitCode, m.Groups["status"].Value, m.Groups["text"].Value, perf);
    }

    private static double Value(Plugin p, string label) => double.Parse(p.Perf[label].Groups["value"].Value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Every_check_prints_one_plugin_line_and_exits_with_its_status()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off", ["nwdp.pump.lag-interval"] = "0s" });
        var at = new[] { "--node", node.AdminNode };
        // The files sink's health check wants its directory, which a pump would create (this node's is off).
        Directory.CreateDirectory(node.FilesDir);

        // Nothing sent yet: every check is OK with its defaults.
        foreach (var check in new[] { "ingress", "bus", "sinks", "lag", "watchdog", "spill" })
        {
            var ok = await CheckAsync([check, .. at]);
            Assert.Equal(("OK", 0), (ok.Status, ok.Exit));
        }
        var ingress = await CheckAsync(["ingress", .. at]);
        Assert.Equal("80", ingress.Perf["budget_used"].Groups["warn"].Value);
        Assert.Equal("95", ingress.Perf["budget_used"].Groups["crit"].Value);
        Assert.Equal("%", ingress.Perf["budget_used"].Groups["uom"].Value);
        var sinks = await CheckAsync(["sinks", .. at]);
        Assert.Equal(0, Value(sinks, "unhealthy_sinks"));
        Assert.Contains("files", sinks.Text);

        // Events the pump does not take are lag of the files sink, with an age.
        const int n = 25;
        var post = await node.PostNdjsonAsync(Enumerable.Range(0, n).Select(i => $$"""{"msg":"m-{{i}}","host":"h1","type":"lagcheck"}"""));
        Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
        await Task.Delay(50);
        var lag = await Nwdp.RunAsync("lag", "--sink", "files", "--json", "--node", node.AdminNode);
        Assert.True(lag.ExitCode == 0, lag.ToString());
        var files = JsonDocument.Parse(lag.Stdout).RootElement.GetProperty("sinks").EnumerateArray().Single();
        Assert.Equal("files", files.GetProperty("sink").GetString());
        var lagcheck = files.GetProperty("partitions").EnumerateArray().Where(p => p.GetProperty("topic").GetString() == "nwdp.logs.lagcheck").ToList();
        Assert.Equal(n, lagcheck.Sum(p => p.GetProperty("lag_records").GetInt64()));
        Assert.All(lagcheck.Where(p => p.GetProperty("lag_records").GetInt64() > 0), p =>
        {
            Assert.Equal(-1, p.GetProperty("committed_offset").GetInt64());
            Assert.True(p.GetProperty("lag_seconds").GetDouble() > 0);
        });
        var table = await Nwdp.RunAsync("lag", "--node", node.AdminNode);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Equal(["sink", "topic", "partition", "committed", "end", "lag", "lag_s"], table.Lines[0].Split('|', StringSplitOptions.TrimEntries));
        Assert.Contains(table.Lines, l => l.StartsWith($"files: {n} records behind", StringComparison.Ordinal));
        var unknownSink = await Nwdp.RunAsync("lag", "--sink", "nope", "--node", node.AdminNode);
        Assert.Equal(1, unknownSink.ExitCode);
        Assert.Contains("no sink instance 'nope'", unknownSink.Stderr);

        // The lag gauges on /metrics.
        var metrics = await node.Client.GetStringAsync("/metrics");
        var records = Regex.Matches(metrics, @"^nwdp_sink_lag_records\{sink=""files"",topic=""nwdp\.logs\.lagcheck"",partition=""\d+""\} (\d+)$", RegexOptions.Multiline);
        Assert.Equal(n, records.Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        Assert.Matches(@"(?m)^nwdp_sink_lag_seconds\{sink=""files"",topic=""nwdp\.logs\.lagcheck"",partition=""\d+""\} [0-9.e+-]+$", metrics);
        Assert.Matches(@"(?m)^nwdp_sink_end_offset\{sink=""files"",topic=""nwdp\.logs\.lagcheck"",partition=""\d+""\} \d+$", metrics);
        Assert.Matches(@"(?m)^nwdp_sink_committed_offset\{sink=""files"",topic=""nwdp\.logs\.lagcheck"",partition=""\d+""\} -1$", metrics);

        // Thresholds: any lag warns with --warn 0 (alert above 0); @ ranges alert inside.
        var warning = await CheckAsync(["lag", "--warn", "0", "--crit", "3600", .. at]);
        Assert.Equal(1, warning.Exit);
        Assert.Equal(n, Value(warning, "files_lag_records"));
        Assert.True(Value(warning, "files_lag_seconds") > 0);
        Assert.Equal(("0", "3600", "s"), (warning.Perf["files_lag_seconds"].Groups["warn"].Value, warning.Perf["files_lag_seconds"].Groups["crit"].Value,
            warning.Perf["files_lag_seconds"].Groups["uom"].Value));
        var critical = await CheckAsync(["lag", "--crit", "@0:", .. at]);
        Assert.Equal(2, critical.Exit);
        Assert.Equal(0, (await CheckAsync(["lag", "--warn", "~:", "--crit", "~:", .. at])).Exit);
        var watchdog = await CheckAsync(["watchdog", "--warn", "@0:0", .. at]);
        Assert.Equal(1, watchdog.Exit);
        Assert.Equal(0, Value(watchdog, "hosts_offline"));
        Assert.Equal(1, (await CheckAsync(["ingress", "--warn", "@0", .. at])).Exit);
        Assert.True(Value(await CheckAsync(["ingress", .. at]), "accepted_events") >= n);

        // Cacti: name:value pairs of the same figures.
        var cacti = await Nwdp.RunAsync(["check", "lag", "--cacti", .. at]);
        Assert.True(cacti.ExitCode == 0, cacti.ToString());
        var pairs = Assert.Single(cacti.Lines);
        Assert.Matches(CactiLine, pairs);
        Assert.Contains($"files_lag_records:{n}", pairs.Split(' '));

        // --json: the verdict and the perfdata as an object.
        var json = await Nwdp.RunAsync(["check", "lag", "--warn", "0", "--json", .. at]);
        Assert.Equal(1, json.ExitCode);
        var verdict = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(("NWDP_LAG", "WARNING", 1), (verdict.GetProperty("service").GetString(), verdict.GetProperty("status").GetString(), verdict.GetProperty("exit_code").GetInt32()));

        // UNKNOWN: bad flags (naming the flag), an unknown check, an unreachable node.
        var badWarn = await CheckAsync(["lag", "--warn", "ten", .. at]);
        Assert.Equal(3, badWarn.Exit);
        Assert.Contains("flag '--warn'", badWarn.Text);
        var badCrit = await CheckAsync(["bus", "--crit", "20:10", .. at]);
        Assert.Contains("flag '--crit'", badCrit.Text);
        var unknownFlag = await CheckAsync(["bus", "--wurn", "1", .. at]);
        Assert.Equal(3, unknownFlag.Exit);
        Assert.Contains("'--wurn'", unknownFlag.Text);
        var unknownCheck = await CheckAsync(["disk", .. at]);
        Assert.Contains("unknown check 'disk'", unknownCheck.Text);
        Assert.Equal(3, (await CheckAsync()).Exit);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_is_UNKNOWN()
    {
        // A port that was free a moment ago: nothing listens there.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        foreach (var check in new[] { "lag", "bus" })
        {
            var outcome = await Nwdp.RunAsync("check", check, "--node", $"127.0.0.1:{port}");
            Assert.Equal(3, outcome.ExitCode);
            var line = Assert.Single(outcome.Lines);
            Assert.Matches(PluginLine, line);
            Assert.StartsWith($"NWDP_{check.ToUpperInvariant()} UNKNOWN - cannot reach node 127.0.0.1:{port}", line);
        }
        var cacti = await Nwdp.RunAsync("check", "lag", "--cacti", "--node", $"127.0.0.1:{port}");
        Assert.Equal(3, cacti.ExitCode);
        Assert.Empty(cacti.Stdout);
        Assert.Contains("cannot reach node", cacti.Stderr);
    }
}
