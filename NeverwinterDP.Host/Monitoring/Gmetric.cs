using System.Buffers.Binary;
using System.Text;

namespace NeverwinterDP.Host.Monitoring;

/// <summary>
/// Ganglia's gmetric wire format (XDR, what <c>gmetric</c> and gmond's own modules send, Ganglia 3.1 and later): per
/// metric, a metadata packet (<c>gmetadata_full</c>, id 128: host, name, spoof, type, name, units, slope, tmax, dmax,
/// extra data such as GROUP) and a value packet (<c>gmetric_string</c>, id 133: host, name, spoof, format, value).
/// Values travel as strings with their declared type (gmond keeps the type for its XML).
/// </summary>
public static class Gmetric
{
    public const int MetadataFull = 128;
    public const int ValueString = 133;

    /// <summary>Ganglia's slope: how the value changes (<c>both</c> for a gauge, <c>positive</c> for a counter).</summary>
    public enum Slope : uint { Zero = 0, Positive = 1, Negative = 2, Both = 3 }

    public static byte[] Metadata(string host, string name, string type, string units, Slope slope, uint tmax, uint dmax, string group, string? description)
    {
        var w = new XdrWriter();
        w.Int(MetadataFull);
        w.String(host);
        w.String(name);
        w.Int(0); // spoof: no, gmond files it under the sender's address
        w.String(type);
        w.String(name);
        w.String(units);
        w.UInt((uint)slope);
        w.UInt(tmax);
        w.UInt(dmax);
        var extra = new List<(string, string)> { ("GROUP", group) };
        if (description is not null) extra.Add(("DESC", description));
        w.UInt((uint)extra.Count);
        foreach (var (k, v) in extra)
        {
            w.String(k);
            w.String(v);
        }
        return w.ToArray();
    }

    public static byte[] Value(string host, string name, string value)
    {
        var w = new XdrWriter();
        w.Int(ValueString);
        w.String(host);
        w.String(name);
        w.Int(0);
        w.String("%s");
        w.String(value);
        return w.ToArray();
    }

    /// <summary>XDR (RFC 4506): big-endian 4-byte integers; a string is its length and its bytes padded to 4.</summary>
    private sealed class XdrWriter
    {
        private readonly MemoryStream _buffer = new();

        public void Int(int v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(b, v);
            _buffer.Write(b);
        }

        public void UInt(uint v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
            _buffer.Write(b);
        }

        public void String(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            UInt((uint)bytes.Length);
            _buffer.Write(bytes);
            for (var pad = (4 - bytes.Length % 4) % 4; pad > 0; pad--) _buffer.WriteByte(0);
        }

        public byte[] ToArray() => _buffer.ToArray();
    }
}
