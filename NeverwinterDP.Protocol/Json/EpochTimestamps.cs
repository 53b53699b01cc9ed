namespace NeverwinterDP.Protocol;

/// <summary>
/// Turns the timestamps senders post into epoch milliseconds: epoch numbers in s, ms, µs or ns (the unit
/// told by magnitude) and RFC 3339 / ISO 8601 strings. Results must lie in the years 1-9999: sinks store
/// them as dates (Elasticsearch, SQL, hour directories), and a DateTime holds no others.
/// </summary>
internal static class EpochTimestamps
{
    public const long MinMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    public const long MaxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    // An epoch below 1e11 read as ms would be before 1973-03; read as s it reaches the year 5138. Each further
    // unit is 1000 times larger, so the same reasoning splits ms/µs at 1e14 and µs/ns at 1e17.
    private const long SecondsBelow = 100_000_000_000;
    private const long MillisBelow = 100_000_000_000_000;
    private const long MicrosBelow = 100_000_000_000_000_000;

    public static bool InRange(long ms) => ms is >= MinMs and <= MaxMs;

    /// <summary>An integer epoch; the caller checks <see cref="InRange"/>.</summary>
    public static long FromEpoch(long value)
    {
        var magnitude = value == long.MinValue ? long.MaxValue : Math.Abs(value);
        return magnitude switch
        {
            < SecondsBelow => value * 1000,
            < MillisBelow => value,
            < MicrosBelow => FloorDiv(value, 1000),
            _ => FloorDiv(value, 1_000_000),
        };
    }

    /// <summary>
    /// A fractional epoch, e.g. Fluent Bit's <c>date</c> in seconds with microseconds; false when it does not
    /// fit a long. Decimal, not double, so 1700000000.123 s is exactly ...123 ms.
    /// </summary>
    public static bool TryFromEpoch(decimal value, out long ms)
    {
        var magnitude = Math.Abs(value);
        var inMs = magnitude switch
        {
            < SecondsBelow => value * 1000,
            < MillisBelow => value,
            < MicrosBelow => value / 1000,
            _ => value / 1_000_000,
        };
        inMs = decimal.Floor(inMs);
        if (inMs < long.MinValue || inMs > long.MaxValue)
        {
            ms = 0;
            return false;
        }
        ms = (long)inMs;
        return true;
    }

    /// <summary>
    /// <c>YYYY-MM-DD</c>, optionally followed by <c>T</c> (or <c>t</c> or a space) <c>hh:mm[:ss[.fraction]]</c>
    /// and a zone <c>Z</c>, <c>±hh:mm</c>, <c>±hhmm</c> or <c>±hh</c>. A missing zone means UTC; fractions
    /// beyond milliseconds are truncated; a leap second 60 rolls into the next minute. False when the text has
    /// another form; the caller checks <see cref="InRange"/>.
    /// </summary>
    public static bool TryParseRfc3339(ReadOnlySpan<byte> text, out long ms)
    {
        ms = 0;
        var p = 0;
        if (!TryDigits(text, ref p, 4, out var year) || !TryByte(text, ref p, (byte)'-')
            || !TryDigits(text, ref p, 2, out var month) || !TryByte(text, ref p, (byte)'-')
            || !TryDigits(text, ref p, 2, out var day))
        {
            return false;
        }
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;

        long hour = 0, minute = 0, second = 0, millis = 0, offsetMinutes = 0;
        if (p < text.Length)
        {
            if (text[p] is not ((byte)'T' or (byte)'t' or (byte)' ')) return false;
            p++;
            if (!TryDigits(text, ref p, 2, out var h) || !TryByte(text, ref p, (byte)':') || !TryDigits(text, ref p, 2, out var m))
            {
                return false;
            }
            hour = h;
            minute = m;
            if (TryByte(text, ref p, (byte)':'))
            {
                if (!TryDigits(text, ref p, 2, out var s)) return false;
                second = s;
                if (p < text.Length && text[p] is (byte)'.' or (byte)',')
                {
                    p++;
                    var digits = 0;
                    while (p < text.Length && IsDigit(text[p]))
                    {
                        if (digits < 3) millis = millis * 10 + (text[p] - '0');
                        digits++;
                        p++;
                    }
                    if (digits == 0) return false;
                    for (var i = digits; i < 3; i++) millis *= 10;
                }
            }
            if (hour > 23 || minute > 59 || second > 60) return false;

            if (p < text.Length)
            {
                var zone = text[p++];
                if (zone is (byte)'Z' or (byte)'z')
                {
                    // UTC
                }
                else if (zone is (byte)'+' or (byte)'-')
                {
                    if (!TryDigits(text, ref p, 2, out var oh)) return false;
                    var om = 0;
                    if (p < text.Length)
                    {
                        TryByte(text, ref p, (byte)':');
                        if (!TryDigits(text, ref p, 2, out om)) return false;
                    }
                    if (oh > 23 || om > 59) return false;
                    offsetMinutes = (zone == (byte)'-' ? -1 : 1) * (oh * 60L + om);
                }
                else
                {
                    return false;
                }
            }
        }
        if (p != text.Length) return false;

        var days = new DateOnly(year, month, day).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        ms = ((days * 24L + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis;
        return true;
    }

    private static long FloorDiv(long value, long divisor)
    {
        var quotient = Math.DivRem(value, divisor, out var remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool TryByte(ReadOnlySpan<byte> text, ref int p, byte expected)
    {
        if (p >= text.Length || text[p] != expected) return false;
        p++;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, ref int p, int count, out int value)
    {
        value = 0;
        if (p + count > text.Length) return false;
        for (var i = 0; i < count; i++)
        {
            var b = text[p + i];
            if (!IsDigit(b)) return false;
            value = value * 10 + (b - '0');
        }
        p += count;
        return true;
    }
}
