using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>An Avro object container file of <c>neverwinterdp.LogEvent</c> records on disk (see <see cref="AvroContainerWriter"/>).</summary>
internal sealed class AvroPartFile : PartFile
{
    private const int StreamBuffer = 256 * 1024;

    private readonly FileStream _stream;
    private readonly AvroContainerWriter _writer;
    private bool _closed;

    public AvroPartFile(FileNames names, string directory, string topic, int partition, long firstOffset, AvroCodec codec, long batch)
        : base(names, directory, topic, partition, firstOffset, ".avro", batch)
    {
        _stream = new FileStream(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read, StreamBuffer);
        try
        {
            _writer = new AvroContainerWriter(_stream, codec, TempPath);
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>What reached the stream; the block being filled (up to the sync interval) is not counted.</summary>
    public override long Length => _stream.Position;

    protected override bool TryWrite(LogEvent logEvent, long offset, out string? reason) => _writer.TryAppend(logEvent, out reason);

    protected override void Seal(bool fsync)
    {
        _writer.Close(); // writes the last block; the stream stays open
        _stream.Flush(flushToDisk: fsync);
        Close();
    }

    public override void Dispose()
    {
        if (_closed) return;
        try
        {
            _writer.Dispose();
        }
        finally
        {
            Close();
        }
    }

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _stream.Dispose();
    }
}
