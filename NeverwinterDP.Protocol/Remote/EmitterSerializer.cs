using System.Buffers;
using Akka.Actor;
using Akka.Serialization;

namespace NeverwinterDP.Protocol.Remote;

/// <summary>
/// Akka serializer of the <see cref="IEmitterMessage"/>s: compact binary (Avro zig-zag varints and
/// length-prefixed UTF-8), the events of a batch as <see cref="LogEventAvro"/> records back to back, so every
/// field (attributes, lineage) travels. Each message starts with a format version; a reader refuses others.
/// Both sides bind it with <see cref="Hocon"/>.
/// </summary>
public sealed class EmitterSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Serializer id in <c>akka.actor.serialization-identifiers</c>; unique among the system's serializers.</summary>
    public const int Id = 7350;

    /// <summary>Binds the serializer on a node or a client; add it to the actor system's configuration.</summary>
    public const string Hocon = """
        akka.actor {
          serializers.nwdp-emitter = "NeverwinterDP.Protocol.Remote.EmitterSerializer, NeverwinterDP.Protocol"
          serialization-bindings {
            "NeverwinterDP.Protocol.Remote.IEmitterMessage, NeverwinterDP.Protocol" = nwdp-emitter
          }
          serialization-identifiers {
            "NeverwinterDP.Protocol.Remote.EmitterSerializer, NeverwinterDP.Protocol" = 7350
          }
        }
        """;

    private const long FormatVersion = 1;
    private const string BatchManifest = "B";
    private const string AckManifest = "A";
    private const string RefusedManifest = "R";
    private const string HeartbeatManifest = "H";

    // The smallest LogEvent record is 12 bytes (two longs, nine empty strings, the end of the map, a long):
    // a lying event count cannot make the reader allocate more than the message's size.
    private const int MinEventBytes = 12;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        EmitBatch => BatchManifest,
        EmitAck => AckManifest,
        EmitRefused => RefusedManifest,
        Heartbeat => HeartbeatManifest,
        _ => throw new ArgumentException($"{nameof(EmitterSerializer)} cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        var output = new ArrayBufferWriter<byte>(obj is EmitBatch b ? 64 + b.Events.Count * 160 : 64);
        var w = new AvroBinaryWriter(output);
        w.WriteLong(FormatVersion);
        switch (obj)
        {
            case EmitBatch batch:
                WriteBatch(ref w, output, batch);
                return output.WrittenSpan.ToArray();
            case EmitAck ack:
                w.WriteString(ack.SourceId);
                w.WriteLong(ack.BatchSeq);
                w.WriteLong(ack.Count);
                break;
            case EmitRefused refused:
                w.WriteString(refused.SourceId);
                w.WriteLong(refused.BatchSeq);
                w.WriteString(refused.Reason);
                w.WriteLong((long)refused.RetryAfter.TotalMilliseconds);
                w.WriteLong(refused.Permanent ? 1 : 0);
                break;
            case Heartbeat heartbeat:
                w.WriteString(heartbeat.Host);
                w.WriteString(heartbeat.Process);
                w.WriteLong(heartbeat.TsMs);
                w.WriteLong(heartbeat.IntervalMs);
                break;
            default:
                throw new ArgumentException($"{nameof(EmitterSerializer)} cannot serialize {obj.GetType()}", nameof(obj));
        }
        w.Flush();
        return output.WrittenSpan.ToArray();
    }

    /// <exception cref="MalformedRecordException">The bytes are not a message of this format.</exception>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        var r = new AvroBinaryReader(bytes);
        var version = r.ReadLong("version");
        if (version != FormatVersion)
            throw new MalformedRecordException($"Emitter message format {version} is not understood here (this side reads {FormatVersion}).");
        object message = manifest switch
        {
            BatchManifest => ReadBatch(ref r, bytes.Length),
            AckManifest => new EmitAck(r.ReadString("sourceId"), r.ReadLong("batchSeq"), checked((int)r.ReadLong("count"))),
            RefusedManifest => new EmitRefused(r.ReadString("sourceId"), r.ReadLong("batchSeq"), r.ReadString("reason"),
                TimeSpan.FromMilliseconds(r.ReadLong("retryAfter")), r.ReadLong("permanent") != 0),
            HeartbeatManifest => new Heartbeat(r.ReadString("host"), r.ReadString("process"), r.ReadLong("tsMs"), r.ReadLong("intervalMs")),
            _ => throw new MalformedRecordException($"Unknown emitter message manifest '{manifest}'."),
        };
        if (r.Remaining != 0) throw new MalformedRecordException($"Emitter message '{manifest}': {r.Remaining} bytes left over.");
        return message;
    }

    /// <summary>
    /// The bytes of <paramref name="batch"/> as they travel (format version first): also what an EmitterClient's
    /// spill store keeps, so a spilled batch is read back with the same code and checks as one off the wire.
    /// </summary>
    public static void EncodeBatch(EmitBatch batch, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var w = new AvroBinaryWriter(output);
        w.WriteLong(FormatVersion);
        WriteBatch(ref w, output, batch);
    }

    /// <summary>Reads what <see cref="EncodeBatch"/> wrote; the bytes must hold exactly one batch.</summary>
    /// <exception cref="MalformedRecordException">The bytes are not a batch of this format.</exception>
    public static EmitBatch DecodeBatch(ReadOnlySpan<byte> bytes)
    {
        var r = new AvroBinaryReader(bytes);
        var version = r.ReadLong("version");
        if (version != FormatVersion)
            throw new MalformedRecordException($"Emitter message format {version} is not understood here (this side reads {FormatVersion}).");
        var batch = ReadBatch(ref r, bytes.Length);
        if (r.Remaining != 0) throw new MalformedRecordException($"Emitter batch: {r.Remaining} bytes left over.");
        return batch;
    }

    private static void WriteBatch(ref AvroBinaryWriter w, IBufferWriter<byte> output, EmitBatch batch)
    {
        w.WriteString(batch.ClientId);
        w.WriteString(batch.SourceId);
        w.WriteLong(batch.BatchSeq);
        w.WriteLong(batch.FirstUnacked);
        w.WriteLong(batch.Key is null ? 0 : 1);
        if (batch.Key is not null) w.WriteString(batch.Key);
        w.WriteLong(batch.Events.Count);
        w.Flush();
        foreach (var e in batch.Events) LogEventAvro.Encode(e, output, withSender: false); // LogEvent version 1: the sender is named at ingress, not here
    }

    private static EmitBatch ReadBatch(ref AvroBinaryReader r, int size)
    {
        var clientId = r.ReadString("clientId");
        var sourceId = r.ReadString("sourceId");
        var batchSeq = r.ReadLong("batchSeq");
        var firstUnacked = r.ReadLong("firstUnacked");
        var key = r.ReadLong("key") != 0 ? r.ReadString("key") : null;
        var count = r.ReadLong("events");
        if (count < 0 || count > r.Remaining / MinEventBytes)
            throw new MalformedRecordException($"Emitter batch claims {count} events in {r.Remaining} bytes.");
        var events = new LogEvent[count];
        for (var i = 0; i < events.Length; i++) events[i] = LogEventAvro.Read(ref r, withSender: false);
        return new EmitBatch(clientId, sourceId, batchSeq, firstUnacked, events, key) { WireBytes = size };
    }
}
