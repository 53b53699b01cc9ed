using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Client;

/// <summary>Encryption at rest of the EmitterClient's spill directory: sealed segments, key rotation, a missing key, tampering.</summary>
public sealed class EmitterSpillEncryptionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly EmitterClientMetrics _metrics = new();
    private readonly SpillKey _a = SpillKey.Parse(SpillKey.NewText(), "test a");
    private readonly SpillKey _b = SpillKey.Parse(SpillKey.NewText(), "test b");

    public void Dispose() => _dir.Dispose();

    private EmitterSpillStore Open(SpillKeyRing keys) => EmitterSpillStore.Open(_dir.Path, 1L << 30, 64L << 20, _metrics, keys);

    private static List<LogEvent> Batch(string run, int start, int count) =>
        Enumerable.Range(start, count).Select(i => ClientTestKit.Event(run, "h", i, "spill") with { Lineage = new Lineage("", i + 1) }).ToList();

    private static SpillRecordRef Append(EmitterSpillStore store, List<LogEvent> events)
    {
        Assert.True(store.TryAppend("h", "worker", events, "tenant", out var record));
        return record;
    }

    private Dictionary<string, string> Snapshot() =>
        Directory.GetFiles(_dir.Path).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(File.ReadAllBytes(f)));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_plaintext_of_spilled_events_is_in_no_file_of_the_spill_directory_when_encryption_is_on(bool encrypted)
    {
        var marker = "PLAINTEXT-MARKER-" + Guid.NewGuid().ToString("N");
        var keys = encrypted ? new SpillKeyRing(_a, [], seals: true) : SpillKeyRing.None;
        using (var store = Open(keys))
        {
            var first = Append(store, Batch(marker, 0, 20));
            Append(store, Batch(marker, 20, 20));
            store.Sync();
            store.Ack(first);
            store.SyncAcks();
            Assert.Equal(Batch(marker, 0, 20), store.Read(first).Events);
        }
        var bytes = Encoding.UTF8.GetBytes(marker);
        var holding = Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories).Where(f => File.ReadAllBytes(f).AsSpan().IndexOf(bytes) >= 0).ToList();
        if (encrypted) Assert.True(holding.Count == 0, "the plaintext is in " + string.Join(", ", holding));
        else Assert.NotEmpty(holding); // the check can fail: in the clear, the segment holds it
        using (var store = Open(keys))
            Assert.Equal(Batch(marker, 20, 20), store.Read(Assert.Single(store.Recovered)).Events);
    }

    [Fact]
    public void Segments_in_the_clear_and_under_an_older_key_are_read_after_the_key_rotates_and_after_encryption_is_turned_off()
    {
        using (var store = Open(SpillKeyRing.None)) Append(store, Batch("clear", 0, 5));
        using (var store = Open(new SpillKeyRing(_a, [], seals: true))) Append(store, Batch("under-a", 0, 5));
        using (var store = Open(new SpillKeyRing(_b, [_a], seals: true)))
        {
            Assert.Equal(2, store.Recovered.Count);
            Append(store, Batch("under-b", 0, 5));
        }
        foreach (var keys in new[] { new SpillKeyRing(_b, [_a], seals: true), new SpillKeyRing(_b, [_a], seals: false) })
        {
            using var store = Open(keys);
            Assert.Equal(["clear-h-0", "under-a-h-0", "under-b-h-0"], store.Recovered.Select(r => store.Read(r).Events[0].Message));
            Assert.Equal("tenant", store.Read(store.Recovered[1]).Key);
        }
        Assert.Equal(0, _metrics.QuarantinedRecords);
    }

    [Fact]
    public void A_store_with_batches_under_a_key_not_configured_does_not_open_says_which_key_and_is_left_untouched()
    {
        using (var store = Open(new SpillKeyRing(_a, [], seals: true)))
        {
            Append(store, Batch("x", 0, 5));
            Append(store, Batch("x", 5, 5));
        }
        var before = Snapshot();
        foreach (var keys in new[] { new SpillKeyRing(_b, [], seals: true), SpillKeyRing.None })
        {
            var e = Assert.Throws<SpillKeyException>(() => Open(keys));
            Assert.Contains(_a.IdText, e.Message);
            Assert.Contains(_dir.Path, e.Message);
            Assert.Equal(before, Snapshot());
        }
        Assert.Equal(0, _metrics.QuarantinedRecords);
        using (var store = Open(new SpillKeyRing(_b, [_a], seals: true))) Assert.Equal(2, store.Recovered.Count);
    }

    [Fact]
    public void A_client_whose_spill_key_file_is_missing_does_not_start_and_says_which_file()
    {
        var missing = Path.Combine(_dir.Path, "no-such.key");
        var e = Assert.Throws<SpillKeyException>(() => EmitterClient.Start(new EmitterClientOptions
        {
            ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"],
            SpillDirectory = Path.Combine(_dir.Path, "spill"),
            SpillEncryption = new SpillEncryptionOptions { Enabled = true, KeyFile = missing },
        }));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void A_sealed_record_that_fails_authentication_is_quarantined_and_the_others_recovered()
    {
        SpillRecordRef first;
        var keys = new SpillKeyRing(_a, [], seals: true);
        using (var store = Open(keys))
        {
            first = Append(store, Batch("x", 0, 5));
            Append(store, Batch("x", 5, 5));
        }
        // Tampered with, its checksum made to match: only the authentication tag tells.
        var segment = Directory.GetFiles(_dir.Path, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        var payload = bytes.AsSpan((int)first.Offset + 8, first.Length);
        payload[^2] ^= 0x40;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)first.Offset + 4), Crc32.HashToUInt32(payload));
        File.WriteAllBytes(segment, bytes);

        using (var store = Open(keys))
        {
            Assert.Equal(Batch("x", 5, 5), store.Read(Assert.Single(store.Recovered)).Events);
            Assert.Equal(1, _metrics.QuarantinedRecords);
            Assert.Contains("fails authentication", File.ReadAllText(Assert.Single(store.QuarantineFiles) + ".reason"));
        }
    }
}
