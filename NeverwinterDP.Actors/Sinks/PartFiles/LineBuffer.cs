using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// A large write buffer in front of a file that <see cref="NeverwinterDP.Protocol.LogEventJson"/> writes
/// into directly (it is an <see cref="IBufferWriter{T}"/>), so a line goes from the event to the buffer as
/// UTF-8 with no string in between, and to the file in big positioned writes. It writes only whole records:
/// when it needs room it writes up to the start of the record in progress, so a record that fails to encode
/// can be taken back (<see cref="RollbackRecord"/>) without leaving half a line in the file.
/// </summary>
internal sealed class LineBuffer : IBufferWriter<byte>, IDisposable
{
    /// <summary>Large enough that the write system calls cost little next to encoding.</summary>
    public const int DefaultSize = 1 << 20;

    private readonly SafeFileHandle _file;
    private byte[] _buffer;
    private int _count;
    private int _recordStart;
    private long _fileLength;

    private readonly bool _startWriteback;
    private readonly int _pooledLength;

    /// <param name="file">The file, written from its start.</param>
    /// <param name="startWriteback">Start the disk write of each chunk at once (<see cref="FileWriteback"/>): for files that will be fsynced.</param>
    /// <param name="size">The buffer's size.</param>
    public LineBuffer(SafeFileHandle file, bool startWriteback, int size = DefaultSize)
    {
        _file = file;
        _startWriteback = startWriteback;
        _buffer = ArrayPool<byte>.Shared.Rent(size);
        _pooledLength = _buffer.Length;
    }

    /// <summary>Bytes in the file plus bytes still buffered.</summary>
    public long Length => _fileLength + _count;

    public void BeginRecord() => _recordStart = _count;

    /// <summary>Drops what was written since <see cref="BeginRecord"/>.</summary>
    public void RollbackRecord() => _count = _recordStart;

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _count)) throw new ArgumentOutOfRangeException(nameof(count));
        _count += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_count);
    }

    /// <summary>Writes everything buffered to the file (not to the disk: that is the caller's fsync).</summary>
    public void WriteOut()
    {
        WriteToFile(_count);
        _recordStart = 0;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        Return(buffer);
    }

    private void EnsureRoom(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_buffer.Length - _count >= sizeHint) return;

        // Write the whole records, then move the record in progress to the front.
        var start = _recordStart;
        if (start > 0)
        {
            WriteToFile(start);
            _recordStart = 0;
        }
        if (_buffer.Length - _count >= sizeHint) return;

        // One record larger than the buffer: grow rather than split it.
        // Not from the shared pool: it would keep these rare large buffers (per thread and core) long after the record.
        var larger = GC.AllocateUninitializedArray<byte>(checked(Math.Max(_buffer.Length * 2, _count + sizeHint)));
        _buffer.AsSpan(0, _count).CopyTo(larger);
        Return(_buffer);
        _buffer = larger;
    }

    /// <summary>Buffers of the pool's (the first, <see cref="DefaultSize"/> or what the constructor asked for) go back to it; grown ones to the GC.</summary>
    private void Return(byte[] buffer)
    {
        if (buffer.Length > 0 && buffer.Length == _pooledLength) ArrayPool<byte>.Shared.Return(buffer);
    }

    // Writes the first `count` buffered bytes; positioned writes, so a failed write can simply be repeated.
    private void WriteToFile(int count)
    {
        if (count == 0) return;
        RandomAccess.Write(_file, _buffer.AsSpan(0, count), _fileLength);
        if (_startWriteback) FileWriteback.Start(_file, _fileLength, count);
        _fileLength += count;
        _buffer.AsSpan(count, _count - count).CopyTo(_buffer);
        _count -= count;
    }
}
