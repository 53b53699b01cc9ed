using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NeverwinterDP.Host.Bench;

/// <summary>A snapshot of a running bench, reported about once per <see cref="BenchOptions.ProgressInterval"/> and once at the end.</summary>
/// <param name="Elapsed">Since the run started.</param>
/// <param name="EventsSent">Events put into requests so far (generated).</param>
/// <param name="EventsAccepted">Events in requests answered 2xx.</param>
/// <param name="EventsPerSecond">Events accepted per second since the previous report.</param>
/// <param name="Requests">HTTP requests made, retries included.</param>
/// <param name="Retries">Requests answered 429/503 and resent.</param>
/// <param name="Errors">Requests given up: non-2xx answers other than retried 429/503, and transport failures.</param>
/// <param name="InFlight">Batches being sent or waiting for a retry.</param>
/// <param name="Final">True for the last report, after every worker stopped.</param>
public sealed record BenchProgress(
    TimeSpan Elapsed,
    long EventsSent,
    long EventsAccepted,
    double EventsPerSecond,
    long Requests,
    long Retries,
    long Errors,
    int InFlight,
    bool Final)
{
    /// <summary>One human line: <c>[   3.0s] sent 312,400  accepted 310,000  104,233 ev/s  retries 12  errors 0</c>.</summary>
    public override string ToString() => string.Format(
        CultureInfo.InvariantCulture,
        "[{0,7:0.0}s] sent {1:N0}  accepted {2:N0}  {3:N0} ev/s  in flight {4}  retries {5:N0}  errors {6:N0}",
        Elapsed.TotalSeconds, EventsSent, EventsAccepted, EventsPerSecond, InFlight, Retries, Errors);
}

/// <summary>What a bench run did. <see cref="ToJson"/> is the <c>nwdp bench --json</c> output, <see cref="ToText"/> the human summary.</summary>
public sealed record BenchReport
{
    public required Uri Url { get; init; }

    public required string RunId { get; init; }

    /// <summary>Events generated and sent at least once.</summary>
    public long EventsSent { get; init; }

    /// <summary>Events in requests answered 2xx (durable at the node).</summary>
    public long EventsAccepted { get; init; }

    /// <summary>Events in requests given up (<see cref="Errors"/>): not known to have arrived.</summary>
    public long EventsFailed { get; init; }

    /// <summary>HTTP requests made, each retry counted.</summary>
    public long Requests { get; init; }

    /// <summary>Requests answered 429/503 whose batch was resent after <c>Retry-After</c>.</summary>
    public long Retries { get; init; }

    /// <summary>Requests given up: non-2xx answers (other than 429/503 that were retried) plus transport failures.</summary>
    public long Errors { get; init; }

    /// <summary>Requests that got no HTTP answer: connection refused or reset, timeout, aborted at Ctrl-C.</summary>
    public long TransportErrors { get; init; }

    /// <summary>Uncompressed NDJSON bytes accepted (2xx).</summary>
    public long BytesAccepted { get; init; }

    /// <summary>Request body bytes put on the wire, retries included (compressed with gzip).</summary>
    public long BytesSent { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Count of answers per HTTP status code (retried 429/503 included).</summary>
    public required IReadOnlyDictionary<int, long> Status { get; init; }

    /// <summary>Latency of each request (HTTP round trip), retries included.</summary>
    public double P50Ms { get; init; }

    public double P99Ms { get; init; }

    public double P999Ms { get; init; }

    public double MaxMs { get; init; }

    /// <summary>The first few errors, for the summary (<c>400 {"error":...,"line":3}</c>, <c>transport: ...</c>).</summary>
    public IReadOnlyList<string> ErrorSamples { get; init; } = [];

    /// <summary>True when the run was cancelled (Ctrl-C) rather than reaching its event count or duration.</summary>
    public bool Cancelled { get; init; }

    /// <summary>With <see cref="BenchOptions.RecordMessages"/>: the <c>msg</c> of every event accepted (2xx), else null.</summary>
    public IReadOnlyList<string>? AcceptedMessages { get; init; }

    /// <summary>With <see cref="BenchOptions.RecordMessages"/>: the <c>msg</c> of every event in a request given up, else null.</summary>
    public IReadOnlyList<string>? FailedMessages { get; init; }

    public double ElapsedSeconds => Elapsed.TotalSeconds;

    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? EventsAccepted / Elapsed.TotalSeconds : 0;

    public double MiBPerSecond => Elapsed > TimeSpan.Zero ? BytesAccepted / (1024.0 * 1024.0) / Elapsed.TotalSeconds : 0;

    /// <summary>Exit code of <c>nwdp bench</c>: 0 without errors, else 1.</summary>
    public int ExitCode => Errors == 0 ? 0 : 1;

    /// <summary>One JSON object on one line (no trailing newline).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("events_per_sec", Math.Round(EventsPerSecond, 1));
            w.WriteNumber("mib_per_sec", Math.Round(MiBPerSecond, 3));
            w.WriteNumber("p50_ms", Math.Round(P50Ms, 3));
            w.WriteNumber("p99_ms", Math.Round(P99Ms, 3));
            w.WriteNumber("p999_ms", Math.Round(P999Ms, 3));
            w.WriteNumber("max_ms", Math.Round(MaxMs, 3));
            w.WriteNumber("errors", Errors);
            w.WriteNumber("events", EventsAccepted);
            w.WriteNumber("requests", Requests);
            w.WriteNumber("elapsed_s", Math.Round(ElapsedSeconds, 3));
            w.WriteStartObject("status");
            foreach (var (code, count) in Status.OrderBy(kv => kv.Key)) w.WriteNumber(code.ToString(CultureInfo.InvariantCulture), count);
            w.WriteEndObject();
            w.WriteNumber("transport_errors", TransportErrors);
            w.WriteNumber("retries", Retries);
            w.WriteNumber("events_sent", EventsSent);
            w.WriteNumber("events_failed", EventsFailed);
            w.WriteNumber("bytes", BytesAccepted);
            w.WriteNumber("bytes_sent", BytesSent);
            w.WriteString("url", Url.ToString());
            w.WriteString("run_id", RunId);
            w.WriteBoolean("cancelled", Cancelled);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The human summary, several lines ending with a newline.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"nwdp bench: {Url}  run {RunId}{(Cancelled ? "  (cancelled)" : "")}").AppendLine();
        sb.Append(c, $"  events accepted   {EventsAccepted:N0} of {EventsSent:N0} sent ({EventsFailed:N0} failed)").AppendLine();
        sb.Append(c, $"  requests          {Requests:N0} ({Retries:N0} retried after 429/503)").AppendLine();
        sb.Append(c, $"  elapsed           {ElapsedSeconds:0.000} s").AppendLine();
        sb.Append(c, $"  throughput        {EventsPerSecond:N0} events/s, {MiBPerSecond:0.00} MiB/s").AppendLine();
        sb.Append(c, $"  latency           p50 {P50Ms:0.00} ms  p99 {P99Ms:0.00} ms  p999 {P999Ms:0.00} ms  max {MaxMs:0.00} ms").AppendLine();
        sb.Append("  status           ");
        if (Status.Count == 0) sb.Append(" none");
        foreach (var (code, count) in Status.OrderBy(kv => kv.Key)) sb.Append(c, $" {code}: {count:N0}");
        sb.AppendLine();
        sb.Append(c, $"  transport errors  {TransportErrors:N0}").AppendLine();
        sb.Append(c, $"  errors            {Errors:N0}").AppendLine();
        foreach (var sample in ErrorSamples) sb.Append("    ").AppendLine(sample);
        return sb.ToString();
    }
}
