using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Avro binary encoding of primitives (zig-zag varints, length-prefixed UTF-8, map blocks) straight into an
/// <see cref="IBufferWriter{T}"/>. Holds the span it got from the writer and advances once per refill, so
/// encoding an event costs a handful of calls into the buffer rather than one per field.
/// </summary>
internal ref struct AvroBinaryWriter
{
    private const int MaxVarLongBytes = 10;
    private const int MinChunk = 256;

    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _position;

    public AvroBinaryWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _span = output.GetSpan(MinChunk);
        _position = 0;
    }

    public void WriteLong(long value)
    {
        Ensure(MaxVarLongBytes);
        _position += WriteVarLong(_span[_position..], value);
    }

    public void WriteBoolean(bool value)
    {
        Ensure(1);
        _span[_position++] = value ? (byte)1 : (byte)0;
    }

    public void WriteFloat(float value)
    {
        Ensure(4);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(_span[_position..], value);
        _position += 4;
    }

    public void WriteDouble(double value)
    {
        Ensure(8);
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(_span[_position..], value);
        _position += 8;
    }

    public void WriteString(string value)
    {
        // Worst case is 3 UTF-8 bytes per UTF-16 char; reserving that avoids counting bytes in a first pass.
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (maxBytes <= 63)
        {
            // Any length up to 63 fits a one-byte varint: write the string after it, then the length.
            Ensure(1 + maxBytes);
            var written = Encoding.UTF8.GetBytes(value, _span[(_position + 1)..]);
            _span[_position] = (byte)(written << 1);
            _position += 1 + written;
            return;
        }

        WriteString(value, Encoding.UTF8.GetByteCount(value));
    }

    /// <summary>Avro <c>string</c> whose UTF-8 byte count the caller knows already (<see cref="LogEvent.MessageByteCount"/>).</summary>
    public void WriteString(string value, int utf8Bytes)
    {
        Ensure(MaxVarLongBytes + utf8Bytes);
        _position += WriteVarLong(_span[_position..], utf8Bytes);
        var written = Encoding.UTF8.GetBytes(value, _span[_position..]);
        if (written != utf8Bytes) throw new ArgumentException($"the string has {written} UTF-8 bytes, not {utf8Bytes}", nameof(utf8Bytes));
        _position += written;
    }

    /// <summary>Avro <c>bytes</c>: the length, then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        Ensure(MaxVarLongBytes + value.Length);
        _position += WriteVarLong(_span[_position..], value.Length);
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    /// <summary>Hands the bytes written so far to the output; call once at the end.</summary>
    public void Flush()
    {
        _output.Advance(_position);
        _position = 0;
        _span = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int bytes)
    {
        if (_span.Length - _position < bytes) Refill(bytes);
    }

    private void Refill(int bytes)
    {
        _output.Advance(_position);
        _position = 0;
        _span = _output.GetSpan(Math.Max(bytes, MinChunk));
    }

    /// <summary>Zig-zag then base-128 varint, as Avro's <c>long</c> and <c>int</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int WriteVarLong(Span<byte> destination, long value)
    {
        var n = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (n >= 0x80)
        {
            destination[i++] = (byte)(n | 0x80);
            n >>= 7;
        }
        destination[i++] = (byte)n;
        return i;
    }
}
