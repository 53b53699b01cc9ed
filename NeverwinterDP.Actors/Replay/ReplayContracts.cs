using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NeverwinterDP.Actors.Replay;

/// <summary>
/// What to replay (<c>nwdp replay</c>, <c>POST /v1/admin/replay</c>): a log type or topic, optionally one partition,
/// a range by time (epoch ms, <c>From</c> inclusive, <c>To</c> exclusive, matched on the records' Kafka timestamps)
/// or by offset (<c>FromOffset</c> inclusive, <c>ToOffset</c> exclusive), into a sink instance or onto another topic.
/// </summary>
public sealed record ReplayRequest
{
    public string? Type { get; init; }
    public string? Topic { get; init; }
    public int? Partition { get; init; }
    public long? From { get; init; }
    public long? To { get; init; }
    public long? FromOffset { get; init; }
    public long? ToOffset { get; init; }
    public string? Sink { get; init; }
    public string? ToTopic { get; init; }

    /// <summary>The topic read: <see cref="Topic"/>, else <c>nwdp.logs.&lt;type&gt;</c>.</summary>
    public string SourceTopic => Topic ?? Protocol.TopicNames.ForType(Type ?? "");

    /// <summary>The first problem with the request, naming the flag (<c>--sink</c>, ...), or null.</summary>
    public string? Problem()
    {
        if (Type is null == (Topic is null)) return "give one of --type or --topic";
        if (Type is { Length: 0 } || Topic is { Length: 0 }) return "--type and --topic must not be empty";
        if (Sink is null == (ToTopic is null)) return "give one of --sink (replay into a sink) or --to-topic (republish)";
        if (ToTopic is not null && ToTopic == SourceTopic) return "--to-topic must differ from the topic replayed";
        if (Partition is < 0) return "--partition must be 0 or more";
        if (From is not null && FromOffset is not null) return "give --from or --from-offset, not both";
        if (To is not null && ToOffset is not null) return "give --to or --to-offset, not both";
        if (From is null && FromOffset is null) return "give where to start: --from TIME or --from-offset N";
        if (FromOffset is < 0 || ToOffset is < 0) return "--from-offset and --to-offset must be 0 or more";
        if ((FromOffset is not null || ToOffset is not null) && Partition is null) return "--from-offset/--to-offset need --partition (offsets are per partition)";
        if (From is { } f && To is { } t && t <= f) return "--to must be after --from";
        if (FromOffset is { } fo && ToOffset is { } to && to <= fo) return "--to-offset must be above --from-offset";
        return null;
    }

    /// <summary>
    /// The job's id, derived from the request, so the same command finds the job it started before (to watch it, or
    /// to resume it after it was stopped) and two different requests never share one.
    /// </summary>
    public string Id()
    {
        var c = CultureInfo.InvariantCulture;
        var canonical = string.Join("|", SourceTopic, Partition?.ToString(c), From?.ToString(c), To?.ToString(c), FromOffset?.ToString(c), ToOffset?.ToString(c),
            Sink is null ? "" : "sink:" + Sink, ToTopic is null ? "" : "topic:" + ToTopic);
        return "r-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..12];
    }
}

/// <summary>Bad flags or a sink/topic that does not exist: refused before anything runs (400/404).</summary>
public sealed class ReplayRequestException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>The range asked for is (partly) no longer in Kafka: the message says what still is (416).</summary>
public sealed class ReplayRangeException(string message) : Exception(message);

/// <summary>One partition's share of a replay: offsets <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive).</summary>
public sealed record PartitionRange(int Partition, long Start, long End)
{
    public long Count => Math.Max(0, End - Start);
}

/// <summary>A partition's place in a job: where it started, where it is, where it ends.</summary>
public sealed record PartitionProgress(int Partition, long Start, long Position, long End);

/// <summary>
/// A replay job as the admin API shows it: <c>State</c> is running, done, stopped (by <c>DELETE</c> or the node
/// stopping; the same request resumes it) or failed (<c>Error</c> says why). <c>Done</c> of <c>Total</c> records
/// are behind; <c>ResumedAt</c> is how many were behind when this run picked the job up again.
/// </summary>
public sealed record ReplayStatus(string Id, ReplayRequest Request, string State, long Total, long Done, long Delivered, long DeadLettered, long Republished,
    double EventsPerSec, double? EtaSeconds, long StartedAtMs, long? FinishedAtMs, long ResumedAt, string? Error, IReadOnlyList<PartitionProgress> Partitions);
