using System.Buffers;

namespace NeverwinterDP.Protocol;

/// <summary>
/// A <c>neverwinterdp.HourMarker</c> (<c>Schemas/HourMarker.avsc</c>): node <paramref name="Node"/> wrote
/// <paramref name="Count"/> events of the hour starting at <paramref name="HourMs"/> into <paramref name="Partition"/> of
/// <paramref name="Topic"/>, and Kafka acknowledged them all before this marker.
/// </summary>
public sealed record HourMarker(string Topic, long HourMs, string Node, int Partition, long Count);

/// <summary>Avro binary encoding of <see cref="HourMarker"/> in the Confluent frame (schema id <see cref="SchemaIds.HourMarker"/>).</summary>
public static class HourMarkerAvro
{
    /// <summary>The Confluent frame holding <paramref name="marker"/>: the value of a marker record on a log topic.</summary>
    public static byte[] EncodeFramed(HourMarker marker)
    {
        ArgumentNullException.ThrowIfNull(marker);
        var buffer = new ArrayBufferWriter<byte>(64 + marker.Topic.Length + marker.Node.Length);
        ConfluentWireFormat.WriteHeader(buffer, SchemaIds.HourMarker);
        var w = new AvroBinaryWriter(buffer);
        w.WriteString(marker.Topic);
        w.WriteLong(marker.HourMs);
        w.WriteString(marker.Node);
        w.WriteLong(marker.Partition); // Avro int and long share the zig-zag varint encoding
        w.WriteLong(marker.Count);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when <paramref name="frame"/> is a Confluent frame carrying the hour marker's schema id.</summary>
    public static bool IsMarker(ReadOnlySpan<byte> frame) =>
        ConfluentWireFormat.TryUnframe(frame, out var schemaId, out _) && schemaId == SchemaIds.HourMarker;

    /// <summary>Decodes a framed marker.</summary>
    /// <exception cref="MalformedRecordException">Bad frame, another schema id, or bad Avro.</exception>
    public static HourMarker DecodeFramed(ReadOnlySpan<byte> frame)
    {
        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);
        if (schemaId != SchemaIds.HourMarker)
            throw new MalformedRecordException($"Confluent frame carries schema id {schemaId}, expected {SchemaIds.HourMarker} (HourMarker).");
        var r = new AvroBinaryReader(payload);
        var topic = r.ReadString("topic");
        var hour = r.ReadLong("hour");
        var node = r.ReadString("node");
        var partition = r.ReadLong("partition");
        var count = r.ReadLong("count");
        if (r.Remaining != 0) throw new MalformedRecordException($"Avro HourMarker: {r.Remaining} bytes left over after the record.");
        if (partition is < int.MinValue or > int.MaxValue) throw new MalformedRecordException($"Avro HourMarker: partition {partition} is not an int.");
        return new HourMarker(topic, hour, node, (int)partition, count);
    }
}
