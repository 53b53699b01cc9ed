using System.IO.Hashing;
using Xunit;

namespace NeverwinterDP.Tests.Spillover;

/// <summary>The checksum of a spilled batch's row is System.IO.Hashing's CRC-32: the one the rows already stored carry.</summary>
public sealed class SpillChecksumTests
{
    /// <summary>The hand-written CRC-32 the spill store used before (IEEE, reflected, as a little-endian uint), kept as the reference.</summary>
    private static uint PreviousCrc32(ReadOnlySpan<byte> data)
    {
        var table = Enumerable.Range(0, 256).Select(i =>
        {
            var c = (uint)i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    [Fact]
    public void The_check_value_is_the_ieee_one_the_previous_implementation_gave()
    {
        Assert.Equal(0xCBF43926u, PreviousCrc32("123456789"u8));
        Assert.Equal(0xCBF43926u, Crc32.HashToUInt32("123456789"u8));
    }

    [Fact]
    public void Every_length_and_content_hashes_as_before()
    {
        var random = new Random(11);
        for (var length = 0; length < 600; length += 7)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            Assert.Equal(PreviousCrc32(bytes), Crc32.HashToUInt32(bytes));
        }
    }
}
