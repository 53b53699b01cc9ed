namespace NeverwinterDP.Host.Bench;

/// <summary>
/// What <see cref="BenchRunner"/> sends: how many events, in which batches, over how many connections, how large
/// and of which log type. The defaults are those of <c>nwdp bench</c>.
/// </summary>
public sealed record BenchOptions
{
    /// <summary>The events URL (<c>http://host:port/v1/events</c>); see <see cref="ResolveEventsUrl"/> for base URLs.</summary>
    public required Uri Url { get; init; }

    /// <summary>
    /// Every node the batches are spread over (<c>--url</c> repeated): worker <c>i</c> sends to node <c>i mod n</c>,
    /// and a batch refused by one (connection refused or cut, 503/429) goes to the next (<see cref="BenchTargets"/>).
    /// Defaults to <see cref="Url"/> alone, which keeps the single-node behaviour (no failover).
    /// </summary>
    public IReadOnlyList<Uri> Urls
    {
        get => _urls is { Count: > 0 } ? _urls : [Url];
        init => _urls = value;
    }

    private readonly IReadOnlyList<Uri>? _urls;

    /// <summary>With several <see cref="Urls"/>: how long a node that failed a batch is passed over before it is tried again.</summary>
    public TimeSpan FailoverCoolDown { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A gap between two acknowledgements (any node) at least this long is listed in <see cref="BenchReport.AckGaps"/>.</summary>
    public TimeSpan AckGapThreshold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>At most this many gaps are listed (the first ones); the longest is reported whatever the count.</summary>
    public const int MaxAckGaps = 10_000;

    /// <summary>Events to send in all; null means no limit (then <see cref="Duration"/> or cancellation stops the run).</summary>
    public long? Events { get; init; } = 1_000_000;

    /// <summary>Stop generating new batches after this long; batches already in flight still finish.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Events per request.</summary>
    public int Batch { get; init; } = 100;

    /// <summary>Concurrent requests (and HTTP connections).</summary>
    public int Concurrency { get; init; } = 64;

    /// <summary>
    /// Events per second to send at most (a steady load, e.g. for a soak); null sends as fast as the node takes them.
    /// Paced by a <see cref="TokenBucket"/> holding at most a tenth of a second's events (at least one batch), so a
    /// stall is not made up for in a burst. Failed batches count against the rate like accepted ones.
    /// </summary>
    public double? Rate { get; init; }

    /// <summary>Bytes per NDJSON line, not counting its newline. Lines are padded up to it; they are never
    /// shorter than their fields (about 170 bytes; long message heads are cut to fit).</summary>
    public int EventSize { get; init; } = 200;

    /// <summary>The log type of every event (the <c>type</c> field): letters, digits, <c>.</c>, <c>_</c>, <c>-</c>.</summary>
    public string Type { get; init; } = "bench";

    /// <summary>Distinct fake <c>host</c> values the events are spread over.</summary>
    public int Hosts { get; init; } = 16;

    /// <summary>The input the events are sent through and its body format (default: NDJSON on <c>/v1/events</c>); <see cref="Url"/> is that input's route.</summary>
    public BenchFormat Format { get; init; } = BenchFormat.Named("ndjson")!;

    /// <summary>Send bodies gzip-compressed (<c>Content-Encoding: gzip</c>).</summary>
    public bool Gzip { get; init; }

    /// <summary>Keep the <c>msg</c> of every event in <see cref="BenchReport.AcceptedMessages"/> /
    /// <see cref="BenchReport.FailedMessages"/>, so a test can check that each arrived exactly once.
    /// Costs memory: only for tests and small runs.</summary>
    public bool RecordMessages { get; init; }

    /// <summary>Identifies this run inside every message (<c>run=ID seq=N</c>); random when null.
    /// Letters and digits only.</summary>
    public string? RunId { get; init; }

    /// <summary>The start of the run left out of the steady-state figures (rate, latency, the node's CPU):
    /// connections opening, JIT, the node's buffers filling. Zero counts the whole load.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// End-to-end check: the node's data directory (or its files sink's directory). The run's events are counted
    /// in the published part files of the <see cref="Type"/>'s topic during the run and after it, until every
    /// acknowledged one is there or <see cref="EndToEndWait"/> passed; null for no check.
    /// </summary>
    public string? EndToEndDirectory
    {
        get => EndToEndDirectories.Count > 0 ? EndToEndDirectories[0] : null;
        init => EndToEndDirectories = value is null ? [] : [value];
    }

    /// <summary>The end-to-end check over several nodes' data (or files sink) directories: an event counts once
    /// whichever holds it, and a copy in two of them is a duplicate. <see cref="EndToEndDirectory"/> is the first.</summary>
    public IReadOnlyList<string> EndToEndDirectories { get; init; } = [];

    /// <summary>After the run, how long to wait for acknowledged events still missing from the files.</summary>
    public TimeSpan EndToEndWait { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the part files are looked at for new ones.</summary>
    public TimeSpan EndToEndScanInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The node's process id on this machine: its CPU and resident memory are sampled through the run; null for none.</summary>
    public int? NodePid { get; init; }

    /// <summary>How often progress is reported.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up on one request (a transport error) after this long.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A batch answered 429/503 is resent after <c>Retry-After</c> until accepted; after retrying for
    /// this long it is given up and counted as an error.</summary>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest <c>Retry-After</c> honoured; longer ones are cut to this.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Once the run is cancelled, how long requests in flight (and their retries) may still take
    /// before they are aborted and counted as errors.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The events URL for what a user typed: a base URL (<c>http://127.0.0.1:8080</c>, with or without a path
    /// prefix) gets <c>/v1/events</c> appended, a URL already ending in <c>/v1/events</c> is kept, and
    /// <c>HOST:PORT</c> without a scheme means http. Query strings (<c>?type=</c>) are kept.
    /// </summary>
    public static bool TryResolveEventsUrl(string raw, out Uri url, out string error) => TryResolveUrl(raw, "/v1/events", out url, out error);

    /// <summary>As <see cref="TryResolveEventsUrl"/>, for the route <paramref name="route"/> of an input (<see cref="BenchFormat.Path"/>).</summary>
    public static bool TryResolveUrl(string raw, string route, out Uri url, out string error)
    {
        if (route.Length == 0) return TryResolveTcp(raw, out url, out error);
        url = null!;
        error = "";
        raw = raw.Trim();
        if (raw.Length == 0)
        {
            error = "is empty";
            return false;
        }
        if (!raw.Contains("://", StringComparison.Ordinal)) raw = "http://" + raw;
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || string.IsNullOrEmpty(parsed.Host))
        {
            error = $"must be an http(s) URL like http://127.0.0.1:8080, got '{raw}'";
            return false;
        }
        var builder = new UriBuilder(parsed);
        var path = builder.Path.TrimEnd('/');
        if (!path.EndsWith(route, StringComparison.Ordinal)) path += route;
        builder.Path = path;
        url = builder.Uri;
        return true;
    }

    /// <summary>An input that is not HTTP (syslog, ZeroMQ): <c>tcp://HOST:PORT</c>, or <c>HOST:PORT</c>.</summary>
    private static bool TryResolveTcp(string raw, out Uri url, out string error)
    {
        url = null!;
        error = "";
        raw = raw.Trim();
        if (!raw.Contains("://", StringComparison.Ordinal)) raw = "tcp://" + raw;
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var parsed) || parsed.Scheme != "tcp" || string.IsNullOrEmpty(parsed.Host) || parsed.Port is < 1 or > 65535)
        {
            error = $"must be the input's tcp://HOST:PORT (or HOST:PORT), got '{raw}'";
            return false;
        }
        url = parsed;
        return true;
    }

    /// <inheritdoc cref="TryResolveEventsUrl"/>
    public static Uri ResolveEventsUrl(string raw) =>
        TryResolveEventsUrl(raw, out var url, out var error) ? url : throw new ArgumentException("url " + error, nameof(raw));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Format.OverHttp ? Url.Scheme is not ("http" or "https") : Url.Scheme != "tcp" || Url.Port < 1)
            throw new ArgumentException(Format.OverHttp ? "Url must be http or https" : $"Url must be tcp://HOST:PORT for format {Format.Name}", nameof(Url));
        if (Urls.Count > 1 && !Format.OverHttp) throw new ArgumentException($"Urls: several nodes are for the HTTP inputs, not {Format.Name}", nameof(Urls));
        if (Urls.Count > MaxUrls) throw new ArgumentException($"Urls: at most {MaxUrls}", nameof(Urls));
        if (Urls.Count > 1 && Urls.Any(u => u.Scheme is not ("http" or "https"))) throw new ArgumentException("Urls must be http or https", nameof(Urls));
        if (FailoverCoolDown < TimeSpan.Zero) throw new ArgumentException("FailoverCoolDown must not be negative", nameof(FailoverCoolDown));
        if (AckGapThreshold <= TimeSpan.Zero) throw new ArgumentException("AckGapThreshold must be positive", nameof(AckGapThreshold));
        if (Gzip && !Format.OverHttp) throw new ArgumentException($"Gzip is for HTTP inputs, not {Format.Name}", nameof(Gzip));
        if (Events is < 1) throw new ArgumentException("Events must be at least 1 (or null for no limit)", nameof(Events));
        if (Duration is { } d && d <= TimeSpan.Zero) throw new ArgumentException("Duration must be positive", nameof(Duration));
        if (Batch < 1) throw new ArgumentException("Batch must be at least 1", nameof(Batch));
        if (Concurrency < 1) throw new ArgumentException("Concurrency must be at least 1", nameof(Concurrency));
        if (Rate is { } rate && !(rate > 0 && !double.IsInfinity(rate))) throw new ArgumentException("Rate must be positive (or null for no limit)", nameof(Rate));
        if (EventSize < 1) throw new ArgumentException("EventSize must be at least 1", nameof(EventSize));
        if (Hosts < 1) throw new ArgumentException("Hosts must be at least 1", nameof(Hosts));
        if (!BenchEventGenerator.IsValidType(Type)) throw new ArgumentException("Type must be 1-100 letters, digits, '.', '_' or '-'", nameof(Type));
        if (RunId is not null && !BenchEventGenerator.IsValidRunId(RunId)) throw new ArgumentException("RunId must be 1-32 letters or digits", nameof(RunId));
        if ((long)Batch * (Math.Max(EventSize, BenchEventGenerator.MaxBaseLineLength) + 1) > MaxBodyBytes)
            throw new ArgumentException($"Batch x EventSize must stay under {MaxBodyBytes / (1024 * 1024)} MiB per request", nameof(Batch));
        if (ProgressInterval <= TimeSpan.Zero) throw new ArgumentException("ProgressInterval must be positive", nameof(ProgressInterval));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("RequestTimeout must be positive", nameof(RequestTimeout));
        if (RetryTimeout < TimeSpan.Zero) throw new ArgumentException("RetryTimeout must not be negative", nameof(RetryTimeout));
        if (DrainTimeout < TimeSpan.Zero) throw new ArgumentException("DrainTimeout must not be negative", nameof(DrainTimeout));
        if (Warmup < TimeSpan.Zero) throw new ArgumentException("Warmup must not be negative", nameof(Warmup));
        foreach (var dir in EndToEndDirectories)
            if (!Directory.Exists(dir)) throw new ArgumentException($"EndToEndDirectory '{dir}' is not a directory", nameof(EndToEndDirectory));
        if (EndToEndWait < TimeSpan.Zero) throw new ArgumentException("EndToEndWait must not be negative", nameof(EndToEndWait));
        if (EndToEndScanInterval <= TimeSpan.Zero) throw new ArgumentException("EndToEndScanInterval must be positive", nameof(EndToEndScanInterval));
        if (NodePid is < 1) throw new ArgumentException("NodePid must be a process id", nameof(NodePid));
    }

    /// <summary>Most nodes one bench spreads its batches over.</summary>
    public const int MaxUrls = 64;

    /// <summary>Largest request body the bench builds (uncompressed).</summary>
    public const long MaxBodyBytes = 256L * 1024 * 1024;
}
