using System.Text.Json;
using NeverwinterDP.Host.Cli;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Cli;

public sealed class BenchVerbTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--events", "bench --events abc")]
    [InlineData("--events", "bench --url http://127.0.0.1:1 --events abc")]
    [InlineData("--events", "bench --url http://127.0.0.1:1 --events 0")]
    [InlineData("--url", "bench")]
    [InlineData("--url", "bench --url ftp://x")]
    [InlineData("--batch", "bench --url http://127.0.0.1:1 --batch 0")]
    [InlineData("--concurrency", "bench --url http://127.0.0.1:1 --concurrency many")]
    [InlineData("--duration", "bench --url http://127.0.0.1:1 --duration soon")]
    [InlineData("--size", "bench --url http://127.0.0.1:1 --size -1")]
    [InlineData("--type", "bench --url http://127.0.0.1:1 --type a/b")]
    [InlineData("--hosts", "bench --url http://127.0.0.1:1 --hosts 0")]
    [InlineData("--bogus", "bench --url http://127.0.0.1:1 --bogus")]
    [InlineData("--batch", "bench --url http://127.0.0.1:1 --batch 100000 --size 100000")]
    [InlineData("--format", "bench --url http://127.0.0.1:1 --format gelf")]
    [InlineData("--hec-token", "bench --url http://127.0.0.1:1 --format hec")]
    [InlineData("--hec-token", "bench --url http://127.0.0.1:1 --hec-token t")]
    public async Task Usage_errors_exit_2_and_name_the_flag(string flag, string commandLine)
    {
        var args = commandLine.Split(' ');
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await NeverwinterDP.Host.Cli.CliApp.RunAsync(args, stdout, stderr);

        Assert.Equal(2, code);
        Assert.Contains(flag, stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public async Task Help_lists_every_flag()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["bench", "--help"], stdout, new StringWriter()));
        foreach (var flag in new[] { "--url", "--events", "--batch", "--concurrency", "--duration", "--size", "--type", "--hosts", "--format", "--hec-token", "--gzip", "--json" })
            Assert.Contains(flag, stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_map_to_options_with_the_documented_defaults()
    {
        var defaults = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "127.0.0.1:8080"));
        Assert.Equal(new Uri("http://127.0.0.1:8080/v1/events"), defaults.Url);
        Assert.Equal(1_000_000, defaults.Events);
        Assert.Null(defaults.Duration);
        Assert.Equal(100, defaults.Batch);
        Assert.Equal(64, defaults.Concurrency);
        Assert.Equal(200, defaults.EventSize);
        Assert.Equal("bench", defaults.Type);
        Assert.Equal(16, defaults.Hosts);
        Assert.False(defaults.Gzip);
        Assert.False(defaults.RecordMessages);
        Assert.Equal("ndjson", defaults.Format.Name);

        // Each format goes to its input's route under the base URL.
        foreach (var (format, route) in new[] { ("bulk", "/_bulk"), ("msgpack", "/v1/fluent-bit"), ("otlp", "/v1/logs"), ("hec", "/services/collector/event") })
        {
            var o = BenchVerb.ParseOptions(CliApp.Parse(["bench", "--url", "127.0.0.1:8080", "--format", format, .. format == "hec" ? new[] { "--hec-token", "t" } : []]));
            Assert.Equal((format, new Uri("http://127.0.0.1:8080" + route)), (o.Format.Name, o.Url));
        }

        // The inputs that are not HTTP take tcp://HOST:PORT (or HOST:PORT); syslog events take the node's syslog type.
        var syslog = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "127.0.0.1:6514", "--format", "syslog"));
        Assert.Equal(("syslog", new Uri("tcp://127.0.0.1:6514"), "syslog"), (syslog.Format.Name, syslog.Url, syslog.Type));
        var zeromq = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "tcp://10.0.0.5:5555", "--format", "zeromq"));
        Assert.Equal(("zeromq", new Uri("tcp://10.0.0.5:5555"), "bench"), (zeromq.Format.Name, zeromq.Url, zeromq.Type));
        Assert.Contains("tcp://HOST:PORT", Assert.Throws<CliUsageException>(() => BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "http://n:1", "--format", "zeromq"))).Message);
        Assert.Contains("--gzip", Assert.Throws<CliUsageException>(() => BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "n:1", "--format", "syslog", "--gzip"))).Message);

        var timed = BenchVerb.ParseOptions(CliApp.Parse("bench", "--url", "http://n:1", "--duration", "30s"));
        Assert.Null(timed.Events);
        Assert.Equal(TimeSpan.FromSeconds(30), timed.Duration);

        var both = BenchVerb.ParseOptions(CliApp.Parse(
            "bench", "--url=http://n:1/v1/events", "--duration", "5m", "--events", "10", "--batch", "7", "--concurrency", "3", "--size", "512", "--type", "app.web", "--hosts", "2",
            "--gzip"));
        Assert.Equal(10, both.Events);
        Assert.Equal(TimeSpan.FromMinutes(5), both.Duration);
        Assert.Equal((7, 3, 512, "app.web", 2, true), (both.Batch, both.Concurrency, both.EventSize, both.Type, both.Hosts, both.Gzip));
    }

    [Fact]
    public async Task Json_output_is_exactly_one_object_with_the_contract_fields()
    {
        await using var stub = await IngressStub.StartAsync(r => r.Number == 2 ? new StubAnswer(429, RetryAfterSeconds: 0) : StubAnswer.Ok);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TestTimeout);
        var args = CliApp.Parse("bench", "--url", stub.BaseUrl.ToString(), "--events", "500", "--batch", "50", "--concurrency", "4", "--gzip", "--json");

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        Assert.Equal(0, code);
        var output = stdout.ToString();
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.True(root.GetProperty("events_per_sec").GetDouble() > 0);
        Assert.True(root.GetProperty("mib_per_sec").GetDouble() > 0);
        Assert.True(root.GetProperty("p50_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("p99_ms").GetDouble() >= root.GetProperty("p50_ms").GetDouble());
        Assert.True(root.GetProperty("p999_ms").GetDouble() >= root.GetProperty("p99_ms").GetDouble());
        Assert.True(root.GetProperty("max_ms").GetDouble() >= root.GetProperty("p999_ms").GetDouble());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(500, root.GetProperty("events").GetInt64());
        Assert.Equal(11, root.GetProperty("requests").GetInt64());
        Assert.True(root.GetProperty("elapsed_s").GetDouble() > 0);
        var status = root.GetProperty("status");
        Assert.Equal(10, status.GetProperty("200").GetInt64());
        Assert.Equal(1, status.GetProperty("429").GetInt64());
        Assert.Equal(1, root.GetProperty("retries").GetInt64());
        Assert.Equal(500, stub.Accepted.Count);
        Assert.All(stub.Accepted.Values, n => Assert.Equal(1, n));
        Assert.Contains("nwdp bench: 500 events", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_human_summary_and_exit_code_1_when_a_batch_is_rejected()
    {
        await using var stub = await IngressStub.StartAsync(r =>
            r.Number == 3 ? new StubAnswer(400, Body: """{"error":"bad line","line":1}""") : StubAnswer.Ok);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TestTimeout);
        var args = CliApp.Parse("bench", "--url", stub.EventsUrl.ToString(), "--events", "300", "--batch", "100", "--concurrency", "1", "--quiet");

        var code = await BenchVerb.RunAsync(args, stdout, stderr, timeout.Token);

        Assert.Equal(1, code);
        var text = stdout.ToString();
        Assert.Contains("events accepted   200 of 300 sent (100 failed)", text, StringComparison.Ordinal);
        Assert.Contains("requests          3 (0 retried after 429/503)", text, StringComparison.Ordinal);
        Assert.Contains("events/s", text, StringComparison.Ordinal);
        Assert.Contains("MiB/s", text, StringComparison.Ordinal);
        Assert.Contains("p50", text, StringComparison.Ordinal);
        Assert.Contains("p99", text, StringComparison.Ordinal);
        Assert.Contains(" 200: 2 400: 1", text, StringComparison.Ordinal);
        Assert.Contains("errors            1", text, StringComparison.Ordinal);
        Assert.Contains("400 Bad Request: {\"error\":\"bad line\",\"line\":1}", text, StringComparison.Ordinal);
        Assert.Equal("", stderr.ToString());
    }
}
