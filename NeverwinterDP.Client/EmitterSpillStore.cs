using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Client;

/// <summary>Where one spilled batch lies in the store (and what it is, so the sender can queue it without reading it).</summary>
internal sealed record SpillRecordRef(long Segment, long Offset, int Length, string Host, string Process, int Events)
{
    public string SourceId => Host + "/" + Process;
}

/// <summary>A spilled batch read back: one source's events in order, and the partition key asked for.</summary>
internal sealed record SpilledBatch(string Host, string Process, IReadOnlyList<LogEvent> Events, string? Key);

/// <summary>
/// The EmitterClient's local store: append-only segment files in one directory, each record framed as
/// <c>[payload length: int32 LE][CRC-32 (IEEE, as System.IO.Hashing.Crc32) of the payload: uint32 LE][payload]</c>, the payload being host, process
/// (length-prefixed UTF-8) and the batch in the emitter's wire encoding (<see cref="EmitterSerializer.EncodeBatch"/>).
/// Acknowledged records are listed by offset in the segment's <c>.acked</c> file; a sealed segment whose records
/// are all acknowledged is deleted. Opening scans every segment: a torn or garbled record is moved aside into a
/// <c>.quarantine</c> file and counted; the rest comes back in <see cref="Recovered"/>. The directory is held with
/// an exclusive lock on its <c>lock</c> file. Not thread-safe: one owner (the sender actor) calls it.
/// With a key ring that seals, new segments start <c>NWDPESP2</c> and each record's payload is sealed
/// (<see cref="SpillKeyRing"/>: AES-256-GCM, the key id in it); <c>NWDPESP1</c> segments hold payloads in the clear.
/// Both are read, whatever is configured now, as long as the sealed ones' keys are in the ring.
/// </summary>
internal sealed class EmitterSpillStore : IDisposable
{
    private const string SegmentExtension = ".seg";
    private const string AckedExtension = ".acked";
    private const string QuarantineExtension = ".quarantine";
    private const int HeaderBytes = 8;
    private const int FrameBytes = 8;
    private static readonly byte[] Magic = "NWDPESP1"u8.ToArray();
    private static readonly byte[] SealedMagic = "NWDPESP2"u8.ToArray();
    // The kind byte of a sealed record (authenticated with it).
    private const byte SealedBatchKind = 0x10;

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly EmitterClientMetrics _metrics;
    private readonly SpillKeyRing _keys;
    private readonly FileStream _lock;
    private readonly SortedDictionary<long, Segment> _segments = new();
    private Segment? _active;
    private long _nextSegment;
    private bool _disposed;

    private EmitterSpillStore(string directory, long maxBytes, long segmentBytes, EmitterClientMetrics metrics, SpillKeyRing keys, FileStream lockFile)
    {
        _keys = keys;
        _directory = directory;
        _maxBytes = maxBytes;
        _segmentBytes = segmentBytes;
        _metrics = metrics;
        _lock = lockFile;
    }

    /// <summary>Records a previous client (or a crashed process) left unacknowledged, in the order they were written.</summary>
    public IReadOnlyList<SpillRecordRef> Recovered { get; private set; } = [];

    /// <summary>Damaged parts moved aside when the store was opened (and records unreadable later), with where they went.</summary>
    public IReadOnlyList<string> QuarantineFiles => _quarantineFiles;

    private readonly List<string> _quarantineFiles = new();

    /// <summary>Bytes of the segment files on disk (what <c>SpillMaxBytes</c> bounds).</summary>
    public long BytesOnDisk { get; private set; }

    /// <summary>Records written and not yet acknowledged.</summary>
    public long BacklogBatches { get; private set; }

    public long BacklogEvents { get; private set; }

    /// <summary>Opens (creating it when missing) and locks the directory, then scans what it holds.</summary>
    /// <exception cref="IOException">The directory is locked by another client, or cannot be used.</exception>
    /// <exception cref="SpillKeyException">
    /// A record is sealed with a key <paramref name="keys"/> does not hold: nothing of it is touched (the store is not opened).
    /// </exception>
    public static EmitterSpillStore Open(string directory, long maxBytes, long segmentBytes, EmitterClientMetrics metrics, SpillKeyRing? keys = null)
    {
        var full = Path.GetFullPath(directory);
        Directory.CreateDirectory(full);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix) for as long as the stream is open.
            lockFile = new FileStream(Path.Combine(full, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"EmitterClientOptions.SpillDirectory '{full}' is locked by another EmitterClient (in this or another process); give each client its own directory", e);
        }
        var store = new EmitterSpillStore(full, maxBytes, segmentBytes, metrics, keys ?? SpillKeyRing.None, lockFile);
        try
        {
            store.Scan();
        }
        catch (SpillKeyException e)
        {
            store.Dispose();
            throw new SpillKeyException($"EmitterClientOptions.SpillDirectory '{full}': {e.Message}; the spill store is left as it is", e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    /// <summary>
    /// Appends one batch (not yet durable: call <see cref="Sync"/>). False when it would take the store past its
    /// byte bound; nothing is written then.
    /// </summary>
    public bool TryAppend(string host, string process, IReadOnlyList<LogEvent> events, string? key, out SpillRecordRef record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var payload = EncodePayload(host, process, events, key);
        if (_keys.Seals) payload = _keys.Seal(SealedBatchKind, payload); // new segments are sealed ones (a store opened with this ring)
        var size = FrameBytes + payload.Length;
        var needsSegment = _active is null || (_active.Size > HeaderBytes && _active.Size + size > _segmentBytes);
        if (BytesOnDisk + size + (needsSegment ? HeaderBytes : 0) > _maxBytes)
        {
            record = null!;
            return false;
        }
        if (needsSegment) Roll();
        var segment = _active!;
        var frame = new byte[FrameBytes];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Crc32.HashToUInt32(payload));
        var offset = segment.Size;
        segment.Writer!.Write(frame);
        segment.Writer.Write(payload);
        segment.Size += size;
        segment.Records++;
        BytesOnDisk += size;
        BacklogBatches++;
        BacklogEvents += events.Count;
        Publish();
        record = new SpillRecordRef(segment.Id, offset, payload.Length, host, process, events.Count);
        return true;
    }

    /// <summary>Makes everything appended so far durable (fsync).</summary>
    public void Sync()
    {
        _active?.Writer?.Flush(flushToDisk: true);
    }

    /// <summary>Reads a record back.</summary>
    /// <exception cref="MalformedRecordException">Its bytes no longer match their checksum or do not decode.</exception>
    public SpilledBatch Read(SpillRecordRef record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_segments.TryGetValue(record.Segment, out var segment)) throw new InvalidOperationException($"spill segment {record.Segment} is gone");
        segment.Writer?.Flush();
        segment.Reader ??= File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[FrameBytes + record.Length];
        var read = RandomAccess.Read(segment.Reader, bytes, record.Offset);
        if (read != bytes.Length) throw new MalformedRecordException($"spill record at {segment.Path}:{record.Offset} is cut short");
        if (BinaryPrimitives.ReadInt32LittleEndian(bytes) != record.Length || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != Crc32.HashToUInt32(bytes.AsSpan(FrameBytes)))
            throw new MalformedRecordException($"spill record at {segment.Path}:{record.Offset} does not match its checksum");
        return Decode(segment.Sealed, bytes.AsSpan(FrameBytes));
    }

    /// <summary>
    /// Marks a record acknowledged (written through to the OS at once; fsync'ed by <see cref="SyncAcks"/>); deletes
    /// its segment once every record of it is.
    /// </summary>
    public void Ack(SpillRecordRef record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_segments.TryGetValue(record.Segment, out var segment) || !segment.AckedOffsets.Add(record.Offset)) return;
        segment.Acks ??= new FileStream(AckedPath(segment.Id), FileMode.Append, FileAccess.Write, FileShare.Read);
        Span<byte> entry = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(entry, record.Offset);
        segment.Acks.Write(entry);
        segment.Acks.Flush();
        BacklogBatches--;
        BacklogEvents -= record.Events;
        if (segment.AckedOffsets.Count >= segment.Records) Delete(segment); // the one being written too: the next append starts another
        Publish();
    }

    /// <summary>Makes the acknowledgements recorded so far durable (fsync).</summary>
    public void SyncAcks()
    {
        foreach (var segment in _segments.Values) segment.Acks?.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Moves a record that can no longer be read aside (its bytes into a quarantine file) and marks it done.
    /// </summary>
    public void Quarantine(SpillRecordRef record, string reason)
    {
        if (!_segments.TryGetValue(record.Segment, out var segment)) return;
        try
        {
            segment.Writer?.Flush();
            using var source = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = Math.Min(FrameBytes + (long)record.Length, Math.Max(0, source.Length - record.Offset));
            var bytes = new byte[length];
            source.Position = record.Offset;
            source.ReadExactly(bytes);
            WriteQuarantine(segment.Id, record.Offset, bytes, reason);
        }
        catch (IOException)
        {
            // The bytes cannot be copied either; the record is still skipped.
        }
        Ack(record);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (_active is not null)
            {
                _active.Writer?.Flush(flushToDisk: true);
                if (_active.AckedOffsets.Count >= _active.Records) Delete(_active);
            }
            foreach (var segment in _segments.Values)
            {
                segment.Writer?.Dispose();
                segment.Acks?.Flush(flushToDisk: true);
                segment.Acks?.Dispose();
                segment.Reader?.Dispose();
            }
        }
        finally
        {
            _lock.Dispose();
        }
    }

    private void Scan()
    {
        var recovered = new List<SpillRecordRef>();
        var ids = Directory.EnumerateFiles(_directory, "*" + SegmentExtension)
            .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), out var id) ? id : -1)
            .Where(id => id >= 0).Order().ToList();
        foreach (var id in ids)
        {
            var segment = new Segment(id, SegmentPath(id));
            var acked = ReadAcked(id);
            var records = ScanSegment(segment, acked);
            if (segment.Size == 0) continue; // quarantined whole or empty: gone
            segment.AckedOffsets.UnionWith(segment.SkippedOffsets);
            _segments[id] = segment;
            BytesOnDisk += segment.Size;
            if (segment.AckedOffsets.Count >= segment.Records)
            {
                Delete(segment);
                continue;
            }
            foreach (var r in records)
            {
                recovered.Add(r);
                BacklogBatches++;
                BacklogEvents += r.Events;
            }
        }
        // Stray ack files of segments that are gone.
        foreach (var f in Directory.EnumerateFiles(_directory, "*" + AckedExtension))
            if (long.TryParse(Path.GetFileNameWithoutExtension(f), out var id) && !_segments.ContainsKey(id)) File.Delete(f);
        _nextSegment = ids.Count == 0 ? 1 : ids[^1] + 1;
        Recovered = recovered;
        Publish();
    }

    /// <summary>Reads a segment's records; quarantines what is damaged (the segment is truncated before a torn tail).</summary>
    private List<SpillRecordRef> ScanSegment(Segment segment, HashSet<long> acked)
    {
        var records = new List<SpillRecordRef>();
        var bytes = File.ReadAllBytes(segment.Path);
        if (bytes.Length == 0)
        {
            File.Delete(segment.Path);
            return records;
        }
        segment.Sealed = bytes.Length >= HeaderBytes && bytes.AsSpan(0, HeaderBytes).SequenceEqual(SealedMagic);
        if (bytes.Length < HeaderBytes || !(segment.Sealed || bytes.AsSpan(0, HeaderBytes).SequenceEqual(Magic)))
        {
            WriteQuarantine(segment.Id, 0, bytes, "not a spill segment (bad header)");
            File.Delete(segment.Path);
            return records;
        }
        long position = HeaderBytes;
        while (position < bytes.Length)
        {
            var length = Frame(bytes, position);
            if (length < 0)
            {
                // Torn (a crash mid-write) or a length that cannot be: nothing after it can be trusted.
                Truncate(segment, bytes, position, "torn or garbled record at the end of the segment");
                break;
            }
            var next = position + FrameBytes + length;
            if (acked.Contains(position))
            {
                // Done already (sent, or quarantined earlier): only its length matters.
                segment.SkippedOffsets.Add(position);
                segment.Records++;
                position = next;
                continue;
            }
            var good = TryDecode(segment.Sealed, bytes, position, length, out var batch, out var damage);
            if (!good)
            {
                if (next == bytes.Length || (Frame(bytes, next) is var l && l >= 0 && TryDecode(segment.Sealed, bytes, next, l, out _, out _)))
                {
                    // The frame holds: only this record is garbled; move it aside and go on after it.
                    WriteQuarantine(segment.Id, position, bytes.AsSpan((int)position, FrameBytes + length).ToArray(), damage!);
                    AppendAck(segment.Id, position);
                    acked.Add(position);
                    segment.SkippedOffsets.Add(position);
                    segment.Records++;
                    position = next;
                    continue;
                }
                Truncate(segment, bytes, position, "garbled record; the rest of the segment cannot be framed");
                break;
            }
            records.Add(new SpillRecordRef(segment.Id, position, length, batch!.Host, batch.Process, batch.Events.Count));
            segment.Records++;
            position = next;
        }
        segment.Size = Math.Min(position, bytes.Length);
        return records;
    }

    /// <summary>The payload length of the frame at <paramref name="position"/>, or -1 when it cannot be a frame there.</summary>
    private static int Frame(byte[] bytes, long position)
    {
        if (bytes.Length - position < FrameBytes) return -1;
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)position));
        return length <= 0 || length > bytes.Length - position - FrameBytes ? -1 : length;
    }

    /// <exception cref="SpillKeyException">The record is sealed with a key not in the ring (it is not damaged: it waits for its key).</exception>
    /// <param name="damage">Why it does not read (for the quarantine's <c>.reason</c>), when it does not.</param>
    private bool TryDecode(bool sealedRecord, byte[] bytes, long position, int length, out SpilledBatch? batch, out string? damage)
    {
        batch = null;
        damage = null;
        var payload = bytes.AsSpan((int)position + FrameBytes, length);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)position + 4)) != Crc32.HashToUInt32(payload))
        {
            damage = "record does not match its checksum";
            return false;
        }
        try
        {
            batch = Decode(sealedRecord, payload);
            return true;
        }
        catch (MalformedRecordException e)
        {
            // A sealed record that fails authentication under its own key was altered (its checksum made to match).
            damage = e.Message;
            return false;
        }
    }

    /// <summary>A record's payload, opened first when it is sealed (a failed authentication is a <see cref="MalformedRecordException"/>).</summary>
    private SpilledBatch Decode(bool sealedRecord, ReadOnlySpan<byte> payload) => DecodePayload(sealedRecord ? _keys.Open(payload) : payload);

    private void Truncate(Segment segment, byte[] bytes, long position, string reason)
    {
        WriteQuarantine(segment.Id, position, bytes.AsSpan((int)position).ToArray(), reason);
        using var file = new FileStream(segment.Path, FileMode.Open, FileAccess.Write, FileShare.Read);
        file.SetLength(position);
        file.Flush(flushToDisk: true);
    }

    private void WriteQuarantine(long segment, long offset, byte[] bytes, string reason)
    {
        var path = Path.Combine(_directory, $"{segment:D12}-{offset}{QuarantineExtension}");
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.WriteAllText(path + ".reason", reason + Environment.NewLine);
        _quarantineFiles.Add(path);
        Interlocked.Increment(ref _metrics._quarantinedRecords);
    }

    private HashSet<long> ReadAcked(long id)
    {
        var path = AckedPath(id);
        var acked = new HashSet<long>();
        if (!File.Exists(path)) return acked;
        var bytes = File.ReadAllBytes(path);
        for (var i = 0; i + 8 <= bytes.Length; i += 8) acked.Add(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i)));
        return acked; // a torn last entry (crash mid-write) is ignored: that record is sent again
    }

    private void AppendAck(long id, long offset)
    {
        using var file = new FileStream(AckedPath(id), FileMode.Append, FileAccess.Write, FileShare.Read);
        Span<byte> entry = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(entry, offset);
        file.Write(entry);
        file.Flush(flushToDisk: true);
    }

    private void Roll()
    {
        if (_active is not null)
        {
            _active.Writer!.Flush(flushToDisk: true);
            _active.Writer.Dispose();
            _active.Writer = null;
            var sealedOne = _active;
            _active = null;
            if (sealedOne.AckedOffsets.Count >= sealedOne.Records) Delete(sealedOne);
        }
        var id = _nextSegment++;
        var segment = new Segment(id, SegmentPath(id))
        {
            Writer = new FileStream(SegmentPath(id), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024),
            Size = HeaderBytes,
            Sealed = _keys.Seals,
        };
        segment.Writer.Write(_keys.Seals ? SealedMagic : Magic);
        _segments[id] = segment;
        _active = segment;
        BytesOnDisk += HeaderBytes;
    }

    private void Delete(Segment segment)
    {
        segment.Writer?.Dispose();
        segment.Acks?.Dispose();
        segment.Reader?.Dispose();
        segment.Writer = null;
        segment.Acks = null;
        segment.Reader = null;
        if (File.Exists(segment.Path)) File.Delete(segment.Path);
        if (File.Exists(AckedPath(segment.Id))) File.Delete(AckedPath(segment.Id));
        if (_segments.Remove(segment.Id)) BytesOnDisk -= segment.Size;
        if (_active == segment) _active = null;
    }

    private void Publish()
    {
        Interlocked.Exchange(ref _metrics._spillBytes, BytesOnDisk);
        Interlocked.Exchange(ref _metrics._spillBacklogBatches, BacklogBatches);
        Interlocked.Exchange(ref _metrics._spillBacklogEvents, BacklogEvents);
    }

    private string SegmentPath(long id) => Path.Combine(_directory, $"{id:D12}{SegmentExtension}");

    private string AckedPath(long id) => Path.Combine(_directory, $"{id:D12}{AckedExtension}");

    internal static byte[] EncodePayload(string host, string process, IReadOnlyList<LogEvent> events, string? key)
    {
        var output = new ArrayBufferWriter<byte>(256 + events.Count * 160);
        WriteString(output, host);
        WriteString(output, process);
        EmitterSerializer.EncodeBatch(new EmitBatch("", host + "/" + process, 1, 1, events, key), output);
        return output.WrittenSpan.ToArray();
    }

    internal static SpilledBatch DecodePayload(ReadOnlySpan<byte> payload)
    {
        var host = ReadString(ref payload);
        var process = ReadString(ref payload);
        var batch = EmitterSerializer.DecodeBatch(payload);
        if (batch.SourceId != host + "/" + process) throw new MalformedRecordException($"spill record of {host}/{process} holds a batch of {batch.SourceId}");
        return new SpilledBatch(host, process, batch.Events, batch.Key);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        var span = output.GetSpan(4 + count);
        BinaryPrimitives.WriteInt32LittleEndian(span, count);
        Encoding.UTF8.GetBytes(value, span[4..]);
        output.Advance(4 + count);
    }

    private static string ReadString(ref ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4) throw new MalformedRecordException("spill record: cut short");
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (count < 0 || count > payload.Length - 4) throw new MalformedRecordException("spill record: bad string length");
        string value;
        try
        {
            value = new UTF8Encoding(false, true).GetString(payload.Slice(4, count));
        }
        catch (DecoderFallbackException e)
        {
            throw new MalformedRecordException("spill record: invalid UTF-8: " + e.Message);
        }
        payload = payload[(4 + count)..];
        return value;
    }

    private sealed class Segment(long id, string path)
    {
        public long Id { get; } = id;
        public string Path { get; } = path;
        public long Size;
        public int Records;
        public bool Sealed;
        public readonly HashSet<long> AckedOffsets = new();
        public readonly HashSet<long> SkippedOffsets = new();
        public FileStream? Writer;
        public FileStream? Acks;
        public SafeFileHandle? Reader;
    }
}
