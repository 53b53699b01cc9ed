namespace NeverwinterDP.Protocol;

/// <summary>
/// What the data pump needs of a framed LogEvent without decoding it (<see cref="LogEventAvro.TryScanFramed"/>): the
/// hour and minute it counts in, its type, its message's size and the node that took it in.
/// </summary>
/// <param name="MessageBytes">The message's length in UTF-8 bytes (the per-minute counts' bytes).</param>
public readonly record struct LogEventHeader(long SystemTs, string Type, int MessageBytes, string IngressNode);

/// <summary>
/// Strings for UTF-8 values that repeat across records (log types, node ids): the last eight values are kept, so the
/// records of a batch share a few string instances. Unlike the parser's one-slot <see cref="Utf8StringCache"/> (one
/// per field of a line), several values alternate here (the nodes writing into one partition). One per reader.
/// </summary>
public sealed class RecentStrings
{
    private const int Slots = 8;
    private readonly byte[][] _bytes = new byte[Slots][];
    private readonly string[] _strings = new string[Slots];
    private int _next;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return "";
        for (var i = 0; i < Slots; i++)
        {
            if (_bytes[i] is { } b && utf8.SequenceEqual(b)) return _strings[i];
        }
        var s = System.Text.Encoding.UTF8.GetString(utf8);
        if (utf8.Length <= 256) // long values are rare and not worth keeping
        {
            _bytes[_next] = utf8.ToArray();
            _strings[_next] = s;
            _next = (_next + 1) % Slots;
        }
        return s;
    }
}
