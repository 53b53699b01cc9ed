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
/// <param name="InFiles">With <c>--e2e</c>: the run's events found in the files sink's part files so far (while
/// <paramref name="Landing"/>, only acknowledged ones).</param>
/// <param name="Landing">True while the load is over and the bench waits for the rest of the events to reach the files.</param>
/// <param name="WaitLeft">While <paramref name="Landing"/>: how much longer the bench waits at most.</param>
public sealed record BenchProgress(
    TimeSpan Elapsed,
    long EventsSent,
    long EventsAccepted,
    double EventsPerSecond,
    long Requests,
    long Retries,
    long Errors,
    int InFlight,
    bool Final,
    long? InFiles = null,
    bool Landing = false,
    TimeSpan? WaitLeft = null)
{
    /// <summary>
    /// One human line: <c>[   3.0s] sent 312,400  accepted 310,000  104,233 ev/s  in flight 64  retries 12  errors 0  in files 280,000</c>,
    /// or while landing <c>[  33.0s] waiting for files: 990,000 of 1,000,000 acknowledged events in files (up to 87 s more)</c>.
    /// </summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        if (Landing)
            return string.Format(c, "[{0,7:0.0}s] waiting for files: {1:N0} of {2:N0} acknowledged events in files (up to {3:0} s more)",
                Elapsed.TotalSeconds, InFiles ?? 0, EventsAccepted, Math.Max(0, (WaitLeft ?? TimeSpan.Zero).TotalSeconds));
        var line = string.Format(c, "[{0,7:0.0}s] sent {1:N0}  accepted {2:N0}  {3:N0} ev/s  in flight {4}  retries {5:N0}  errors {6:N0}",
            Elapsed.TotalSeconds, EventsSent, EventsAccepted, EventsPerSecond, InFlight, Retries, Errors);
        return InFiles is { } inFiles ? line + string.Format(c, "  in files {0:N0}", inFiles) : line;
    }
}

/// <summary>One node of a bench run: requests sent to it, events it acknowledged, requests it failed (connection refused
/// or cut, 503/429) that went to another node.</summary>
public sealed record BenchUrlReport(Uri Url, long Requests, long EventsAccepted, long FailedOver);

/// <summary>A stretch with no acknowledgement from any node: from the last one before it (wall clock), and how long.</summary>
public sealed record AckGap(DateTimeOffset From, TimeSpan Length);

/// <summary>What a bench run did. <see cref="ToJson"/> is the <c>nwdp bench --json</c> output, <see cref="ToText"/> the human summary.</summary>
public sealed record BenchReport
{
    public required Uri Url { get; init; }

    public required string RunId { get; init; }

    /// <summary>Per node, in the order given (one entry without failover).</summary>
    public IReadOnlyList<BenchUrlReport> Urls { get; init; } = [];

    /// <summary>Requests a node failed that went to another node (several nodes only).</summary>
    public long Failovers { get; init; }

    /// <summary>Events in batches resent to another node after their answer was lost (connection cut, timeout): the
    /// node may have taken them, so they may arrive twice (<see cref="EndToEndReport.DuplicatesOfResent"/>).</summary>
    public long ResentEvents { get; init; }

    /// <summary>The longest time between two acknowledgements (from any node) during the run: the pause a restart or
    /// failover caused, as a sender saw it.</summary>
    public TimeSpan LongestAckGap { get; init; }

    /// <summary>Gaps at least this long are listed in <see cref="AckGaps"/>.</summary>
    public TimeSpan AckGapThreshold { get; init; }

    /// <summary>Every gap between acknowledgements of at least <see cref="AckGapThreshold"/>, in order (at most
    /// <see cref="BenchOptions.MaxAckGaps"/>).</summary>
    public IReadOnlyList<AckGap> AckGaps { get; init; } = [];

    /// <summary>The input's format the events were sent in (<see cref="BenchFormat.Name"/>).</summary>
    public string Format { get; init; } = "ndjson";

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

    /// <summary>When the bench stopped generating batches (requests in flight finished after it, until <see cref="Elapsed"/>).</summary>
    public TimeSpan LoadElapsed { get; init; }

    /// <summary>The start of the run left out of <see cref="Steady"/>.</summary>
    public TimeSpan Warmup { get; init; }

    /// <summary>Rate and latency between the warm-up and the end of the load; null when the load was shorter than the warm-up.</summary>
    public SteadyStateReport? Steady { get; init; }

    /// <summary>With <c>--e2e</c>: the events counted in the files sink; else null.</summary>
    public EndToEndReport? EndToEnd { get; init; }

    /// <summary>With <c>--pid</c>: the node's CPU and memory; else null.</summary>
    public NodeProcessReport? Node { get; init; }

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

    /// <summary>Exit code of <c>nwdp bench</c>: 0 without errors (and, with <c>--e2e</c>, every acknowledged event in files exactly once), else 1.</summary>
    public int ExitCode => Errors == 0 && EndToEnd is null or { ExactlyOnce: true } ? 0 : 1;

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
            w.WriteString("format", Format);
            w.WriteBoolean("cancelled", Cancelled);
            w.WriteNumber("load_elapsed_s", Math.Round(LoadElapsed.TotalSeconds, 3));
            w.WriteNumber("warmup_s", Math.Round(Warmup.TotalSeconds, 3));
            w.WriteStartArray("urls");
            foreach (var u in Urls)
            {
                w.WriteStartObject();
                w.WriteString("url", u.Url.ToString());
                w.WriteNumber("requests", u.Requests);
                w.WriteNumber("events", u.EventsAccepted);
                w.WriteNumber("failed_over", u.FailedOver);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("failovers", Failovers);
            w.WriteNumber("resent_events", ResentEvents);
            w.WriteNumber("longest_ack_gap_ms", Math.Round(LongestAckGap.TotalMilliseconds, 1));
            w.WriteNumber("ack_gap_threshold_ms", Math.Round(AckGapThreshold.TotalMilliseconds, 1));
            w.WriteStartArray("ack_gaps");
            foreach (var g in AckGaps)
            {
                w.WriteStartObject();
                w.WriteNumber("from_ms", g.From.ToUnixTimeMilliseconds());
                w.WriteNumber("ms", Math.Round(g.Length.TotalMilliseconds, 1));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteSteady(w);
            WriteEndToEnd(w);
            WriteNode(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private void WriteSteady(Utf8JsonWriter w)
    {
        if (Steady is not { } s)
        {
            w.WriteNull("steady");
            return;
        }
        w.WriteStartObject("steady");
        w.WriteNumber("from_s", Math.Round(s.From.TotalSeconds, 3));
        w.WriteNumber("to_s", Math.Round(s.To.TotalSeconds, 3));
        w.WriteNumber("events", s.Events);
        w.WriteNumber("events_per_sec", Math.Round(s.EventsPerSecond, 1));
        w.WriteNumber("requests", s.Requests);
        w.WriteNumber("p50_ms", Math.Round(s.P50Ms, 3));
        w.WriteNumber("p99_ms", Math.Round(s.P99Ms, 3));
        w.WriteNumber("p999_ms", Math.Round(s.P999Ms, 3));
        w.WriteNumber("max_ms", Math.Round(s.MaxMs, 3));
        w.WriteEndObject();
    }

    private void WriteEndToEnd(Utf8JsonWriter w)
    {
        if (EndToEnd is not { } e)
        {
            w.WriteNull("e2e");
            return;
        }
        w.WriteStartObject("e2e");
        w.WriteString("directory", e.Directory);
        w.WriteNumber("acknowledged", e.Acknowledged);
        w.WriteNumber("in_files_at_run_end", e.InFilesAtRunEnd);
        w.WriteNumber("in_files", e.InFilesAfterWait);
        w.WriteNumber("missing", e.Missing);
        w.WriteNumber("duplicates", e.Duplicates);
        w.WriteNumber("duplicates_of_resent", e.DuplicatesOfResent);
        w.WriteNumber("unacknowledged_in_files", e.Unacknowledged);
        w.WriteBoolean("exactly_once", e.ExactlyOnce);
        w.WriteNumber("waited_s", Math.Round(e.Waited.TotalSeconds, 3));
        w.WriteNumber("last_landed_after_s", Math.Round(e.LastLandedAfter.TotalSeconds, 3));
        if (e.SteadyIntoFilesPerSecond is { } rate) w.WriteNumber("steady_into_files_per_sec", Math.Round(rate, 1));
        else w.WriteNull("steady_into_files_per_sec");
        w.WriteNumber("files", e.Files);
        w.WriteNumber("avro_files_skipped", e.AvroFilesSkipped);
        w.WriteStartArray("missing_ranges");
        foreach (var (first, last) in e.MissingRanges)
        {
            w.WriteStartArray();
            w.WriteNumberValue(first);
            w.WriteNumberValue(last);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("duplicate_samples");
        foreach (var seq in e.DuplicateSamples) w.WriteNumberValue(seq);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteNode(Utf8JsonWriter w)
    {
        if (Node is not { } n)
        {
            w.WriteNull("node");
            return;
        }
        w.WriteStartObject("node");
        w.WriteNumber("pid", n.Pid);
        w.WriteNumber("cpu_percent", Math.Round(n.CpuPercent, 1));
        if (n.SteadyCpuPercent is { } steady) w.WriteNumber("steady_cpu_percent", Math.Round(steady, 1));
        else w.WriteNull("steady_cpu_percent");
        if (n.CpuMicrosPerEvent is { } perEvent) w.WriteNumber("cpu_us_per_event", Math.Round(perEvent, 3));
        else w.WriteNull("cpu_us_per_event");
        w.WriteNumber("rss_max_mib", Math.Round(n.RssMaxBytes / 1048576.0, 1));
        w.WriteNumber("rss_end_mib", Math.Round(n.RssEndBytes / 1048576.0, 1));
        if (n.RssPeakBytes is { } peak) w.WriteNumber("rss_peak_mib", Math.Round(peak / 1048576.0, 1));
        else w.WriteNull("rss_peak_mib");
        if (n.Note is { } note) w.WriteString("note", note);
        w.WriteEndObject();
    }

    /// <summary>The human summary, several lines ending with a newline.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"nwdp bench: {Url}  run {RunId}{(Format != "ndjson" ? "  format " + Format : "")}{(Cancelled ? "  (cancelled)" : "")}").AppendLine();
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
        if (Urls.Count > 1)
        {
            sb.Append(c, $"  nodes             {Urls.Count}: {Failovers:N0} requests failed over to another node, {ResentEvents:N0} events resent after a lost answer").AppendLine();
            foreach (var u in Urls)
                sb.Append(c, $"    {u.Url}  {u.EventsAccepted:N0} events, {u.Requests:N0} requests, {u.FailedOver:N0} failed over").AppendLine();
        }
        sb.Append(c, $"  longest pause     {LongestAckGap.TotalMilliseconds:N0} ms without an acknowledgement ({AckGaps.Count:N0} gaps of {AckGapThreshold.TotalMilliseconds:N0} ms or more)").AppendLine();
        foreach (var sample in ErrorSamples) sb.Append("    ").AppendLine(sample);
        if (Steady is { } s)
        {
            sb.Append(c, $"  steady state      {s.EventsPerSecond:N0} events/s from {s.From.TotalSeconds:0.0} s to {s.To.TotalSeconds:0.0} s (after the {Warmup.TotalSeconds:0.#} s warm-up)").AppendLine();
            sb.Append(c, $"    latency         p50 {s.P50Ms:0.00} ms  p99 {s.P99Ms:0.00} ms  p999 {s.P999Ms:0.00} ms  max {s.MaxMs:0.00} ms ({s.Requests:N0} requests)").AppendLine();
        }
        else
        {
            sb.Append(c, $"  steady state      none: the load ({LoadElapsed.TotalSeconds:0.0} s) was not longer than the {Warmup.TotalSeconds:0.#} s warm-up").AppendLine();
        }
        if (Node is { } n)
        {
            sb.Append(c, $"  node process      pid {n.Pid}: CPU {n.CpuPercent:0}% of a core");
            if (n.SteadyCpuPercent is { } steadyCpu) sb.Append(c, $", {steadyCpu:0}% in the steady state");
            if (n.CpuMicrosPerEvent is { } perEvent) sb.Append(c, $" ({perEvent:0.0} µs of CPU per event)");
            sb.AppendLine();
            sb.Append(c, $"    memory          RSS max {n.RssMaxBytes / 1048576.0:0} MiB, at the end {n.RssEndBytes / 1048576.0:0} MiB");
            if (n.RssPeakBytes is { } peak) sb.Append(c, $", lifetime peak {peak / 1048576.0:0} MiB");
            sb.AppendLine();
            if (n.Note is { } note) sb.Append("    ").AppendLine(note);
        }
        if (EndToEnd is { } e)
        {
            sb.Append(c, $"  end to end        {e.InFilesAtRunEnd:N0} of {e.Acknowledged:N0} acknowledged events in files when the run ended, {e.InFilesAfterWait:N0} after waiting {e.Waited.TotalSeconds:0.0} s").AppendLine();
            if (e.SteadyIntoFilesPerSecond is { } into) sb.Append(c, $"    into files      {into:N0} events/s in the steady state").AppendLine();
            sb.Append(c, $"    exactly once    {(e.ExactlyOnce ? "yes" : "NO")}: {e.Missing:N0} missing, {e.Duplicates:N0} duplicates{(e.DuplicatesOfResent > 0 ? $" of which {e.DuplicatesOfResent:N0} the bench's own resends after a lost answer" : "")} ({e.Unacknowledged:N0} unacknowledged events also in files); {e.Files:N0} files in {e.Directory}").AppendLine();
            foreach (var (first, last) in e.MissingRanges) sb.Append(c, $"    missing seq {first}{(last > first ? $"..{last}" : "")}").AppendLine();
            if (e.DuplicateSamples.Count > 0) sb.Append(c, $"    duplicated seq {string.Join(", ", e.DuplicateSamples)}").AppendLine();
            if (e.AvroFilesSkipped > 0) sb.Append(c, $"    {e.AvroFilesSkipped:N0} Avro part files were not read (format = avro): only NDJSON files are checked").AppendLine();
        }
        return sb.ToString();
    }
}
