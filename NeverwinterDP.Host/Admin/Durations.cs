using System.Globalization;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// Durations as the admin API's <c>?since=</c> and the CLI's duration flags write them: <c>30s</c>, <c>10m</c>,
/// <c>2h</c>, <c>1d</c>, <c>500ms</c> or plain seconds.
/// </summary>
public static class Durations
{
    public static bool TryParse(string raw, out TimeSpan duration)
    {
        duration = default;
        var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000) };
        foreach (var (suffix, ms) in units)
        {
            if (!raw.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (suffix == "s" && raw.EndsWith("ms", StringComparison.Ordinal)) continue;
            if (double.TryParse(raw[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && n * ms < TimeSpan.MaxValue.TotalMilliseconds)
            {
                duration = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
            return false;
        }
        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds)
        {
            duration = TimeSpan.FromSeconds(seconds);
            return true;
        }
        return false;
    }
}
