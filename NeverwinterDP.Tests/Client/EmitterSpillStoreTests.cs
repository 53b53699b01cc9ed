using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Client;

/// <summary>The EmitterClient's spill store on its own: framing, acknowledgements, bounds, damage, the lock.</summary>
public sealed class EmitterSpillStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly EmitterClientMetrics _metrics = new();

    public void Dispose() => _dir.Dispose();

    private EmitterSpillStore Open(long maxBytes = 1L << 30, long segmentBytes = 64L << 20) =>
        EmitterSpillStore.Open(_dir.Path, maxBytes, segmentBytes, _metrics);

    private static List<LogEvent> Batch(string host, int start, int count) =>
        Enumerable.Range(start, count).Select(i => ClientTestKit.Event("store", host, i, "spill") with { Lineage = new Lineage("", i + 1) }).ToList();

    private static SpillRecordRef Append(EmitterSpillStore store, string host, List<LogEvent> events, string? key = null)
    {
        Assert.True(store.TryAppend(host, "worker", events, key, out var record));
        return record;
    }

    private string[] Segments() => Directory.GetFiles(_dir.Path, "*.seg").Order().ToArray();

    [Fact]
    public void Batches_come_back_after_a_restart_in_the_order_written_with_every_field()
    {
        var batches = new[] { Batch("a", 0, 10), Batch("b", 0, 3), Batch("a", 10, 5) };
        using (var store = Open())
        {
            var first = Append(store, "a", batches[0], key: "tenant-1");
            Append(store, "b", batches[1]);
            Append(store, "a", batches[2]);
            store.Sync();
            Assert.Equal(batches[0], store.Read(first).Events);
            Assert.Equal(3, store.BacklogBatches);
            Assert.Equal(18, _metrics.SpillBacklogEvents);
        }

        using (var store = Open())
        {
            Assert.Equal(["a/worker", "b/worker", "a/worker"], store.Recovered.Select(r => r.SourceId));
            Assert.Equal([10, 3, 5], store.Recovered.Select(r => r.Events));
            for (var i = 0; i < batches.Length; i++)
            {
                var read = store.Read(store.Recovered[i]);
                Assert.Equal(batches[i], read.Events);
                Assert.Equal(i == 0 ? "tenant-1" : null, read.Key);
            }
            Assert.Equal(0, _metrics.QuarantinedRecords);
            Assert.True(_metrics.SpillBytes > 0);
        }
    }

    [Fact]
    public void Acknowledged_batches_are_not_recovered_and_a_fully_acknowledged_segment_is_deleted()
    {
        // Segments of about two batches each.
        var size = EmitterSpillStore.EncodePayload("h", "worker", Batch("h", 0, 20), null).Length + 8;
        var refs = new List<SpillRecordRef>();
        using (var store = Open(segmentBytes: 8 + 2 * size + size / 2))
        {
            for (var i = 0; i < 6; i++) refs.Add(Append(store, "h", Batch("h", i * 20, 20)));
            store.Sync();
            Assert.Equal(3, Segments().Length);
            store.Ack(refs[0]);
            store.Ack(refs[1]); // the first segment is all acknowledged: gone
            Assert.Equal(2, Segments().Length);
            store.Ack(refs[3]);
            store.SyncAcks();
            Assert.Equal(3, store.BacklogBatches);
        }

        using (var store = Open(segmentBytes: 8 + 2 * size + size / 2))
        {
            Assert.Equal([refs[2].Offset, refs[4].Offset, refs[5].Offset], store.Recovered.Select(r => r.Offset));
            Assert.Equal(Batch("h", 40, 20), store.Read(store.Recovered[0]).Events);
            Assert.Equal(Batch("h", 100, 20), store.Read(store.Recovered[2]).Events);
            foreach (var r in store.Recovered) store.Ack(r);
            Assert.Equal(0, store.BacklogBatches);
        }
        using (Open())
            Assert.Empty(Segments()); // nothing left to resend: no segment, no ack file
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.acked"));
    }

    [Fact]
    public void The_store_refuses_a_batch_past_its_byte_bound()
    {
        var events = Batch("h", 0, 50);
        var size = EmitterSpillStore.EncodePayload("h", "worker", events, null).Length + 8;
        using var store = Open(maxBytes: 8 + 3 * size);
        for (var i = 0; i < 3; i++) Append(store, "h", events);
        Assert.False(store.TryAppend("h", "worker", events, null, out _));
        Assert.Equal(8 + 3 * size, store.BytesOnDisk);
        Assert.Equal(3, store.BacklogBatches);
    }

    [Fact]
    public void A_torn_tail_is_quarantined_and_the_rest_recovered()
    {
        using (var store = Open())
        {
            for (var i = 0; i < 3; i++) Append(store, "h", Batch("h", i * 10, 10));
            store.Sync();
        }
        var segment = Segments().Single();
        var length = new FileInfo(segment).Length;
        using (var f = new FileStream(segment, FileMode.Open)) f.SetLength(length - 7); // a crash mid-write

        using (var store = Open())
        {
            Assert.Equal(2, store.Recovered.Count);
            Assert.Equal(Batch("h", 10, 10), store.Read(store.Recovered[1]).Events);
            Assert.Equal(1, _metrics.QuarantinedRecords);
            var quarantine = Assert.Single(store.QuarantineFiles);
            Assert.Equal(length - 7 - store.Recovered[1].Offset - 8 - store.Recovered[1].Length, new FileInfo(quarantine).Length);
            Assert.Contains("torn", File.ReadAllText(quarantine + ".reason"));
        }
        using (var store = Open())
        {
            Assert.Equal(2, store.Recovered.Count);
            Assert.Equal(1, _metrics.QuarantinedRecords); // moved aside once
        }
    }

    [Fact]
    public void A_garbled_record_in_the_middle_is_quarantined_and_the_records_around_it_recovered()
    {
        SpillRecordRef second;
        using (var store = Open())
        {
            Append(store, "h", Batch("h", 0, 10));
            second = Append(store, "h", Batch("h", 10, 10));
            Append(store, "h", Batch("h", 20, 10));
            store.Sync();
        }
        var segment = Segments().Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[second.Offset + 8 + second.Length / 2] ^= 0x5A;
        File.WriteAllBytes(segment, bytes);

        using (var store = Open())
        {
            Assert.Equal([Batch("h", 0, 10), Batch("h", 20, 10)], store.Recovered.Select(r => store.Read(r).Events));
            Assert.Equal(1, _metrics.QuarantinedRecords);
            Assert.Equal(8 + second.Length, new FileInfo(Assert.Single(store.QuarantineFiles)).Length);
        }
        using (var store = Open())
        {
            Assert.Equal(2, store.Recovered.Count);
            Assert.Equal(1, _metrics.QuarantinedRecords);
            foreach (var r in store.Recovered) store.Ack(r);
        }
        Assert.Empty(Segments());
    }

    [Fact]
    public void Garbage_after_the_last_record_and_a_segment_that_is_not_one_are_quarantined()
    {
        using (var store = Open())
        {
            Append(store, "h", Batch("h", 0, 10));
            store.Sync();
        }
        File.AppendAllText(Segments().Single(), "\u0001\u0000\u0000\u0000garbage that is not a record");
        File.WriteAllText(Path.Combine(_dir.Path, "000000000009.seg"), "hello");

        using var reopened = Open();
        Assert.Equal(Batch("h", 0, 10), reopened.Read(Assert.Single(reopened.Recovered)).Events);
        Assert.Equal(2, _metrics.QuarantinedRecords);
        Assert.Equal(2, reopened.QuarantineFiles.Count);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "000000000009.seg")));
        // New writes go to a new segment after the highest one seen.
        Append(reopened, "h", Batch("h", 10, 10));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "000000000010.seg")));
    }

    [Fact]
    public void The_directory_is_locked_while_a_store_has_it_open()
    {
        using (Open())
        {
            var error = Assert.Throws<IOException>(() => Open());
            Assert.Contains("locked", error.Message);
            Assert.Contains(_dir.Path, error.Message);
        }
        using (Open())
        {
        }
    }
}
