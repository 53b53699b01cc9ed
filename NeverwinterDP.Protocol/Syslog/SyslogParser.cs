using System.Globalization;
using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Reads one syslog message (the payload of one frame or datagram) into a <see cref="LogEvent"/>: RFC 5424 when
/// the PRI is followed by a version (<c>&lt;165&gt;1 </c>), else RFC 3164 (BSD syslog), read as liberally as
/// RFC 3164 section 4.3 asks of a relay.
/// </summary>
/// <remarks>
/// <para>Mapping (both formats): facility and severity come from PRI; severity → <c>level</c> (emerg, alert,
/// crit, error, warn, notice, info, debug), the facility's name → attribute <c>facility</c>; HOSTNAME → <c>host</c>
/// (NILVALUE or none: the sender's address); APP-NAME (3164: the TAG's program) → <c>process</c>; PROCID (3164:
/// the TAG's <c>[pid]</c>) → attribute <c>procid</c>; MSGID → attribute <c>msgid</c>; every structured-data
/// parameter → attribute <c>sd.SD-ID.PARAM-NAME</c> (an element without parameters: <c>sd.SD-ID</c> = ""); MSG →
/// <c>msg</c> (a UTF-8 BOM dropped, invalid UTF-8 replaced by U+FFFD, trailing CR/LF/NUL trimmed); TIMESTAMP → <c>ts</c>.</para>
/// <para>RFC 3164's timestamp (<c>Mmm dd hh:mm:ss</c>) has no year and no zone: it is read in
/// <see cref="SyslogSettings.LegacyTimeZone"/>, in whichever of last year, this year and next year puts it nearest
/// to the ingress time (so a December message received on 1 January is last year's). An RFC 3339 timestamp in its
/// place (rsyslog's forward format) is read as such. A 3164 message without PRI is all message, PRI 13 (user.notice);
/// one without a valid timestamp gets the ingress time and no host of its own (RFC 3164 4.3.2, 4.3.3).</para>
/// </remarks>
public static class SyslogParser
{
    /// <summary>Severity (0-7) → level.</summary>
    public static readonly string[] Levels = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"];

    /// <summary>Facility (0-23) → its name, as rsyslog names them.</summary>
    public static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static readonly UTF8Encoding Lossy = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// One message as an event, or the reason it is refused (only a broken RFC 5424 header, an empty message or
    /// a PRI out of range: RFC 3164 takes anything). The source sequence is not stamped (<see cref="Stamp"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, SyslogSettings settings, IngressContext context, out LogEvent logEvent, out string? error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(context);
        logEvent = null!;
        message = TrimEnd(message);
        if (message.IsEmpty)
        {
            error = "empty syslog message";
            return false;
        }
        var fields = new Fields();
        var rest = message;
        if (message[0] == (byte)'<')
        {
            var close = message[..Math.Min(message.Length, 5)].IndexOf((byte)'>');
            if (close < 2 || !int.TryParse(message[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out var pri) || pri > 191 || (close > 2 && message[1] == (byte)'0'))
            {
                error = "PRI must be '<' 1 to 3 digits (0-191) '>' at the start of the message";
                return false;
            }
            fields.Pri = pri;
            rest = message[(close + 1)..];
            if (rest.Length >= 2 && rest[0] is >= (byte)'1' and <= (byte)'9' && (rest[1] == (byte)' ' || (rest.Length > 2 && char.IsAsciiDigit((char)rest[1]) && rest[2] == (byte)' ')))
            {
                if (!TryRfc5424(rest, ref fields, out error)) return false;
                logEvent = Build(fields, settings, context);
                return true;
            }
        }
        else
        {
            fields.Pri = 13; // RFC 3164 4.3.3: no PRI, user.notice
            fields.Message = Decode(rest);
            logEvent = Build(fields, settings, context);
            error = null;
            return true;
        }
        Rfc3164(rest, settings, context, ref fields);
        logEvent = Build(fields, settings, context);
        error = null;
        return true;
    }

    /// <summary>Stamps each event's source sequence once the batch is final (a refused message uses up no number).</summary>
    public static void Stamp(IReadOnlyList<LogEvent> events, IngressContext context)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(context);
        if (context.NextSourceSeq is not { } next) return;
        foreach (var e in events) e.StampSourceSeq(next(e.Host, e.Process));
    }

    private struct Fields
    {
        public int Pri;
        public long? Ts;
        public string? Host;
        public string? App;
        public string? ProcId;
        public string? MsgId;
        public List<KeyValuePair<string, string>>? Data;
        public string Message;
    }

    private static bool TryRfc5424(ReadOnlySpan<byte> rest, ref Fields fields, out string? error)
    {
        // VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
        var space = rest.IndexOf((byte)' ');
        if (rest[..space].SequenceEqual("1"u8) is false)
        {
            error = $"RFC 5424 VERSION '{Encoding.ASCII.GetString(rest[..space])}' is not supported (only 1)";
            return false;
        }
        rest = rest[(space + 1)..];
        if (!Token(ref rest, "TIMESTAMP", 64, out var timestamp, out error)) return false;
        if (timestamp != "-")
        {
            if (!TryRfc3339(timestamp!, out var ms))
            {
                error = $"RFC 5424 TIMESTAMP '{timestamp}' is not an RFC 3339 date-time";
                return false;
            }
            fields.Ts = ms;
        }
        if (!Token(ref rest, "HOSTNAME", 255, out fields.Host, out error)) return false;
        if (!Token(ref rest, "APP-NAME", 48, out fields.App, out error)) return false;
        if (!Token(ref rest, "PROCID", 128, out fields.ProcId, out error)) return false;
        if (!Token(ref rest, "MSGID", 32, out fields.MsgId, out error)) return false;
        if (rest.IsEmpty)
        {
            error = "RFC 5424 STRUCTURED-DATA is missing (use '-' for none)";
            return false;
        }
        if (rest[0] == (byte)'-')
        {
            rest = rest[1..];
        }
        else if (!TryStructuredData(ref rest, ref fields, out error))
        {
            return false;
        }
        if (!rest.IsEmpty)
        {
            if (rest[0] != (byte)' ')
            {
                error = "RFC 5424 STRUCTURED-DATA must be followed by a space and MSG, or end the message";
                return false;
            }
            rest = rest[1..];
            if (rest.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) rest = rest[3..];
        }
        fields.Message = Decode(rest);
        error = null;
        return true;
    }

    /// <summary>A header field up to the next space; NILVALUE '-' is kept as "-" for TIMESTAMP, null for the others.</summary>
    private static bool Token(ref ReadOnlySpan<byte> rest, string name, int max, out string? value, out string? error)
    {
        var space = rest.IndexOf((byte)' ');
        var token = space < 0 ? rest : rest[..space];
        value = null;
        if (token.IsEmpty || token.Length > max || token.ContainsAnyExceptInRange((byte)33, (byte)126))
        {
            error = $"RFC 5424 {name} must be 1 to {max} printable ASCII characters or '-'";
            return false;
        }
        if (space < 0 && name != "MSGID")
        {
            error = $"RFC 5424 header ends after {name}";
            return false;
        }
        rest = space < 0 ? default : rest[(space + 1)..];
        value = token.SequenceEqual("-"u8) && name != "TIMESTAMP" ? null : Encoding.ASCII.GetString(token);
        error = null;
        return true;
    }

    private static bool TryStructuredData(ref ReadOnlySpan<byte> rest, ref Fields fields, out string? error)
    {
        fields.Data = [];
        var text = new StringBuilder();
        while (!rest.IsEmpty && rest[0] == (byte)'[')
        {
            rest = rest[1..];
            var idEnd = rest.IndexOfAny(" ]"u8);
            if (idEnd <= 0 || rest[..idEnd].IndexOfAny("=\""u8) >= 0)
            {
                error = "RFC 5424 SD-ELEMENT must start with an SD-ID";
                return false;
            }
            var id = Encoding.ASCII.GetString(rest[..idEnd]);
            rest = rest[idEnd..];
            var any = false;
            while (!rest.IsEmpty && rest[0] == (byte)' ')
            {
                rest = rest[1..];
                var eq = rest.IndexOf((byte)'=');
                if (eq <= 0 || eq + 1 >= rest.Length || rest[eq + 1] != (byte)'"')
                {
                    error = $"RFC 5424 SD-PARAM in [{id}] must be PARAM-NAME=\"PARAM-VALUE\"";
                    return false;
                }
                var name = Encoding.ASCII.GetString(rest[..eq]);
                rest = rest[(eq + 2)..];
                text.Clear();
                var start = 0;
                var i = 0;
                var closed = false;
                while (i < rest.Length)
                {
                    var b = rest[i];
                    if (b == (byte)'\\' && i + 1 < rest.Length && rest[i + 1] is (byte)'"' or (byte)'\\' or (byte)']')
                    {
                        text.Append(Decode(rest[start..i]));
                        start = i + 1; // the escaped character is kept, the backslash dropped
                        i += 2;
                        continue;
                    }
                    if (b == (byte)'"')
                    {
                        closed = true;
                        break;
                    }
                    i++;
                }
                if (!closed)
                {
                    error = $"RFC 5424 PARAM-VALUE of {name} in [{id}] is not closed by '\"'";
                    return false;
                }
                text.Append(Decode(rest[start..i]));
                rest = rest[(i + 1)..];
                fields.Data.Add(new($"sd.{id}.{name}", text.ToString()));
                any = true;
            }
            if (rest.IsEmpty || rest[0] != (byte)']')
            {
                error = $"RFC 5424 SD-ELEMENT [{id}] is not closed by ']'";
                return false;
            }
            rest = rest[1..];
            if (!any) fields.Data.Add(new($"sd.{id}", ""));
        }
        error = null;
        return true;
    }

    private static void Rfc3164(ReadOnlySpan<byte> rest, SyslogSettings settings, IngressContext context, ref Fields fields)
    {
        // TIMESTAMP SP HOSTNAME SP TAG MSG; a missing or bad timestamp leaves all of it the message (RFC 3164 4.3.2).
        if (TryLegacyTimestamp(ref rest, settings, context.NowMs, out var ts))
        {
            fields.Ts = ts;
            var space = rest.IndexOf((byte)' ');
            var first = space < 0 ? rest : rest[..space];
            // Senders that leave out the HOSTNAME (local sockets, some devices) go straight to the TAG.
            if (space > 0 && !IsTag(first))
            {
                fields.Host = Decode(first);
                rest = rest[(space + 1)..];
            }
            // TAG: the program, an optional [pid], then ':' (RFC 3164 5.3); a first word without ':' is message.
            var tagEnd = rest[..Math.Min(rest.Length, 64)].IndexOfAny(": ["u8);
            if (tagEnd > 0)
            {
                var program = rest[..tagEnd];
                var after = rest[tagEnd..];
                string? pid = null;
                if (after[0] == (byte)'[' && after.IndexOf((byte)']') is var closeBracket and > 1)
                {
                    pid = Decode(after[1..closeBracket]);
                    after = after[(closeBracket + 1)..];
                }
                if (!after.IsEmpty && after[0] == (byte)':')
                {
                    fields.App = Decode(program);
                    fields.ProcId = pid;
                    rest = after[1..];
                    if (!rest.IsEmpty && rest[0] == (byte)' ') rest = rest[1..];
                }
            }
        }
        fields.Message = Decode(rest);
    }

    private static bool IsTag(ReadOnlySpan<byte> word) => word.EndsWith(":"u8) || (word.IndexOf((byte)'[') > 0 && word.EndsWith("]:"u8));

    /// <summary><c>Mmm dd hh:mm:ss</c> (day space- or zero-padded) followed by a space, or an RFC 3339 date-time.</summary>
    private static bool TryLegacyTimestamp(ref ReadOnlySpan<byte> rest, SyslogSettings settings, long nowMs, out long ms)
    {
        ms = 0;
        if (rest.Length >= 16 && rest[3] == (byte)' ' && rest[6] == (byte)' ' && rest[9] == (byte)':' && rest[12] == (byte)':' && rest[15] == (byte)' ')
        {
            var month = Array.IndexOf(Months, Encoding.ASCII.GetString(rest[..3])) + 1;
            var dayText = rest[4..6];
            if (dayText[0] == (byte)' ') dayText = dayText[1..];
            if (month > 0 && int.TryParse(dayText, NumberStyles.None, CultureInfo.InvariantCulture, out var day)
                && int.TryParse(rest[7..9], NumberStyles.None, CultureInfo.InvariantCulture, out var hour)
                && int.TryParse(rest[10..12], NumberStyles.None, CultureInfo.InvariantCulture, out var minute)
                && int.TryParse(rest[13..15], NumberStyles.None, CultureInfo.InvariantCulture, out var second)
                && hour < 24 && minute < 60 && second < 61
                && NearestYear(month, day, hour, minute, Math.Min(second, 59), settings.LegacyTimeZone, nowMs) is { } found)
            {
                ms = found;
                rest = rest[16..];
                return true;
            }
            return false;
        }
        var space = rest.IndexOf((byte)' ');
        if (space >= 19 && space <= 40 && rest[4] == (byte)'-' && (rest[10] == (byte)'T' || rest[10] == (byte)'t') && TryRfc3339(Encoding.ASCII.GetString(rest[..space]), out ms))
        {
            rest = rest[(space + 1)..];
            return true;
        }
        return false;
    }

    private static long? NearestYear(int month, int day, int hour, int minute, int second, TimeZoneInfo zone, long nowMs)
    {
        var nowYear = DateTimeOffset.FromUnixTimeMilliseconds(nowMs).UtcDateTime.Year;
        long? best = null;
        for (var year = nowYear - 1; year <= nowYear + 1; year++)
        {
            if (day < 1 || day > DateTime.DaysInMonth(year, month)) continue;
            var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
            var utc = new DateTimeOffset(local, zone.GetUtcOffset(local));
            var candidate = utc.ToUnixTimeMilliseconds();
            if (best is null || Math.Abs(candidate - nowMs) < Math.Abs(best.Value - nowMs)) best = candidate;
        }
        return best;
    }

    private static bool TryRfc3339(string text, out long ms)
    {
        ms = 0;
        // A full-date "T" full-time with a zone (Z or ±hh:mm); fractions of any length.
        if (text.Length < 20 || text[4] != '-' || text[10] is not ('T' or 't') || !(text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-')) return false;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return false;
        ms = parsed.ToUnixTimeMilliseconds();
        return EpochTimestamps.InRange(ms);
    }

    private static LogEvent Build(in Fields fields, SyslogSettings settings, IngressContext context)
    {
        var facility = fields.Pri >> 3;
        var attributes = new Dictionary<string, string>(2 + (fields.Data?.Count ?? 0)) { ["facility"] = Facilities[facility] };
        if (fields.ProcId is { } procId) attributes["procid"] = procId;
        if (fields.MsgId is { } msgId) attributes["msgid"] = msgId;
        if (fields.Data is { } data)
        {
            // A PARAM-NAME repeated in one element (RFC 5424 allows it) keeps every value, comma-separated.
            foreach (var (key, value) in data) attributes[key] = attributes.TryGetValue(key, out var before) ? before + "," + value : value;
        }
        return new LogEvent
        {
            Ts = fields.Ts ?? context.NowMs,
            SystemTs = context.NowMs,
            Host = string.IsNullOrEmpty(fields.Host) ? context.Host : fields.Host,
            Ip = context.Ip,
            Process = string.IsNullOrEmpty(fields.App) ? LogEvent.DefaultProcess : fields.App,
            Type = settings.Type,
            Level = Levels[fields.Pri & 7],
            Message = fields.Message ?? "",
            Attributes = attributes,
            Lineage = context.Lineage,
        };
    }

    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> message)
    {
        var end = message.Length;
        while (end > 0 && message[end - 1] is (byte)'\n' or (byte)'\r' or 0) end--;
        return message[..end];
    }

    private static string Decode(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Lossy.GetString(bytes);
}

/// <summary>What the syslog inputs decide for every message they read.</summary>
/// <param name="Type">The log type of every event (<c>nwdp.inputs.syslog.type</c>).</param>
/// <param name="LegacyTimeZone">The zone RFC 3164 timestamps are read in (<c>nwdp.inputs.syslog.legacy-time-zone</c>).</param>
public sealed record SyslogSettings(string Type, TimeZoneInfo LegacyTimeZone);
