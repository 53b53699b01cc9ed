using System.Text;

namespace NeverwinterDP.Host.Syslog;

/// <summary>What a framing reader found at the start of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>A whole frame: its payload and how many bytes it took.</summary>
    Frame,

    /// <summary>Not enough bytes yet for a frame.</summary>
    NeedMore,

    /// <summary>The bytes cannot be a frame: the framing is lost, the connection must be closed.</summary>
    Broken,
}

/// <summary>
/// Syslog over a stream (RFC 6587, also RFC 5425 over TLS): octet counting (<c>MSG-LEN SP SYSLOG-MSG</c>) when a
/// frame starts with a digit, else newline framing (the message up to LF; NUL is taken as a trailer too, and CR
/// before it dropped). Told apart per frame, as RFC 6587 3.4 allows, so one connection may mix both.
/// </summary>
public static class SyslogFraming
{
    /// <summary>Reads the frame at the start of <paramref name="buffer"/>; <paramref name="atEnd"/> = the sender closed (a last line without LF is a frame).</summary>
    public static FrameStatus TryRead(ReadOnlySpan<byte> buffer, int maxMessage, bool atEnd, out Range payload, out int consumed, out string? error)
    {
        payload = default;
        error = null;
        // Blank trailers between frames (LF, CR LF, NUL) are skipped.
        var skip = 0;
        while (skip < buffer.Length && buffer[skip] is (byte)'\n' or (byte)'\r' or 0) skip++;
        consumed = skip;
        buffer = buffer[skip..];
        if (buffer.IsEmpty) return skip > 0 ? FrameStatus.NeedMore : FrameStatus.NeedMore;
        if (buffer[0] is >= (byte)'1' and <= (byte)'9')
        {
            // Octet counting: up to 10 digits, one space, then exactly that many bytes.
            var space = buffer[..Math.Min(buffer.Length, 11)].IndexOf((byte)' ');
            var digits = space < 0 ? buffer[..Math.Min(buffer.Length, 11)] : buffer[..space];
            if (digits.ContainsAnyExceptInRange((byte)'0', (byte)'9') || (space < 0 && digits.Length > 10))
            {
                error = $"octet-counted frame must start with MSG-LEN (digits) and a space; got '{Printable(buffer[..Math.Min(buffer.Length, 16)])}'";
                return FrameStatus.Broken;
            }
            if (space < 0) return atEnd ? Broken(buffer, out error) : FrameStatus.NeedMore;
            var length = long.Parse(digits, provider: System.Globalization.CultureInfo.InvariantCulture);
            if (length > maxMessage)
            {
                error = $"octet-counted frame of {length} bytes exceeds max-message-bytes ({maxMessage})";
                return FrameStatus.Broken;
            }
            var end = space + 1 + (int)length;
            if (buffer.Length < end)
            {
                if (!atEnd) return FrameStatus.NeedMore;
                error = $"the connection closed inside an octet-counted frame ({buffer.Length - space - 1} of {length} bytes)";
                return FrameStatus.Broken;
            }
            payload = new Range(skip + space + 1, skip + end);
            consumed = skip + end;
            return FrameStatus.Frame;
        }
        var lf = buffer[..Math.Min(buffer.Length, maxMessage + 2)].IndexOfAny((byte)'\n', (byte)0);
        if (lf < 0)
        {
            if (buffer.Length > maxMessage + 1)
            {
                error = $"no LF within max-message-bytes ({maxMessage}) of a newline-framed message";
                return FrameStatus.Broken;
            }
            if (!atEnd) return FrameStatus.NeedMore;
            lf = buffer.Length;
        }
        var line = lf > 0 && buffer[lf - 1] == (byte)'\r' ? lf - 1 : lf;
        if (line > maxMessage)
        {
            error = $"newline-framed message of {line} bytes exceeds max-message-bytes ({maxMessage})";
            return FrameStatus.Broken;
        }
        payload = new Range(skip, skip + line);
        consumed = skip + Math.Min(lf + 1, buffer.Length);
        return FrameStatus.Frame;
    }

    private static FrameStatus Broken(ReadOnlySpan<byte> buffer, out string error)
    {
        error = $"the connection closed inside an octet-counted frame's MSG-LEN '{Printable(buffer)}'";
        return FrameStatus.Broken;
    }

    /// <summary>A short, printable excerpt of bytes for a log line.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes[..Math.Min(bytes.Length, 40)]) text.Append(b is >= 32 and < 127 ? (char)b : '?');
        return text.ToString();
    }
}
