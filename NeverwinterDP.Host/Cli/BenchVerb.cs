using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Host.Bench;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp bench</c>: the end-to-end load generator for <c>POST /v1/events</c> (see <see cref="BenchRunner"/>).
/// Progress goes to standard error about once a second; the summary (or with <c>--json</c> exactly one JSON
/// object) to standard output. Exit 0 without errors, 1 with errors, 2 for usage errors.
/// </summary>
public static class BenchVerb
{
    private static readonly Option<string[]> Url = Flags.Repeated("--url",
        "node base URL (http://127.0.0.1:8080) or the full events URL; tcp://HOST:PORT for --format syslog and zeromq (required). " +
        "Several nodes (repeated or comma-separated, HTTP inputs): batches are spread over them, and a batch a node refuses (connection refused or cut, 503/429) goes to the next", "URL");
    private static readonly Option<TimeSpan?> FailoverCoolDown = Flags.Duration("--failover-cooldown", "with several --url: pass over a node that failed a batch for this long (default 1s)");
    private static readonly Option<TimeSpan?> GapThreshold = Flags.Duration("--gap-threshold", "list every gap between acknowledgements at least this long in the report (default 1s; the longest is always reported)");
    private static readonly Option<long?> Events = Flags.Long("--events", "events to send (default 1000000; no limit when only --duration is given)", "N", min: 1);
    private static readonly Option<int> Batch = Flags.Int("--batch", "events per request (default 100)", "B", 100, 1, 100_000);
    private static readonly Option<int> Concurrency = Flags.Int("--concurrency", "concurrent requests and connections (default 64)", "C", 64, 1, 10_000);
    private static readonly Option<long?> Rate = Flags.Long("--rate", "send at most N events a second, evenly (a steady load; default: as fast as the node takes them)", "N", min: 1);
    private static readonly Option<TimeSpan?> Duration = Flags.Duration("--duration", "stop sending new batches after this long (30s, 5m, ...)");
    private static readonly Option<int> Size = Flags.Int("--size", "bytes per event line, padded (default 200)", "BYTES", 200, 1, 16 * 1024 * 1024);
    private static readonly Option<string?> Type = Flags.Text("--type", "log type of the events, the 'type' field (default bench)", "T");
    private static readonly Option<int> Hosts = Flags.Int("--hosts", "distinct fake 'host' values (default 16)", "H", 16, 1, 10_000);
    private static readonly Option<string?> Format = Flags.Text("--format",
        "the input and body format: ndjson (/v1/events, the default), bulk (Elasticsearch /_bulk), hec (Splunk /services/collector/event), " +
        "msgpack (Fluent Bit /v1/fluent-bit), otlp (OTLP/HTTP protobuf /v1/logs); " +
        "syslog (RFC 5424, octet counting, over TCP to nwdp.inputs.syslog.tcp-port; --url tcp://HOST:PORT; syslog over TCP has no " +
        "acknowledgement, so 'accepted' means written to the socket: use --e2e to count what arrived, with --type the node's " +
        "nwdp.inputs.syslog.type, default syslog), zeromq (NeverwinterDP.Client's ZeroMqEmitter to nwdp.inputs.zeromq.port; " +
        "--url tcp://HOST:PORT; each batch acknowledged once durable)", "F");
    private static readonly Option<string?> HecToken = Flags.Text("--hec-token", "with --format hec: the HEC token (one of the node's nwdp.inputs.hec.tokens; default: $NWDP_HEC_TOKENS' first)", "TOKEN");
    private static readonly Option<bool> Gzip = Flags.Switch("--gzip", "send gzip-compressed bodies");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print the summary as one JSON object");
    private static readonly Option<TimeSpan?> Timeout = Flags.Duration("--timeout", "per-request timeout (default 30s)");
    private static readonly Option<TimeSpan?> RetryTimeout = Flags.Duration("--retry-timeout", "give a batch up after it was refused (429/503) for this long (default 5m)");
    private static readonly Option<string?> RunId = Flags.Text("--run-id", "id put in every message (run=ID seq=N); random by default", "ID");
    private static readonly Option<bool> Quiet = Flags.Switch("--quiet", "no progress on standard error", alias: "-q");
    private static readonly Option<TimeSpan?> Warmup = Flags.Duration("--warmup", "left out of the steady-state rate, latency and CPU (default 5s; 0 = none)");
    private static readonly Option<string[]> EndToEnd = Flags.Repeated("--e2e",
        "end-to-end check: the node's data directory (or its files sink's directory); counts this run's events in the published files, during and after the run. " +
        "Several (repeated or comma-separated): every node's, an event counted once whichever holds it", "DIR");
    private static readonly Option<TimeSpan?> EndToEndWait = Flags.Duration("--e2e-wait", "with --e2e: after the run, wait up to this long for acknowledged events to reach the files (default 2m)");
    private static readonly Option<long?> Pid = Flags.Long("--pid", "the node's process id on this machine: report its CPU and resident memory", "PID", min: 1);

    public static Command Command { get; } = CreateCommand();

    private static Command CreateCommand()
    {
        var command = new Command("bench",
            "Load generator: POST realistic log events to a node's /v1/events (or, with --format, another input) and report throughput and latency.\n" +
            "Batches answered 429/503 are resent after Retry-After; other non-2xx answers and transport failures are errors.\n" +
            "Reports the whole run and its steady state (after --warmup); with --pid the node's CPU and memory; with --e2e\n" +
            "whether every acknowledged event reached the files sink exactly once.\n" +
            "Progress goes to standard error (a progress bar on a terminal), the summary (or with --json one JSON object) to standard output.\n" +
            "Exit 0 when every batch was accepted (and with --e2e every acknowledged event is in files exactly once), 1 otherwise, 2 for usage errors.")
        {
            Url, Events, Batch, Concurrency, Rate, Duration, Warmup, Size, Type, Hosts, Format, HecToken, Gzip, Json, Timeout, RetryTimeout, RunId, EndToEnd, EndToEndWait, Pid, Quiet,
            FailoverCoolDown, GapThreshold,
        };
        command.SetAction((parsed, cancellation) => RunAsync(parsed, cancellation));
        return command;
    }

    /// <summary>The verb as <c>nwdp</c> runs it: console output, Ctrl-C and SIGTERM stop the run cleanly.</summary>
    public static async Task<int> RunAsync(ParseResult args, CancellationToken cancellation)
    {
        var options = ParseOptions(args); // usage errors before anything is set up
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var signals = CliSignals.CancelOnStop(stop, () =>
            Console.Error.WriteLine($"nwdp bench: stopping, waiting up to {options.DrainTimeout.TotalSeconds:0} s for requests in flight (Ctrl-C again to quit now)"));
        var terminal = !args.GetValue(Quiet) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";
        return await RunAsync(args, Console.Out, Console.Error, stop.Token, terminal);
    }

    /// <summary>Runs the verb writing to the given streams (tests use <see cref="StringWriter"/>s).</summary>
    /// <param name="terminal">Standard error is a terminal: draw a progress bar there instead of progress lines.</param>
    /// <exception cref="CliUsageException">A flag is missing or out of range.</exception>
    public static async Task<int> RunAsync(ParseResult args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation, bool terminal = false)
    {
        var options = ParseOptions(args);
        var json = args.GetValue(Json);
        var quiet = args.GetValue(Quiet);
        var what = options.Events is { } n ? $"{n.ToString("N0", CultureInfo.InvariantCulture)} events" : "events";
        if (options.Rate is { } perSecond) what += $" at {perSecond.ToString("N0", CultureInfo.InvariantCulture)}/s";
        if (options.Duration is { } d) what += $" for {d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
        if (!quiet)
        {
            await stderr.WriteLineAsync(
                $"nwdp bench: {what} to {options.Url}{(options.Urls.Count > 1 ? $" and {options.Urls.Count - 1} more" : "")}, batches of {options.Batch}, {options.Concurrency} connections, ~{options.EventSize} bytes/event{(options.Format.Name != "ndjson" ? ", format " + options.Format.Name : "")}{(options.Gzip ? ", gzip" : "")}");
            if (options.Urls.Count > 1)
                await stderr.WriteLineAsync($"nwdp bench: spread over {options.Urls.Count} nodes: {string.Join(", ", options.Urls)}");
            if (options.EndToEndDirectories.Count > 0)
                await stderr.WriteLineAsync($"nwdp bench: counting this run's events in {string.Join(", ", options.EndToEndDirectories.Select(d => PartFileTally.TopicDirectory(d, options.Type)))}");
        }

        BenchReport report;
        try
        {
            report = quiet ? await BenchRunner.RunAsync(options, null, cancellation)
                : terminal ? await BenchProgressBar.RunAsync(stderr, options, p => BenchRunner.RunAsync(options, p, cancellation))
                : await BenchRunner.RunAsync(options, new LineProgress(stderr), cancellation);
        }
        catch (ArgumentException e) when (options.NodePid is not null && e.ParamName == "pid")
        {
            throw new CliUsageException($"flag '--pid' {e.Message}");
        }

        if (json) await stdout.WriteLineAsync(report.ToJson());
        else await stdout.WriteAsync(report.ToText());
        await stdout.FlushAsync(CancellationToken.None);
        return report.ExitCode;
    }

    /// <summary>The <see cref="BenchOptions"/> for the flags; a bad flag is a <see cref="CliUsageException"/> naming it.</summary>
    public static BenchOptions ParseOptions(ParseResult args)
    {
        // Flags that do not parse (--events abc) were reported by the parser; these checks need more than one flag or the default.
        var duration = args.GetValue(Duration);
        if (duration is { } d && d <= TimeSpan.Zero) throw new CliUsageException("flag '--duration' must be positive");
        var events = args.GetValue(Events) ?? (duration is null ? 1_000_000 : null);
        if (events > BenchEventGenerator.MaxSequence + 1) throw new CliUsageException($"flag '--events' must be at most {BenchEventGenerator.MaxSequence + 1}");
        var batch = args.GetValue(Batch);
        var concurrency = args.GetValue(Concurrency);
        var rate = args.GetValue(Rate);
        var size = args.GetValue(Size);
        if ((long)batch * (Math.Max(size, BenchEventGenerator.MaxBaseLineLength) + 1) > BenchOptions.MaxBodyBytes)
            throw new CliUsageException($"flags '--batch' x '--size' make requests over {BenchOptions.MaxBodyBytes / (1024 * 1024)} MiB; lower one of them");
        var formatName = args.GetValue(Format) ?? "ndjson";
        // Every syslog event takes the node's nwdp.inputs.syslog.type (default syslog): the e2e check looks there.
        var type = args.GetValue(Type) ?? (formatName == "syslog" ? "syslog" : "bench");
        if (!BenchEventGenerator.IsValidType(type)) throw new CliUsageException($"flag '--type' must be 1-100 letters, digits, '.', '_' or '-', got '{type}'");
        var hosts = args.GetValue(Hosts);
        var runId = args.GetValue(RunId);
        if (runId is not null && !BenchEventGenerator.IsValidRunId(runId)) throw new CliUsageException($"flag '--run-id' must be 1-32 letters or digits, got '{runId}'");
        var timeout = args.GetValue(Timeout) ?? TimeSpan.FromSeconds(30);
        if (timeout <= TimeSpan.Zero) throw new CliUsageException("flag '--timeout' must be positive");
        var retryTimeout = args.GetValue(RetryTimeout) ?? TimeSpan.FromMinutes(5);
        var warmup = args.GetValue(Warmup) ?? TimeSpan.FromSeconds(5);
        if (warmup < TimeSpan.Zero) throw new CliUsageException("flag '--warmup' must not be negative");
        var endToEnd = SplitList(args.GetValue(EndToEnd));
        foreach (var dir in endToEnd)
            if (!Directory.Exists(dir)) throw new CliUsageException($"flag '--e2e' must be the node's data directory or its files sink's directory; '{dir}' is not a directory");
        var coolDown = args.GetValue(FailoverCoolDown) ?? TimeSpan.FromSeconds(1);
        if (coolDown < TimeSpan.Zero) throw new CliUsageException("flag '--failover-cooldown' must not be negative");
        var gapThreshold = args.GetValue(GapThreshold) ?? TimeSpan.FromSeconds(1);
        if (gapThreshold <= TimeSpan.Zero) throw new CliUsageException("flag '--gap-threshold' must be positive");
        var endToEndWait = args.GetValue(EndToEndWait) ?? TimeSpan.FromMinutes(2);
        if (endToEndWait < TimeSpan.Zero) throw new CliUsageException("flag '--e2e-wait' must not be negative");
        var pid = args.GetValue(Pid);
        if (pid > int.MaxValue) throw new CliUsageException($"flag '--pid' must be a process id, got {pid}");
        var hecToken = args.GetValue(HecToken) ?? Environment.GetEnvironmentVariable("NWDP_HEC_TOKENS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (formatName == "hec" && string.IsNullOrEmpty(hecToken))
            throw new CliUsageException("flag '--hec-token' is required with --format hec (or set NWDP_HEC_TOKENS)");
        if (args.GetValue(HecToken) is not null && formatName != "hec") throw new CliUsageException("flag '--hec-token' only goes with --format hec");
        var format = BenchFormat.Named(formatName, hecToken)
            ?? throw new CliUsageException($"flag '--format' must be one of {string.Join(", ", BenchFormat.Names)}, got '{formatName}'");
        if (args.GetValue(Gzip) && !format.OverHttp) throw new CliUsageException($"flag '--gzip' is for the HTTP inputs, not --format {formatName}");
        // Last, so that 'nwdp bench --events abc' names --events rather than the missing --url.
        var rawUrls = SplitList(args.GetValue(Url));
        if (rawUrls.Count == 0) throw new CliUsageException("flag '--url' is required (the node's base URL, e.g. http://127.0.0.1:8080)");
        if (rawUrls.Count > 1 && !format.OverHttp) throw new CliUsageException($"flag '--url' takes one node with --format {formatName}; several are for the HTTP inputs");
        if (rawUrls.Count > BenchOptions.MaxUrls) throw new CliUsageException($"flag '--url' takes at most {BenchOptions.MaxUrls} nodes");
        var urls = new List<Uri>(rawUrls.Count);
        foreach (var rawUrl in rawUrls)
        {
            if (!BenchOptions.TryResolveUrl(rawUrl, format.Path, out var resolved, out var urlError)) throw new CliUsageException($"flag '--url' {urlError}");
            urls.Add(resolved);
        }
        var url = urls[0];

        return new BenchOptions
        {
            Url = url,
            Urls = urls,
            FailoverCoolDown = coolDown,
            AckGapThreshold = gapThreshold,
            Events = events,
            Duration = duration,
            Batch = batch,
            Concurrency = concurrency,
            Rate = rate,
            EventSize = size,
            Type = type,
            Hosts = hosts,
            Format = format,
            Gzip = args.GetValue(Gzip),
            RunId = runId,
            RequestTimeout = timeout,
            RetryTimeout = retryTimeout,
            Warmup = warmup,
            EndToEndDirectories = endToEnd,
            EndToEndWait = endToEndWait,
            NodePid = (int?)pid,
        };
    }

    /// <summary>The values of a repeatable flag, each also split at commas, blanks dropped.</summary>
    private static List<string> SplitList(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    /// <summary>Writes each progress report as one line, synchronously, in order.</summary>
    private sealed class LineProgress(TextWriter writer) : IProgress<BenchProgress>
    {
        private readonly Lock _gate = new();

        public void Report(BenchProgress value)
        {
            if (value.Final) return; // the summary follows
            lock (_gate)
            {
                writer.WriteLine(value.ToString());
                writer.Flush();
            }
        }
    }
}
