using System.Buffers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>An hour marker a pump node read: ingress node <paramref name="Node"/> wrote <paramref name="Count"/> events into <paramref name="Partition"/>.</summary>
public readonly record struct MarkerSeen(string Node, int Partition, long Count);

/// <summary>
/// What one pump node (<paramref name="Observer"/>) read of hour <paramref name="HourMs"/> of <paramref name="Topic"/> for
/// sink instance <paramref name="Sink"/>: the markers of the partitions it read, the events per ingress node, the events
/// it delivered and those read after their node's marker (late). Shared on <see cref="TopicNames.WatermarkObservations"/>
/// (compacted, key <see cref="Key"/>): each node replaces its own record, so a partition that moved to another node mid-hour
/// keeps what the first node read of it in the first node's record.
/// </summary>
public sealed record ObservedHour(string Sink, string Topic, long HourMs, string Observer, IReadOnlyList<MarkerSeen> Markers,
    IReadOnlyDictionary<string, long> EventsByNode, long Delivered, long Late)
{
    public string Key => KeyOf(Sink, Topic, HourMs, Observer);

    public static string KeyOf(string sink, string topic, long hourMs, string observer) => $"{sink}|{topic}|{hourMs}|{observer}";

    public bool HasMarker(string node, int partition)
    {
        foreach (var m in Markers)
            if (m.Partition == partition && m.Node == node) return true;
        return false;
    }

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("sink", Sink);
            w.WriteString("topic", Topic);
            w.WriteNumber("hour_ms", HourMs);
            w.WriteString("observer", Observer);
            w.WriteStartArray("markers");
            foreach (var m in Markers)
            {
                w.WriteStartObject();
                w.WriteString("node", m.Node);
                w.WriteNumber("partition", m.Partition);
                w.WriteNumber("count", m.Count);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("events_by_node");
            foreach (var (node, events) in EventsByNode) w.WriteNumber(node, events);
            w.WriteEndObject();
            w.WriteNumber("delivered", Delivered);
            w.WriteNumber("late", Late);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="MalformedRecordException">Not such a record.</exception>
    public static ObservedHour FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var r = doc.RootElement;
            return new ObservedHour(r.GetProperty("sink").GetString()!, r.GetProperty("topic").GetString()!, r.GetProperty("hour_ms").GetInt64(),
                r.GetProperty("observer").GetString()!,
                r.GetProperty("markers").EnumerateArray()
                    .Select(m => new MarkerSeen(m.GetProperty("node").GetString()!, m.GetProperty("partition").GetInt32(), m.GetProperty("count").GetInt64())).ToList(),
                r.GetProperty("events_by_node").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal),
                r.GetProperty("delivered").GetInt64(), r.GetProperty("late").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new MalformedRecordException($"not a watermark observation: {e.Message}");
        }
    }

    public static byte[] KeyBytes(string key) => Encoding.UTF8.GetBytes(key);
}

/// <summary>
/// Every pump node's observations of one hour together: a marker counts once (the largest count read, since a late
/// marker only grows), events and late events are summed over the nodes that read them.
/// </summary>
public sealed class MergedHour
{
    public Dictionary<(string Node, int Partition), long> Markers { get; } = new();
    public Dictionary<string, long> EventsByNode { get; } = new(StringComparer.Ordinal);
    public long Delivered { get; private set; }
    public long Late { get; private set; }

    public static MergedHour Of(IEnumerable<ObservedHour> observed)
    {
        var merged = new MergedHour();
        foreach (var o in observed)
        {
            foreach (var m in o.Markers)
                merged.Markers[(m.Node, m.Partition)] = Math.Max(m.Count, merged.Markers.GetValueOrDefault((m.Node, m.Partition)));
            foreach (var (node, events) in o.EventsByNode) merged.EventsByNode[node] = merged.EventsByNode.GetValueOrDefault(node) + events;
            merged.Delivered += o.Delivered;
            merged.Late += o.Late;
        }
        return merged;
    }
}
