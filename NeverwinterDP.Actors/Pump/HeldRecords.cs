using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// One partition's records that a sink wrote and that are not counted yet (<see cref="DeliveredOnce"/>), in offset
/// order, in fixed chunks. The pump writes a partition in order, so a record is appended at the end, replaced in place
/// when written again, and counted (or dropped) from the front: no hash per record, and no array on the large-object
/// heap however many records a flush holds (a dictionary of the ~500,000 records of one flush grew to ~20 MB of
/// large-object arrays, made again at every flush). Not thread-safe: <see cref="DeliveredOnce"/> holds its lock.
/// </summary>
internal sealed class HeldRecords
{
    /// <summary>Entries per chunk: 1,024 × (8 + 24) bytes, well under the 85,000 bytes of a large object.</summary>
    internal const int ChunkSize = 1024;

    private sealed class Chunk
    {
        public readonly long[] Offsets = new long[ChunkSize];
        public readonly DeliveryCount[] Counts = new DeliveryCount[ChunkSize];
        public int Start; // first entry held
        public int End;   // one past the last

        public int Length => End - Start;
        public long First => Offsets[Start];
        public long Last => Offsets[End - 1];
    }

    // Never holds an empty chunk; offsets rise across and within chunks.
    private readonly List<Chunk> _chunks = new();
    // One emptied chunk kept for the next one needed: steady flushes allocate none.
    private Chunk? _spare;

    public int Count { get; private set; }

    /// <summary>Holds <paramref name="count"/> at <paramref name="offset"/>; false when that offset was held already (now replaced).</summary>
    public bool Hold(long offset, DeliveryCount count)
    {
        if (_chunks.Count == 0 || offset > _chunks[^1].Last)
        {
            Append(offset, count);
            return true;
        }
        // Written again (a restart, a rebalance), or a gap filled late (a record retried after the ones behind it).
        var c = FirstChunkReaching(offset);
        var chunk = _chunks[c];
        var i = Array.BinarySearch(chunk.Offsets, chunk.Start, chunk.Length, offset);
        if (i >= 0)
        {
            chunk.Counts[i] = count;
            return false;
        }
        Insert(c, ~i, offset, count);
        return true;
    }

    /// <summary>Removes every entry below <paramref name="below"/>, in offset order into <paramref name="into"/> when given; returns how many.</summary>
    public int RemoveBelow(long below, List<DeliveryCount>? into)
    {
        var removed = 0;
        var emptied = 0;
        while (emptied < _chunks.Count)
        {
            var chunk = _chunks[emptied];
            if (chunk.First >= below) break;
            int n;
            if (chunk.Last < below) n = chunk.Length;
            else
            {
                var i = Array.BinarySearch(chunk.Offsets, chunk.Start, chunk.Length, below);
                n = (i >= 0 ? i : ~i) - chunk.Start;
            }
            into?.AddRange(new ReadOnlySpan<DeliveryCount>(chunk.Counts, chunk.Start, n));
            chunk.Start += n;
            removed += n;
            if (chunk.Length > 0) break;
            emptied++;
        }
        if (emptied > 0)
        {
            Recycle(_chunks[emptied - 1]);
            _chunks.RemoveRange(0, emptied);
        }
        Count -= removed;
        return removed;
    }

    private void Append(long offset, DeliveryCount count)
    {
        var last = _chunks.Count > 0 ? _chunks[^1] : null;
        if (last is null || last.End == ChunkSize)
        {
            last = NewChunk();
            _chunks.Add(last);
        }
        last.Offsets[last.End] = offset;
        last.Counts[last.End] = count;
        last.End++;
        Count++;
    }

    /// <summary>Puts an entry at <paramref name="at"/> of chunk <paramref name="c"/> (before the entry there), which is not past its end.</summary>
    private void Insert(int c, int at, long offset, DeliveryCount count)
    {
        var chunk = _chunks[c];
        if (chunk.End == ChunkSize && chunk.Start == 0)
        {
            // Full: the entries from `at` on move to a chunk of their own after this one.
            var tail = NewChunk();
            var moved = chunk.End - at;
            Array.Copy(chunk.Offsets, at, tail.Offsets, 0, moved);
            Array.Copy(chunk.Counts, at, tail.Counts, 0, moved);
            tail.End = moved;
            chunk.End = at;
            _chunks.Insert(c + 1, tail);
        }
        if (chunk.End < ChunkSize)
        {
            Array.Copy(chunk.Offsets, at, chunk.Offsets, at + 1, chunk.End - at);
            Array.Copy(chunk.Counts, at, chunk.Counts, at + 1, chunk.End - at);
            chunk.End++;
        }
        else
        {
            // Room only at the front: the entries before `at` move one down.
            Array.Copy(chunk.Offsets, chunk.Start, chunk.Offsets, chunk.Start - 1, at - chunk.Start);
            Array.Copy(chunk.Counts, chunk.Start, chunk.Counts, chunk.Start - 1, at - chunk.Start);
            chunk.Start--;
            at--;
        }
        chunk.Offsets[at] = offset;
        chunk.Counts[at] = count;
        Count++;
    }

    /// <summary>The first chunk whose last offset is at least <paramref name="offset"/> (one exists: the caller checked the last).</summary>
    private int FirstChunkReaching(long offset)
    {
        int lo = 0, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_chunks[mid].Last < offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private Chunk NewChunk()
    {
        var chunk = _spare ?? new Chunk();
        _spare = null;
        return chunk;
    }

    private void Recycle(Chunk chunk)
    {
        // The counts hold type names (strings): clear them so a kept chunk keeps nothing alive.
        Array.Clear(chunk.Counts);
        chunk.Start = chunk.End = 0;
        _spare = chunk;
    }
}
