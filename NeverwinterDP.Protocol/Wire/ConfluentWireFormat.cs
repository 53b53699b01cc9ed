using System.Buffers;
using System.Buffers.Binary;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The Confluent Schema Registry wire format, so Confluent-aware consumers (Connect, ksqlDB, kcat -s) can
/// read our topics: magic byte 0, the schema id as a 4-byte big-endian int, then the Avro payload.
/// </summary>
public static class ConfluentWireFormat
{
    public const byte MagicByte = 0;

    /// <summary>Magic byte plus schema id.</summary>
    public const int HeaderLength = 5;

    /// <summary>Appends the 5-byte header; the caller appends the payload after it.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, int schemaId)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(HeaderLength);
        span[0] = MagicByte;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], schemaId);
        output.Advance(HeaderLength);
    }

    /// <summary>A new array holding the header and <paramref name="payload"/>.</summary>
    public static byte[] Frame(int schemaId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength + payload.Length];
        frame[0] = MagicByte;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), schemaId);
        payload.CopyTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    /// <summary>Splits a frame into schema id and payload.</summary>
    /// <exception cref="MalformedRecordException">Shorter than the header, or the magic byte is not 0.</exception>
    public static ReadOnlySpan<byte> Unframe(ReadOnlySpan<byte> frame, out int schemaId)
    {
        if (frame.Length < HeaderLength)
        {
            throw new MalformedRecordException(
                $"Confluent frame too short: {frame.Length} bytes, the header alone is {HeaderLength} (magic byte + 4-byte schema id).");
        }
        if (frame[0] != MagicByte)
        {
            throw new MalformedRecordException(
                $"Confluent frame has magic byte 0x{frame[0]:X2}, expected 0x00: not Confluent wire format (plain Avro or JSON?).");
        }
        schemaId = BinaryPrimitives.ReadInt32BigEndian(frame[1..]);
        return frame[HeaderLength..];
    }

    /// <summary>Like <see cref="Unframe"/> but answers false instead of throwing.</summary>
    public static bool TryUnframe(ReadOnlySpan<byte> frame, out int schemaId, out ReadOnlySpan<byte> payload)
    {
        if (frame.Length < HeaderLength || frame[0] != MagicByte)
        {
            schemaId = 0;
            payload = default;
            return false;
        }
        schemaId = BinaryPrimitives.ReadInt32BigEndian(frame[1..]);
        payload = frame[HeaderLength..];
        return true;
    }
}
