using System.Numerics;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// A distinct-count estimate in bounded memory (Flajolet et al., "HyperLogLog", 2007) over <see cref="StableHash"/>.
/// With precision p it holds m = 2^p one-byte registers and its standard error is 1.04/√m: p=12 (4 KiB) → 1.6%,
/// p=14 (16 KiB) → 0.8%. Below 2.5·m the estimate is linear counting over the empty registers (the paper's
/// small-range correction); a 64-bit hash needs no large-range correction.
/// <para>
/// Sparse while small: up to m/32 distinct hashes are kept as they are (exact, and far smaller than the registers,
/// which matters because most attribute keys take few values); past that it turns into the registers. Two sketches
/// of the same precision merge (the union of their inputs) on any node, which is how partial sketches of the cluster's
/// nodes are combined. Not thread-safe.
/// </para>
/// </summary>
public sealed class HyperLogLog
{
    public const int MinPrecision = 4;
    public const int MaxPrecision = 16;

    private HashSet<ulong>? _sparse = new();
    private byte[]? _registers;

    public HyperLogLog(int precision)
    {
        if (precision is < MinPrecision or > MaxPrecision)
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"HyperLogLog precision must be {MinPrecision}..{MaxPrecision}");
        Precision = precision;
    }

    public int Precision { get; }

    private int M => 1 << Precision;

    private int SparseLimit => M / 32;

    /// <summary>The relative standard error of <see cref="Estimate"/> once past the exact (sparse) range: 1.04/√(2^p).</summary>
    public double StandardError => StandardErrorOf(Precision);

    public static double StandardErrorOf(int precision) => 1.04 / Math.Sqrt(1 << precision);

    /// <summary>Whether the estimate is still exact (up to 64-bit hash collisions).</summary>
    public bool IsExact => _sparse is not null;

    public void Add(string value) => AddHash(StableHash.Of(value));

    public void AddHash(ulong hash)
    {
        if (_sparse is not null)
        {
            if (_sparse.Add(hash) && _sparse.Count > SparseLimit) Densify();
            return;
        }
        Set(_registers!, hash);
    }

    private void Set(byte[] registers, ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // The rank of the first 1 bit among the remaining 64-p bits (64-p+1 when they are all zero).
        var rest = (hash << Precision) | (1UL << (Precision - 1));
        var rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > registers[index]) registers[index] = rank;
    }

    private void Densify()
    {
        var registers = new byte[M];
        foreach (var h in _sparse!) Set(registers, h);
        _registers = registers;
        _sparse = null;
    }

    public long Estimate()
    {
        if (_sparse is not null) return _sparse.Count;
        var registers = _registers!;
        double sum = 0;
        var zeros = 0;
        foreach (var r in registers)
        {
            sum += Math.ScaleB(1.0, -r);
            if (r == 0) zeros++;
        }
        var m = (double)M;
        var alpha = Precision switch
        {
            4 => 0.673,
            5 => 0.697,
            6 => 0.709,
            _ => 0.7213 / (1 + 1.079 / m),
        };
        var raw = alpha * m * m / sum;
        if (raw <= 2.5 * m && zeros > 0) return (long)Math.Round(m * Math.Log(m / zeros));
        return (long)Math.Round(raw);
    }

    /// <summary>Adds everything <paramref name="other"/> saw (same precision only).</summary>
    public void Merge(HyperLogLog other)
    {
        if (other.Precision != Precision)
            throw new ArgumentException($"cannot merge a HyperLogLog of precision {other.Precision} into one of {Precision}", nameof(other));
        if (other._sparse is not null)
        {
            foreach (var h in other._sparse) AddHash(h);
            return;
        }
        if (_sparse is not null) Densify();
        var mine = _registers!;
        var theirs = other._registers!;
        for (var i = 0; i < mine.Length; i++)
            if (theirs[i] > mine[i]) mine[i] = theirs[i];
    }

    public HyperLogLog Clone()
    {
        var copy = new HyperLogLog(Precision);
        copy.Merge(this);
        return copy;
    }

    /// <summary>The wire form: precision, then either 'S' and the hashes, or 'D' and the registers; base64 of those bytes.</summary>
    public string Serialize()
    {
        byte[] bytes;
        if (_sparse is not null)
        {
            bytes = new byte[2 + 8 * _sparse.Count];
            bytes[0] = (byte)Precision;
            bytes[1] = (byte)'S';
            var i = 2;
            foreach (var h in _sparse)
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(i, 8), h);
                i += 8;
            }
        }
        else
        {
            bytes = new byte[2 + M];
            bytes[0] = (byte)Precision;
            bytes[1] = (byte)'D';
            _registers!.CopyTo(bytes, 2);
        }
        return Convert.ToBase64String(bytes);
    }

    public static HyperLogLog Deserialize(string wire)
    {
        var bytes = Convert.FromBase64String(wire);
        if (bytes.Length < 2) throw new FormatException("a HyperLogLog needs at least 2 bytes");
        var hll = new HyperLogLog(bytes[0]);
        switch ((char)bytes[1])
        {
            case 'S' when (bytes.Length - 2) % 8 == 0:
                for (var i = 2; i < bytes.Length; i += 8) hll.AddHash(BitConverter.ToUInt64(bytes, i));
                break;
            case 'D' when bytes.Length - 2 == hll.M:
                hll._registers = bytes[2..];
                hll._sparse = null;
                break;
            default:
                throw new FormatException("not a serialized HyperLogLog");
        }
        return hll;
    }
}
