using System.Buffers.Binary;
using System.IO.Hashing;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Client;

/// <summary>
/// The spill store's CRC-32 comes from System.IO.Hashing; stores written before, with the hand-written table
/// (IEEE, reflected, stored little-endian), must stay readable.
/// </summary>
public sealed class EmitterSpillChecksumTests
{
    // The checksum the store wrote before System.IO.Hashing, kept here as the reference.
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
    {
        var c = (uint)i;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Previous(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    [Fact]
    public void The_library_CRC_is_the_IEEE_one_the_store_wrote_before()
    {
        Assert.Equal(0xCBF43926u, Crc32.HashToUInt32("123456789"u8)); // the standard check value of CRC-32/IEEE
        Assert.Equal(0u, Crc32.HashToUInt32([]));
        var random = new Random(42);
        foreach (var size in new[] { 1, 7, 64, 1000, 65_537 })
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            Assert.Equal(Previous(bytes), Crc32.HashToUInt32(bytes));
        }
    }

    [Fact]
    public void A_segment_framed_with_the_previous_checksum_is_recovered_whole()
    {
        using var dir = new TempDir();
        var events = Enumerable.Range(0, 5).Select(i => ClientTestKit.Event("crc", "h", i, "spill") with { Lineage = new Lineage("", i + 1) }).ToList();
        var payload = EmitterSpillStore.EncodePayload("h", "worker", events, "tenant-1");
        // The documented layout: magic, then [length: int32 LE][CRC-32: uint32 LE][payload] per record.
        var segment = new byte[8 + 8 + payload.Length];
        "NWDPESP1"u8.CopyTo(segment);
        BinaryPrimitives.WriteInt32LittleEndian(segment.AsSpan(8), payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(12), Previous(payload));
        payload.CopyTo(segment.AsSpan(16));
        File.WriteAllBytes(Path.Combine(dir.Path, "000000000001.seg"), segment);

        var metrics = new EmitterClientMetrics();
        using var store = EmitterSpillStore.Open(dir.Path, 1L << 30, 64L << 20, metrics);
        var record = Assert.Single(store.Recovered);
        var batch = store.Read(record);
        Assert.Equal(events, batch.Events);
        Assert.Equal("tenant-1", batch.Key);
        Assert.Equal(0, metrics.QuarantinedRecords);
    }
}
