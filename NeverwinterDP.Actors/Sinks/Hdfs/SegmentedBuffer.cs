using System.Buffers;
using System.Net;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// A write-only stream into pooled segments of <see cref="SegmentSize"/> bytes: a part file in memory until it
/// is uploaded. Unlike a MemoryStream it never copies what it holds to grow, and never asks for one large
/// array. <see cref="CreateContent"/> sends it as a request body, as often as an upload must be tried.
/// </summary>
internal sealed class SegmentedBuffer : Stream
{
    public const int SegmentSize = 256 * 1024;

    private readonly List<byte[]> _segments = [];
    private long _length;
    private bool _disposed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_disposed;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            var used = (int)(_length % SegmentSize);
            if (used == 0 && _length / SegmentSize == _segments.Count) _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
            var segment = _segments[(int)(_length / SegmentSize)];
            var n = Math.Min(buffer.Length, SegmentSize - used);
            buffer[..n].CopyTo(segment.AsSpan(used));
            buffer = buffer[n..];
            _length += n;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>The bytes written so far as a request body; valid until the buffer is disposed.</summary>
    public HttpContent CreateContent() => new Content(this);

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var segment in _segments) ArrayPool<byte>.Shared.Return(segment);
        _segments.Clear();
        base.Dispose(disposing);
    }

    private sealed class Content(SegmentedBuffer buffer) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(buffer._disposed, buffer);
            var left = buffer._length;
            foreach (var segment in buffer._segments)
            {
                var n = (int)Math.Min(left, SegmentSize);
                if (n == 0) break;
                await stream.WriteAsync(segment.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = buffer._length;
            return true;
        }
    }
}
