using System.Buffers;
using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// "Hour <paramref name="HourMs"/> of <paramref name="Topic"/> is complete" for sink instance <paramref name="Sink"/>: what the
/// pump announces on <see cref="TopicNames.Watermarks"/> and the admin API serves. A later version of the same hour follows
/// late events or markers that arrived after it.
/// </summary>
/// <param name="Version">1 for the first announcement of the hour, then one more per change (late events, late markers).</param>
/// <param name="State"><see cref="Complete"/>, or <see cref="IncompleteClosed"/> when the grace period ended with markers missing.</param>
/// <param name="Reason">Why the hour closed incomplete (the nodes and partitions whose markers are missing); null when complete.</param>
/// <param name="Counts">Per partition (index = partition), the events of the hour the markers announce, summed over the nodes.</param>
/// <param name="Nodes">The ingress nodes expected in the hour (those that wrote in it, or wrote in the hour before).</param>
/// <param name="Delivered">Events of the hour this sink delivered (read with the markers; a replay after a crash may count some twice).</param>
/// <param name="LateEvents">Events of the hour this sink read after their node's marker in their partition.</param>
/// <param name="AnnouncedAtMs">When this version was announced (epoch ms, the node's clock).</param>
public sealed record HourCompletion(string Sink, string Topic, long HourMs, int Version, string State, string? Reason,
    IReadOnlyList<long> Counts, IReadOnlyList<string> Nodes, long Delivered, long LateEvents, long AnnouncedAtMs)
{
    public const string Complete = "complete";
    public const string IncompleteClosed = "incomplete-closed";

    /// <summary>Events of the hour the markers announce, all partitions.</summary>
    public long Events => Counts.Sum();

    public bool IsComplete => State == Complete;

    /// <summary>The hour as text, <c>yyyy-MM-ddTHH:00Z</c>.</summary>
    public string HourText => DateTimeOffset.FromUnixTimeMilliseconds(HourMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH':00Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The JSON record on <see cref="TopicNames.Watermarks"/> (and in the files sink's <c>_SUCCESS</c>), snake_case names.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("sink", Sink);
            w.WriteString("topic", Topic);
            w.WriteNumber("hour_ms", HourMs);
            w.WriteString("hour", HourText);
            w.WriteNumber("version", Version);
            w.WriteString("state", State);
            if (Reason is null) w.WriteNull("reason");
            else w.WriteString("reason", Reason);
            w.WriteNumber("events", Events);
            w.WriteStartArray("counts");
            foreach (var c in Counts) w.WriteNumberValue(c);
            w.WriteEndArray();
            w.WriteStartArray("nodes");
            foreach (var n in Nodes) w.WriteStringValue(n);
            w.WriteEndArray();
            w.WriteNumber("delivered", Delivered);
            w.WriteNumber("late_events", LateEvents);
            w.WriteNumber("announced_at_ms", AnnouncedAtMs);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="MalformedRecordException">Not such a record.</exception>
    public static HourCompletion FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var r = doc.RootElement;
            return new HourCompletion(
                r.GetProperty("sink").GetString()!, r.GetProperty("topic").GetString()!, r.GetProperty("hour_ms").GetInt64(),
                r.GetProperty("version").GetInt32(), r.GetProperty("state").GetString()!,
                r.GetProperty("reason").ValueKind == JsonValueKind.Null ? null : r.GetProperty("reason").GetString(),
                r.GetProperty("counts").EnumerateArray().Select(e => e.GetInt64()).ToList(),
                r.GetProperty("nodes").EnumerateArray().Select(e => e.GetString()!).ToList(),
                r.GetProperty("delivered").GetInt64(), r.GetProperty("late_events").GetInt64(), r.GetProperty("announced_at_ms").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new MalformedRecordException($"not an hour completion record: {e.Message}");
        }
    }
}
