using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeverwinterDP.Actors.Stats;

/// <summary>Where in the pipeline a <see cref="StatsRecord"/> counted.</summary>
public static class StatsPoints
{
    /// <summary>Per (minute, type, process, host), the six categories: what ingress took (Accepted, Spilled) plus heartbeats.</summary>
    public const string Ingress = "ingress";

    /// <summary>Per (minute, type): events made durable by ingress (in Kafka or spilled); heartbeats not included.</summary>
    public const string Accepted = "accepted";

    /// <summary>Per (minute, type): events Kafka acknowledged (at once for a direct write, at replay for a spilled one).</summary>
    public const string Bus = "bus";

    /// <summary>Per (minute, type, sink): events a sink delivered.</summary>
    public const string Delivered = "delivered";

    /// <summary>
    /// Per (sink, topic, partition): the offset below which the sink's records are counted as delivered, published
    /// after those counts (not a count: the next owner of the partition does not count those records again).
    /// </summary>
    public const string Counted = "counted";
}

/// <summary>
/// One record of the <c>nwdp.stats</c> topic (JSON): one node's count, so far, of one minute (UTC, of the events'
/// ingress time) at one point. A node publishes a minute when it closes (plus a grace) and again whenever its
/// counts change later, so the newest record per (node, point, sink, minute, type, process, host) is the count.
/// </summary>
public sealed record StatsRecord
{
    [JsonPropertyName("v")] public int Version { get; init; } = 1;

    /// <summary>The node that counted (its node id).</summary>
    [JsonPropertyName("node")] public string Node { get; init; } = "";

    /// <summary>One of <see cref="StatsPoints"/>.</summary>
    [JsonPropertyName("point")] public string Point { get; init; } = "";

    /// <summary>The sink, for <see cref="StatsPoints.Delivered"/>; else null.</summary>
    [JsonPropertyName("sink")] public string? Sink { get; init; }

    /// <summary>Start of the minute, ISO 8601 UTC (<c>2026-11-28T21:18:00Z</c>).</summary>
    [JsonPropertyName("minute")] public string Minute { get; init; } = "";

    /// <summary>Start of the minute, epoch milliseconds.</summary>
    [JsonPropertyName("minute_ms")] public long MinuteMs { get; init; }

    [JsonPropertyName("type")] public string Type { get; init; } = "";

    /// <summary>For <see cref="StatsPoints.Ingress"/>; null at the other points (they count per type).</summary>
    [JsonPropertyName("process")] public string? Process { get; init; }

    /// <summary>For <see cref="StatsPoints.Ingress"/>; null at the other points.</summary>
    [JsonPropertyName("host")] public string? Host { get; init; }

    [JsonPropertyName("lines")] public long Lines { get; init; }

    /// <summary>UTF-8 bytes of the events' messages.</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    /// <summary>For <see cref="StatsPoints.Ingress"/>: lines per category (all six names); else null.</summary>
    [JsonPropertyName("category_lines")] public Dictionary<string, long>? CategoryLines { get; init; }

    /// <summary>For <see cref="StatsPoints.Ingress"/>: message bytes per category; else null.</summary>
    [JsonPropertyName("category_bytes")] public Dictionary<string, long>? CategoryBytes { get; init; }

    /// <summary>For <see cref="StatsPoints.Counted"/>: the topic, partition and offset; else absent.</summary>
    [JsonPropertyName("topic"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Topic { get; init; }

    [JsonPropertyName("partition"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Partition { get; init; }

    [JsonPropertyName("offset"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Offset { get; init; }

    /// <summary>When the node published this record, epoch milliseconds (its clock).</summary>
    [JsonPropertyName("published_ms")] public long PublishedMs { get; init; }

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="JsonException">Not a stats record.</exception>
    public static StatsRecord FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<StatsRecord>(json, Json) ?? throw new JsonException("null stats record");

    /// <summary>The Kafka key: the host for ingress records, sink, topic and partition for counted positions, the type for the others.</summary>
    public string Key => Point == StatsPoints.Counted ? $"{Sink}|{Topic}|{Partition}" : Host ?? Type;

    public static string FormatMinute(long minuteMs) => DateTimeOffset.FromUnixTimeMilliseconds(minuteMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The highest counted position per (sink, topic, partition) (<see cref="StatsPoints.Counted"/>): what a counter has still to publish, what a store read of every node.</summary>
internal static class CountedPositions
{
    /// <summary>Keeps <paramref name="next"/> for the key unless a higher position is held already.</summary>
    public static void Raise(Dictionary<(string Sink, string Topic, int Partition), long> positions, (string Sink, string Topic, int Partition) key, long next)
    {
        if (next > positions.GetValueOrDefault(key, long.MinValue)) positions[key] = next;
    }
}
