using System.Buffers.Binary;
using System.IO.Hashing;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// The compressed side of a gzip body, read through so that the end of the stream can be checked: .NET's
/// <see cref="System.IO.Compression.GZipStream"/> reports a truncated stream (or a lone header) as a clean end
/// and ignores bytes after the last member, so a body cut short would pass as fewer events. A whole gzip stream
/// ends with its last member's trailer: the CRC-32 and the length (mod 2^32) of that member's inflated bytes.
/// </summary>
internal sealed class GzipTrailer(Stream inner) : Stream
{
    /// <summary>Past the end of the inflated stream, at most this much more is read looking for the end of the body.</summary>
    private const int TailLimit = 64 * 1024;

    private readonly byte[] _last = new byte[8];
    private long _total;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _total; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Note(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Note(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Note(ReadOnlySpan<byte> read)
    {
        if (read.Length >= 8) read[^8..].CopyTo(_last);
        else if (read.Length > 0)
        {
            _last.AsSpan(read.Length).CopyTo(_last);
            read.CopyTo(_last.AsSpan(8 - read.Length));
        }
        _total += read.Length;
        return read.Length;
    }

    /// <summary>
    /// Once the inflater reported the end: what is wrong with the stream, or null when it ended with the trailer of
    /// its last member (<paramref name="inflated"/>: every inflated byte; the last member is its tail).
    /// </summary>
    public async Task<string?> ProblemAsync(ReadOnlyMemory<byte> inflated, CancellationToken cancellation)
    {
        // The inflater may have stopped before the end of the body: bytes after the stream are not gzip.
        var rest = new byte[4096];
        long after = 0;
        int read;
        while ((read = await ReadAsync(rest, cancellation).ConfigureAwait(false)) > 0)
            if ((after += read) > TailLimit) return "data after the end of the gzip stream";
        if (_total == 0) return "the body is empty";
        // 10 bytes of header, 2 of the shortest deflate block, 8 of trailer.
        if (_total < 20) return $"the stream is truncated ({_total} bytes)";
        var size = BinaryPrimitives.ReadUInt32LittleEndian(_last.AsSpan(4));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(_last);
        if (size > inflated.Length || Crc32.HashToUInt32(inflated.Span[^(int)size..]) != crc)
            return $"the stream is truncated or does not end with its trailer (after {_total} compressed bytes, {inflated.Length} inflated)";
        return null;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
