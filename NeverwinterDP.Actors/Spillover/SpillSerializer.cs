using Akka.Actor;
using Akka.Serialization;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>
/// Compact binary form of the spill messages and journal events (bound in HOCON): a batch is its records' bytes
/// with length prefixes, so a spilled batch costs about what it would on Kafka, not a JSON/base64 blow-up.
/// With the system's <see cref="SpillKeysSetup"/> sealing, a batch's journal row is encrypted (manifest <c>E</c>,
/// <c>[crc32][sealed B2 or B3 body]</c>, see <see cref="SpillKeyRing"/>); rows in the clear are read as before.
/// </summary>
public sealed class SpillSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 7301;

    // What a sealed row's kind byte says its body is (authenticated with it).
    private const byte KindB2 = 2, KindB3 = 3;

    private readonly Lazy<SpillKeyRing> _keys = new(() => system.Settings.Setup.Get<SpillKeysSetup>() is { HasValue: true } setup ? setup.Value.Keys : SpillKeyRing.None);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        SpilledBatch when _keys.Value.Seals => "E",
        SpilledBatch { MaybeOnBusFrom: null } => "B2",
        SpilledBatch => "B3", // B2 and where the records may already be on the bus
        SpillBatch { MaybeOnBusFrom: not null } => "S2",
        SpillQuarantined => "Q",
        SpillReplayed => "R",
        SpillReplayStarting => "M",
        SpillBatch => "S",
        SpillAccepted => "A",
        SpillRefused => "F",
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object o)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            switch (o)
            {
                case SpilledBatch b:
                    w.Write(b.Topic);
                    w.Write(b.SpilledAtMs);
                    WriteRecords(w, b.Records);
                    if (b.MaybeOnBusFrom is not null) WriteOffsets(w, b.MaybeOnBusFrom);
                    break;
                case SpillBatch s:
                    w.Write(s.Topic);
                    WriteRecords(w, s.Records);
                    if (s.MaybeOnBusFrom is not null) WriteOffsets(w, s.MaybeOnBusFrom);
                    break;
                case SpillReplayed r:
                    w.Write(r.SequenceNr);
                    break;
                case SpillReplayStarting m:
                    w.Write(m.SequenceNr);
                    WriteOffsets(w, m.EndOffsets);
                    break;
                case SpillQuarantined q:
                    w.Write(q.SequenceNr);
                    w.Write(q.Reason);
                    break;
                case SpillAccepted a:
                    w.Write(a.Topic);
                    w.Write(a.SequenceNr);
                    break;
                case SpillRefused f:
                    w.Write(f.Topic);
                    w.Write(f.Reason);
                    break;
                default:
                    throw new ArgumentException($"cannot serialize {o.GetType()}");
            }
        }
        if (o is not SpilledBatch batch) return stream.ToArray();
        // A journal row of a batch carries its own checksum: [crc32][body], the body sealed when encryption is on.
        var body = stream.ToArray();
        if (_keys.Value.Seals) body = _keys.Value.Seal(batch.MaybeOnBusFrom is null ? KindB2 : KindB3, body);
        var framed = new byte[body.Length + 4];
        BitConverter.TryWriteBytes(framed.AsSpan(0, 4), System.IO.Hashing.Crc32.HashToUInt32(body));
        body.CopyTo(framed, 4);
        return framed;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest is "B2" or "B3" or "E")
        {
            // A damaged row must not stop the entity's recovery (that would stop every batch behind it): it
            // comes back as a DamagedSpilledBatch, which the entity quarantines and reports.
            if (bytes.Length < 4 || BitConverter.ToUInt32(bytes, 0) != System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(4)))
                return new DamagedSpilledBatch(bytes, "checksum mismatch");
            var body = bytes.AsMemory(4);
            var withOffsets = manifest == "B3";
            if (manifest == "E")
            {
                try
                {
                    withOffsets = SpillKeyRing.KindOf(body.Span) == KindB3;
                    body = _keys.Value.Open(body.Span);
                }
                catch (SpillKeyException e)
                {
                    // Not the row's fault: it waits, untouched, for its key.
                    return new LockedSpilledBatch(e.Message);
                }
                catch (MalformedRecordException e)
                {
                    return new DamagedSpilledBatch(bytes, e.Message);
                }
            }
            try
            {
                using var reader = new BinaryReader(new MemoryStream(body.ToArray(), writable: false));
                return new SpilledBatch(reader.ReadString(), reader.ReadInt64(), ReadRecords(reader), withOffsets ? ReadOffsets(reader) : null);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or System.Runtime.Serialization.SerializationException or ArgumentException)
            {
                return new DamagedSpilledBatch(bytes, e.Message);
            }
        }
        using var r = new BinaryReader(new MemoryStream(bytes));
        return manifest switch
        {
            "S" => new SpillBatch(r.ReadString(), ReadRecords(r)),
            "S2" => new SpillBatch(r.ReadString(), ReadRecords(r), ReadOffsets(r)),
            "R" => new SpillReplayed(r.ReadInt64()),
            "M" => ReadMarker(r),
            "Q" => new SpillQuarantined(r.ReadInt64(), r.ReadString()),
            "A" => new SpillAccepted(r.ReadString(), r.ReadInt64()),
            "F" => new SpillRefused(r.ReadString(), r.ReadString()),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown spill manifest '{manifest}'"),
        };
    }

    private static SpillReplayStarting ReadMarker(BinaryReader r) => new(r.ReadInt64(), ReadOffsets(r));

    private static void WriteOffsets(BinaryWriter w, IReadOnlyDictionary<int, long> offsets)
    {
        w.Write(offsets.Count);
        foreach (var (partition, offset) in offsets.OrderBy(kv => kv.Key))
        {
            w.Write(partition);
            w.Write(offset);
        }
    }

    private static Dictionary<int, long> ReadOffsets(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count < 0) throw new System.Runtime.Serialization.SerializationException("negative partition count in a set of offsets");
        var offsets = new Dictionary<int, long>(count);
        for (var i = 0; i < count; i++) offsets[r.ReadInt32()] = r.ReadInt64();
        return offsets;
    }

    private static void WriteRecords(BinaryWriter w, IReadOnlyList<SpilledRecord> records)
    {
        w.Write(records.Count);
        foreach (var rec in records)
        {
            w.Write(rec.Key?.Length ?? -1);
            if (rec.Key is not null) w.Write(rec.Key);
            w.Write(rec.Value.Length);
            w.Write(rec.Value);
        }
    }

    private static List<SpilledRecord> ReadRecords(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count < 0) throw new System.Runtime.Serialization.SerializationException("negative record count in a spilled batch");
        var records = new List<SpilledRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var keyLength = r.ReadInt32();
            var key = keyLength < 0 ? null : r.ReadBytes(keyLength);
            var value = r.ReadBytes(r.ReadInt32());
            records.Add(new SpilledRecord(key, value));
        }
        return records;
    }

    /// <summary>The HOCON that binds this serializer.</summary>
    public static string Hocon { get; } = SerializerHocon.Bind("nwdp-spill", typeof(SpillSerializer),
        typeof(SpilledBatch), typeof(SpillBatch), typeof(SpillReplayed), typeof(SpillReplayStarting), typeof(SpillQuarantined), typeof(SpillAccepted), typeof(SpillRefused));
}
