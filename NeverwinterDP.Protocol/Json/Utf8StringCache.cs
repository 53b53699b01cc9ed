using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Remembers the last short string decoded at one spot (a field, or the n-th attribute of a line) and hands
/// the same instance back when the next line has the same bytes there. Lines of one source repeat host,
/// process, level and attribute keys, so this saves most string allocations of a parse.
/// </summary>
internal sealed class Utf8StringCache
{
    /// <summary>Longer values are rarely repeated (messages, ids); copying them would cost more than it saves.</summary>
    public const int MaxCachedBytes = 64;

    private readonly byte[] _bytes = new byte[MaxCachedBytes];
    private int _length = -1;
    private string _value = "";

    /// <summary>Decodes UTF-8 (throws <see cref="DecoderFallbackException"/> when it is not).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == _length && utf8.SequenceEqual(_bytes.AsSpan(0, _length))) return _value;

        var value = Utf8Text.Decode(utf8);
        if (utf8.Length <= MaxCachedBytes)
        {
            utf8.CopyTo(_bytes);
            _length = utf8.Length;
            _value = value;
        }
        return value;
    }
}
