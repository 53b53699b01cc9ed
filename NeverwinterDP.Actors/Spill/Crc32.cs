namespace NeverwinterDP.Actors.Spill;

/// <summary>
/// Only for the EmitterClient's spill store (Client/), whose own switch to <see cref="System.IO.Hashing.Crc32"/>
/// is another change: delete this file with it. Same IEEE CRC-32 as before, so stored checksums stay valid.
/// </summary>
internal static class Crc32
{
    public static uint Compute(ReadOnlySpan<byte> data) => System.IO.Hashing.Crc32.HashToUInt32(data);
}
