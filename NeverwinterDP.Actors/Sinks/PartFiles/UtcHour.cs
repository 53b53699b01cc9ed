using System.Globalization;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// One UTC hour, counted in hours since the Unix epoch: the unit of the files sink's layout
/// (<c>yyyy/MM/dd/HH</c>). A number rather than a DateTime so placing a record costs one division.
/// </summary>
internal readonly record struct UtcHour(long Index)
{
    private const long MillisecondsPerHour = 3_600_000;
    private const long MinMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    private const long MaxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    /// <summary>The hour that holds <paramref name="epochMs"/>; false outside the years 1-9999, which no directory names.</summary>
    public static bool TryFromEpochMs(long epochMs, out UtcHour hour)
    {
        if (epochMs is < MinMs or > MaxMs)
        {
            hour = default;
            return false;
        }
        var index = epochMs / MillisecondsPerHour;
        if (epochMs % MillisecondsPerHour < 0) index--; // round down before 1970 too
        hour = new UtcHour(index);
        return true;
    }

    /// <summary>The hour from the four directory names under a topic; false for names of another shape.</summary>
    public static bool TryParse(string year, string month, string day, string hour, out UtcHour result)
    {
        result = default;
        if (year.Length != 4 || month.Length != 2 || day.Length != 2 || hour.Length != 2) return false;
        if (!int.TryParse(year, NumberStyles.None, CultureInfo.InvariantCulture, out var y)
            || !int.TryParse(month, NumberStyles.None, CultureInfo.InvariantCulture, out var mo)
            || !int.TryParse(day, NumberStyles.None, CultureInfo.InvariantCulture, out var d)
            || !int.TryParse(hour, NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            return false;
        }
        if (y < 1 || mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) || h > 23) return false;

        var start = new DateTime(y, mo, d, h, 0, 0, DateTimeKind.Utc);
        result = new UtcHour((start - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerHour);
        return true;
    }

    public DateTime Start => DateTime.UnixEpoch.AddTicks(Index * TimeSpan.TicksPerHour);

    /// <summary><c>yyyy/MM/dd/HH</c> with the platform's directory separator.</summary>
    public string RelativePath
    {
        get
        {
            var s = Start;
            return Path.Combine(
                s.Year.ToString("D4", CultureInfo.InvariantCulture),
                s.Month.ToString("D2", CultureInfo.InvariantCulture),
                s.Day.ToString("D2", CultureInfo.InvariantCulture),
                s.Hour.ToString("D2", CultureInfo.InvariantCulture));
        }
    }

    /// <summary><c>yyyy/MM/dd/HH</c> with slashes, whatever the platform (HDFS paths, URLs).</summary>
    public string SlashPath => Start.ToString("yyyy'/'MM'/'dd'/'HH", CultureInfo.InvariantCulture);

    public override string ToString() => Start.ToString("yyyy-MM-dd'T'HH'Z'", CultureInfo.InvariantCulture);
}
