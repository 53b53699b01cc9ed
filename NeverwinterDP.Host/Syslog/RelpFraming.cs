using System.Globalization;
using System.Text;

namespace NeverwinterDP.Host.Syslog;

/// <summary>One RELP frame: <c>TXNR SP COMMAND SP DATALEN [SP DATA] LF</c>.</summary>
/// <param name="Data">Where DATA is in the buffer it was read from.</param>
public readonly record struct RelpFrame(long Txnr, string Command, Range Data);

/// <summary>
/// Reads and writes RELP frames (rsyslog's Reliable Event Logging Protocol, as librelp speaks it): the client
/// sends <c>open</c> (its offers), then <c>syslog</c> frames (each one message), then <c>close</c>; the server
/// answers each with an <c>rsp</c> frame of the same TXNR whose DATA starts with a status (<c>200 OK</c>, <c>500 ...</c>),
/// and may say <c>serverclose</c> (TXNR 0) before it goes away.
/// </summary>
public static class RelpFraming
{
    private const int MaxTxnrDigits = 9;
    private const int MaxCommand = 32;
    private const int MaxDataLenDigits = 9;

    /// <summary>What this server offers in its answer to <c>open</c>.</summary>
    public const string Offers = "relp_version=0\nrelp_software=nwdp\ncommands=syslog";

    public static FrameStatus TryRead(ReadOnlySpan<byte> buffer, int maxData, out RelpFrame frame, out int consumed, out string? error)
    {
        frame = default;
        consumed = 0;
        error = null;
        var at = 0;
        if (!Number(buffer, ref at, MaxTxnrDigits, "TXNR", out var txnr, out error)) return error is null ? FrameStatus.NeedMore : FrameStatus.Broken;
        if (!Space(buffer, ref at, "TXNR", out error)) return error is null ? FrameStatus.NeedMore : FrameStatus.Broken;
        var commandStart = at;
        while (at < buffer.Length && at - commandStart <= MaxCommand && buffer[at] is >= (byte)'a' and <= (byte)'z') at++;
        if (at == buffer.Length) return at - commandStart > MaxCommand ? Fail("COMMAND is longer than 32 letters", out error) : FrameStatus.NeedMore;
        if (at == commandStart || at - commandStart > MaxCommand) return Fail($"COMMAND must be 1 to {MaxCommand} letters a-z", out error);
        var command = Encoding.ASCII.GetString(buffer[commandStart..at]);
        if (!Space(buffer, ref at, "COMMAND", out error)) return error is null ? FrameStatus.NeedMore : FrameStatus.Broken;
        if (!Number(buffer, ref at, MaxDataLenDigits, "DATALEN", out var length, out error)) return error is null ? FrameStatus.NeedMore : FrameStatus.Broken;
        if (length > maxData) return Fail($"DATALEN {length} exceeds max-message-bytes ({maxData})", out error);
        if (at == buffer.Length) return FrameStatus.NeedMore;
        var dataStart = at;
        if (length > 0 || buffer[at] == (byte)' ')
        {
            if (buffer[at] != (byte)' ') return Fail("DATALEN must be followed by a space and DATA", out error);
            dataStart = at + 1;
        }
        var trailer = dataStart + (int)length;
        if (buffer.Length <= trailer) return FrameStatus.NeedMore;
        if (buffer[trailer] != (byte)'\n') return Fail($"frame {txnr} is not ended by LF after its {length} bytes of DATA", out error);
        frame = new RelpFrame(txnr, command, new Range(dataStart, trailer));
        consumed = trailer + 1;
        return FrameStatus.Frame;
    }

    /// <summary>The bytes of an <c>rsp</c> frame answering <paramref name="txnr"/>.</summary>
    public static byte[] Response(long txnr, string data)
    {
        var bytes = Encoding.UTF8.GetByteCount(data);
        return Encoding.UTF8.GetBytes(bytes == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{txnr} rsp 0\n")
            : string.Create(CultureInfo.InvariantCulture, $"{txnr} rsp {bytes} {data}\n"));
    }

    /// <summary>The frame that tells the client the server closes the session.</summary>
    public static byte[] ServerClose { get; } = "0 serverclose 0\n"u8.ToArray();

    private static bool Number(ReadOnlySpan<byte> buffer, ref int at, int maxDigits, string name, out long value, out string? error)
    {
        value = 0;
        error = null;
        var start = at;
        while (at < buffer.Length && at - start <= maxDigits && buffer[at] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (buffer[at] - '0');
            at++;
        }
        if (at - start > maxDigits)
        {
            error = $"{name} is longer than {maxDigits} digits";
            return false;
        }
        if (at == buffer.Length) return false; // need more
        if (at == start)
        {
            error = $"{name} must be digits; got '{SyslogFraming.Printable(buffer[at..Math.Min(buffer.Length, at + 16)])}'";
            return false;
        }
        return true;
    }

    private static bool Space(ReadOnlySpan<byte> buffer, ref int at, string after, out string? error)
    {
        error = null;
        if (at == buffer.Length) return false;
        if (buffer[at] != (byte)' ')
        {
            error = $"{after} must be followed by a space";
            return false;
        }
        at++;
        return true;
    }

    private static FrameStatus Fail(string message, out string? error)
    {
        error = message;
        return FrameStatus.Broken;
    }
}
