namespace NeverwinterDP.Protocol;

/// <summary>
/// UTC hours as the epoch milliseconds of their start: the unit of hour markers, watermarks and coverage sketches
/// (by an event's <c>system_ts</c>).
/// </summary>
public static class UtcHours
{
    /// <summary>Milliseconds in an hour.</summary>
    public const long Ms = 3_600_000;

    /// <summary>The start of the hour holding <paramref name="epochMs"/> (rounded down, also before 1970).</summary>
    public static long Of(long epochMs) => epochMs - ((epochMs % Ms) + Ms) % Ms;
}
