namespace NeverwinterDP.Host.Bench;

/// <summary>
/// The steady-state figures: the load between the warm-up and the moment the bench stopped generating batches.
/// </summary>
/// <param name="From">Start of the window (the warm-up), since the run started.</param>
/// <param name="To">End of the window (the load stopped).</param>
/// <param name="Events">Events acknowledged within the window.</param>
/// <param name="EventsPerSecond">Their rate.</param>
/// <param name="Requests">Requests sent within the window (their latencies below).</param>
public sealed record SteadyStateReport(
    TimeSpan From,
    TimeSpan To,
    long Events,
    double EventsPerSecond,
    long Requests,
    double P50Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs);

/// <summary>
/// The end-to-end check (<c>--e2e</c>): of the events the node acknowledged (2xx), how many the files sink
/// published by the end of the run and after waiting, and whether each is there exactly once.
/// </summary>
public sealed record EndToEndReport
{
    /// <summary>The topic directory searched (several, comma-separated, with several <c>--e2e</c> directories).</summary>
    public required string Directory { get; init; }

    /// <summary>Events in requests answered 2xx.</summary>
    public long Acknowledged { get; init; }

    /// <summary>Acknowledged events in published files when the last request was answered.</summary>
    public long InFilesAtRunEnd { get; init; }

    /// <summary>Acknowledged events in published files at the end of the wait.</summary>
    public long InFilesAfterWait { get; init; }

    /// <summary>Acknowledged events not found in any file.</summary>
    public long Missing => Acknowledged - InFilesAfterWait;

    /// <summary>Lines of this run found again in files: copies beyond the first.</summary>
    public long Duplicates { get; init; }

    /// <summary>Of <see cref="Duplicates"/>, copies of events the bench itself sent twice: a batch whose answer was lost
    /// (connection cut, timeout) was resent to another node, and both copies arrived. The sender's duplicate, which the
    /// node cannot tell from a new batch; not counted against <see cref="ExactlyOnce"/>.</summary>
    public long DuplicatesOfResent { get; init; }

    /// <summary>A few sequence numbers found more than once.</summary>
    public IReadOnlyList<long> DuplicateSamples { get; init; } = [];

    /// <summary>Events in files whose request was not acknowledged (given up after a timeout, yet it arrived): not an error.</summary>
    public long Unacknowledged { get; init; }

    /// <summary>The first few runs of missing sequence numbers.</summary>
    public IReadOnlyList<(long First, long Last)> MissingRanges { get; init; } = [];

    /// <summary>When the run ended (every request answered), since it started.</summary>
    public TimeSpan RunEnd { get; init; }

    /// <summary>How long the bench waited after the run.</summary>
    public TimeSpan Waited { get; init; }

    /// <summary>After the run, when the last file holding more of the run's events appeared (zero: none after the run).</summary>
    public TimeSpan LastLandedAfter { get; init; }

    /// <summary>Published NDJSON part files read.</summary>
    public int Files { get; init; }

    /// <summary>Avro part files seen and not read (<c>format = avro</c>): their events count as missing.</summary>
    public int AvroFilesSkipped { get; init; }

    /// <summary>The rate at which the run's events appeared in files during the steady-state window; null without one.</summary>
    public double? SteadyIntoFilesPerSecond { get; init; }

    /// <summary>Every acknowledged event is in the files exactly once (the bench's own resends aside: <see cref="DuplicatesOfResent"/>).</summary>
    public bool ExactlyOnce => Missing == 0 && Duplicates - DuplicatesOfResent == 0;
}
