using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads Avro binary primitives from a span. Every malformed input (truncation, an over-long varint, a length
/// that points past the end, invalid UTF-8) throws <see cref="MalformedRecordException"/> naming the field.
/// </summary>
internal ref struct AvroBinaryReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public AvroBinaryReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public int Remaining => _data.Length - _position;

    public long ReadLong(string field)
    {
        ulong n = 0;
        var shift = 0;
        while (true)
        {
            if (_position >= _data.Length) throw Truncated(field);
            var b = _data[_position++];
            n |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
            shift += 7;
            if (shift > 63) throw new MalformedRecordException($"Avro field '{field}': varint longer than 10 bytes.");
        }
        return (long)(n >> 1) ^ -(long)(n & 1);
    }

    public int ReadInt(string field)
    {
        var n = ReadLong(field);
        if (n is < int.MinValue or > int.MaxValue) throw new MalformedRecordException($"Avro field '{field}': {n} is out of range for an int.");
        return (int)n;
    }

    public bool ReadBoolean(string field)
    {
        if (_position >= _data.Length) throw Truncated(field);
        return _data[_position++] switch
        {
            0 => false,
            1 => true,
            var b => throw new MalformedRecordException($"Avro field '{field}': boolean byte {b}, expected 0 or 1."),
        };
    }

    public float ReadFloat(string field)
    {
        if (Remaining < 4) throw Truncated(field);
        var value = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position, 4));
        _position += 4;
        return value;
    }

    public double ReadDouble(string field)
    {
        if (Remaining < 8) throw Truncated(field);
        var value = System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_position, 8));
        _position += 8;
        return value;
    }

    public string ReadString(string field)
    {
        var length = ReadLong(field);
        if (length < 0) throw new MalformedRecordException($"Avro field '{field}': negative string length {length}.");
        if (length > Remaining) throw Truncated(field);
        var bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        if (bytes.IsEmpty) return "";
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new MalformedRecordException($"Avro field '{field}': string is not valid UTF-8.", e);
        }
    }

    /// <summary>Avro <c>bytes</c>, copied out of the record.</summary>
    public byte[] ReadBytes(string field)
    {
        var length = ReadLong(field);
        if (length < 0) throw new MalformedRecordException($"Avro field '{field}': negative bytes length {length}.");
        if (length > Remaining) throw Truncated(field);
        var bytes = _data.Slice(_position, (int)length).ToArray();
        _position += (int)length;
        return bytes;
    }

    /// <summary>A string's UTF-8 bytes, checked as <see cref="ReadString"/> checks them, without making a string.</summary>
    public ReadOnlySpan<byte> ReadUtf8(string field)
    {
        var length = ReadLong(field);
        if (length < 0) throw new MalformedRecordException($"Avro field '{field}': negative string length {length}.");
        if (length > Remaining) throw Truncated(field);
        var bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new MalformedRecordException($"Avro field '{field}': string is not valid UTF-8.");
        return bytes;
    }

    /// <summary>
    /// Reads a map or array block header: the item count, or 0 at the end. A negative count (allowed by the
    /// spec) is followed by the block's byte size, which we do not need.
    /// </summary>
    public long ReadBlockCount(string field)
    {
        var count = ReadLong(field);
        if (count >= 0) return count;
        if (count == long.MinValue) throw new MalformedRecordException($"Avro field '{field}': block count out of range.");
        ReadLong(field);
        return -count;
    }

    private readonly MalformedRecordException Truncated(string field) =>
        new($"Avro field '{field}': data ends early (at byte {_position} of {_data.Length}).");
}
