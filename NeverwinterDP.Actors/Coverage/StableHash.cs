using System.Numerics;
using System.Runtime.InteropServices;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// A 64-bit hash of a string's UTF-16 code units that is the same in every process and on every node (sketches built
/// on different nodes are merged, so <see cref="string.GetHashCode()"/>, seeded per process, would not do). Murmur3-style
/// mixing of 8-byte blocks and its fmix64 finalizer: every input bit reaches every output bit, which HyperLogLog needs.
/// </summary>
public static class StableHash
{
    private const ulong C1 = 0x87c37b91114253d5UL;
    private const ulong C2 = 0x4cf5ad432745937fUL;

    public static ulong Of(string text) => Of(text.AsSpan());

    public static ulong Of(ReadOnlySpan<char> text)
    {
        var bytes = MemoryMarshal.AsBytes(text);
        var h = 0x9E3779B97F4A7C15UL ^ (ulong)bytes.Length;
        var blocks = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var block in blocks)
        {
            var k = BitOperations.RotateLeft(block * C1, 31) * C2;
            h = BitOperations.RotateLeft(h ^ k, 27) * 5 + 0x52dce729;
        }
        ulong tail = 0;
        var rest = bytes[(blocks.Length * 8)..];
        for (var i = rest.Length - 1; i >= 0; i--) tail = (tail << 8) | rest[i];
        h ^= BitOperations.RotateLeft(tail * C1, 31) * C2;
        return Mix(h);
    }

    /// <summary>Murmur3's fmix64.</summary>
    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
