using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Stats;

/// <summary>The six per-minute categories; the <c>_spill</c> ones are the events that went to the spillover store.</summary>
public enum StatsCategory
{
    Normal = 0,
    Error = 1,
    Watchdog = 2,
    NormalSpill = 3,
    ErrorSpill = 4,
    WatchdogSpill = 5,
}

public static class StatsCategories
{
    public const int Count = 6;

    /// <summary>Category names as they appear in JSON and in the <c>category</c> label.</summary>
    public static readonly string[] Names = ["normal", "error", "watchdog", "normal_spill", "error_spill", "watchdog_spill"];

    /// <summary>The spill category of a direct one.</summary>
    public static StatsCategory Spilled(StatsCategory c) => (StatsCategory)((int)c % 3 + 3);

    /// <summary>
    /// watchdog: type <c>heartbeat</c> or <c>watchdog</c>; error: level error/fatal or a syslog severity at
    /// err or above (<c>err, crit, critical, alert, emerg, emergency</c>); normal: everything else. Case-insensitive.
    /// </summary>
    public static StatsCategory Of(LogEvent e)
    {
        if (IsWatchdogType(e.Type)) return StatsCategory.Watchdog;
        return IsErrorLevel(e.Level) ? StatsCategory.Error : StatsCategory.Normal;
    }

    public static bool IsWatchdogType(string type) =>
        type.Equals("heartbeat", StringComparison.OrdinalIgnoreCase) || type.Equals("watchdog", StringComparison.OrdinalIgnoreCase);

    public static bool IsErrorLevel(string level) => level.Length switch
    {
        3 => level.Equals("err", StringComparison.OrdinalIgnoreCase),
        4 => level.Equals("crit", StringComparison.OrdinalIgnoreCase),
        5 => level.Equals("error", StringComparison.OrdinalIgnoreCase) || level.Equals("fatal", StringComparison.OrdinalIgnoreCase)
             || level.Equals("alert", StringComparison.OrdinalIgnoreCase) || level.Equals("emerg", StringComparison.OrdinalIgnoreCase),
        8 => level.Equals("critical", StringComparison.OrdinalIgnoreCase),
        9 => level.Equals("emergency", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
