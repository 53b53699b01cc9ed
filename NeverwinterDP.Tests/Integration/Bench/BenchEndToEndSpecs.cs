using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Bench;

/// <summary><c>nwdp bench --e2e</c> against a node in this process: what it acknowledged is what it finds in the files.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class BenchEndToEndSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_with_e2e_finds_every_acknowledged_event_in_the_files_exactly_once()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        const int events = 5_000;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var args = CliApp.Parse("bench", "--url", node.Http.ToString(), "--events", events.ToString(), "--batch", "100", "--concurrency", "4",
            "--warmup", "0", "--e2e", dir.Path, "--e2e-wait", "90s", "--pid", Environment.ProcessId.ToString(), "--json");

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        output.WriteLine(stderr.ToString());
        output.WriteLine(stdout.ToString());
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        Assert.Equal(events, root.GetProperty("events").GetInt64());
        var e2e = root.GetProperty("e2e");
        Assert.Equal(events, e2e.GetProperty("acknowledged").GetInt64());
        Assert.Equal(events, e2e.GetProperty("in_files").GetInt64());
        Assert.Equal(0, e2e.GetProperty("missing").GetInt64());
        Assert.Equal(0, e2e.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, e2e.GetProperty("unacknowledged_in_files").GetInt64());
        Assert.True(e2e.GetProperty("exactly_once").GetBoolean());
        Assert.Equal(Path.Combine(node.FilesDir, "nwdp.logs.bench"), e2e.GetProperty("directory").GetString());
        // The files say the same as the bench: every message of the run once.
        Assert.Equal(events, node.PublishedLines("nwdp.logs.bench").Count);

        var steady = root.GetProperty("steady");
        Assert.Equal(JsonValueKind.Object, steady.ValueKind); // no warm-up: the whole load is the window
        Assert.True(steady.GetProperty("p50_ms").GetDouble() <= steady.GetProperty("p99_ms").GetDouble());
        var process = root.GetProperty("node");
        Assert.Equal(Environment.ProcessId, process.GetProperty("pid").GetInt32());
        Assert.True(process.GetProperty("rss_max_mib").GetDouble() > 0);
    }

    /// <summary>
    /// Every input <c>--format</c> names, through a real node: each acknowledged event is in the files exactly once,
    /// with the fields the generator gave it (so each format carries host, process, level and type as its senders do).
    /// </summary>
    [Theory]
    [InlineData("bulk")]
    [InlineData("hec")]
    [InlineData("msgpack")]
    [InlineData("otlp")]
    public async Task Bench_in_each_input_format_lands_every_event_once_with_its_fields(string format)
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.inputs.hec.tokens"] = "bench-token" });
        const int events = 2_000;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var args = CliApp.Parse([
            "bench", "--url", node.Http.ToString(), "--format", format, "--events", events.ToString(), "--batch", "50", "--concurrency", "4",
            "--warmup", "0", "--type", "bench-" + format, "--run-id", "fmt" + format, "--e2e", dir.Path, "--e2e-wait", "90s", "--json",
            .. format == "hec" ? new[] { "--hec-token", "bench-token" } : [],
        ]);

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        output.WriteLine(stderr.ToString());
        output.WriteLine(stdout.ToString());
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        Assert.Equal(format, root.GetProperty("format").GetString());
        Assert.Equal(events, root.GetProperty("events").GetInt64());
        var e2e = root.GetProperty("e2e");
        Assert.Equal(events, e2e.GetProperty("in_files").GetInt64());
        Assert.True(e2e.GetProperty("exactly_once").GetBoolean());

        // The fields as the generator wrote them in its NDJSON line for the same sequence number.
        var generator = new NeverwinterDP.Host.Bench.BenchEventGenerator("fmt" + format, "bench-" + format);
        var published = node.Published(NeverwinterDP.Protocol.TopicNames.ForType("bench-" + format));
        Assert.Equal(events, published.Count);
        foreach (var e in published.Take(200))
        {
            var seq = NeverwinterDP.Host.Bench.BenchEventGenerator.ParseMessage(e.Message)!.Value.Seq;
            using var line = JsonDocument.Parse(generator.Line(seq, 1_700_000_000_000));
            var expected = line.RootElement;
            Assert.Equal(expected.GetProperty("msg").GetString(), e.Message);
            Assert.Equal(expected.GetProperty("host").GetString(), e.Host);
            Assert.Equal(expected.GetProperty("process").GetString(), e.Process);
            Assert.Equal(expected.GetProperty("level").GetString(), e.Level);
            Assert.Equal("bench-" + format, e.Type);
            Assert.Equal(expected.GetProperty("req_id").GetString(), e.Attributes["req_id"]);
        }
    }

    /// <summary>
    /// The inputs that are not HTTP: syslog over TCP (no acknowledgement: what the bench wrote is counted in the files
    /// by --e2e) and ZeroMQ (each batch answered once durable). Every event lands once with the generator's fields.
    /// </summary>
    [Theory]
    [InlineData("syslog")]
    [InlineData("zeromq")]
    public async Task Bench_over_syslog_and_zeromq_lands_every_event_once_with_its_fields(string format)
    {
        using var dir = new TempDir();
        var type = "bench-" + format;
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.inputs.syslog.tcp-port"] = "0",
            ["nwdp.inputs.syslog.type"] = type, // every syslog event takes the listener's type
            ["nwdp.inputs.zeromq.port"] = "0",
        });
        var url = format == "syslog"
            ? "tcp://" + node.App.Services.GetRequiredService<NeverwinterDP.Host.Syslog.SyslogService>().Endpoints["tcp"]
            : node.App.Services.GetRequiredService<NeverwinterDP.Host.ZeroMq.ZeroMqService>().Endpoint!;
        const int events = 2_000;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var args = CliApp.Parse([
            "bench", "--url", url, "--format", format, "--events", events.ToString(), "--batch", "50", "--concurrency", "4",
            "--warmup", "0", "--type", type, "--run-id", "fmt" + format, "--e2e", dir.Path, "--e2e-wait", "90s", "--json",
        ]);

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        output.WriteLine(stderr.ToString());
        output.WriteLine(stdout.ToString());
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        Assert.Equal(format, root.GetProperty("format").GetString());
        Assert.Equal(events, root.GetProperty("events").GetInt64());
        var e2e = root.GetProperty("e2e");
        Assert.Equal(events, e2e.GetProperty("in_files").GetInt64());
        Assert.True(e2e.GetProperty("exactly_once").GetBoolean());

        var generator = new NeverwinterDP.Host.Bench.BenchEventGenerator("fmt" + format, type);
        var published = node.Published(NeverwinterDP.Protocol.TopicNames.ForType(type));
        Assert.Equal(events, published.Count);
        foreach (var e in published.Take(200))
        {
            var seq = NeverwinterDP.Host.Bench.BenchEventGenerator.ParseMessage(e.Message)!.Value.Seq;
            using var line = JsonDocument.Parse(generator.Line(seq, 1_700_000_000_000));
            var expected = line.RootElement;
            Assert.Equal(expected.GetProperty("msg").GetString(), e.Message);
            Assert.Equal(expected.GetProperty("host").GetString(), e.Host);
            Assert.Equal(expected.GetProperty("process").GetString(), e.Process);
            Assert.Equal(expected.GetProperty("level").GetString(), e.Level);
            Assert.Equal(type, e.Type);
            // Syslog carries req_id as structured data ([nwdp req_id="..."]), ZeroMQ as the NDJSON line's key.
            Assert.Equal(expected.GetProperty("req_id").GetString(), e.Attributes[format == "syslog" ? "sd.nwdp.req_id" : "req_id"]);
        }
    }
}
