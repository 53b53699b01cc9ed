using System.Globalization;
using System.Text;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// A threshold range of the Monitoring Plugins development guidelines: <c>10</c> alerts outside 0..10, <c>10:</c>
/// below 10, <c>~:10</c> above 10, <c>10:20</c> outside 10..20, <c>@10:20</c> inside 10..20 (ends included).
/// </summary>
public sealed record NagiosRange(double Start, double End, bool Inside, string Text)
{
    /// <summary>The range <paramref name="text"/> names; a <see cref="CliUsageException"/> naming <paramref name="flag"/> when it is not one.</summary>
    public static NagiosRange Parse(string text, string flag)
    {
        var problem = new CliUsageException($"flag '{flag}' must be a threshold range like 10, 10:, ~:10, 10:20 or @10:20, got '{text}'");
        var body = text.Trim();
        var inside = body.StartsWith('@');
        if (inside) body = body[1..];
        if (body.Length == 0) throw problem;
        double start = 0, end = double.PositiveInfinity;
        var colon = body.IndexOf(':');
        if (colon < 0)
        {
            if (!TryNumber(body, out end)) throw problem;
        }
        else
        {
            var left = body[..colon];
            var right = body[(colon + 1)..];
            if (left == "~") start = double.NegativeInfinity;
            else if (!TryNumber(left, out start)) throw problem;
            if (right.Length > 0 && !TryNumber(right, out end)) throw problem;
        }
        if (start > end) throw problem;
        return new NagiosRange(start, end, inside, text.Trim());
    }

    /// <summary>Whether <paramref name="value"/> raises the alert of this range.</summary>
    public bool Alerts(double value) => Inside ? value >= Start && value <= End : value < Start || value > End;

    private static bool TryNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public override string ToString() => Text;
}

/// <summary>One performance datum: <c>'label'=value[UOM];[warn];[crit];[min];[max]</c>.</summary>
public sealed record PerfDatum(string Label, double Value, string Uom = "", NagiosRange? Warn = null, NagiosRange? Crit = null, double? Min = null, double? Max = null)
{
    public override string ToString()
    {
        // Quotes only where the guidelines require them (a label with spaces or other punctuation); '=' and quotes are never in a label.
        var label = Label.Replace('\'', '_').Replace('=', '_');
        if (label.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/'))) label = $"'{label}'";
        var text = $"{label}={Number(Value)}{Uom};{Warn};{Crit};{(Min is { } min ? Number(min) : "")};{(Max is { } max ? Number(max) : "")}";
        return text.TrimEnd(';');
    }

    /// <summary>A number as the guidelines want it: '.' as the decimal separator, no exponent, no thousands separator.</summary>
    public static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>The verdict of one check: its exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), the one line text and the perfdata.</summary>
public sealed record CheckResult(string Service, int Code, string Text, IReadOnlyList<PerfDatum> Perf)
{
    public const int Ok = 0, Warning = 1, Critical = 2, Unknown = 3;

    public static readonly string[] StatusNames = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];

    public string Status => StatusNames[Code];

    /// <summary>CRITICAL when <paramref name="crit"/> alerts for <paramref name="value"/>, else WARNING when <paramref name="warn"/> does, else OK.</summary>
    public static int Grade(double value, NagiosRange? warn, NagiosRange? crit) =>
        crit?.Alerts(value) == true ? Critical : warn?.Alerts(value) == true ? Warning : Ok;

    /// <summary>The plugin line: <c>SERVICE STATUS - text | perfdata</c> (no <c>|</c> in the text: it would start the perfdata).</summary>
    public string PluginLine()
    {
        var sb = new StringBuilder().Append(Service).Append(' ').Append(Status).Append(" - ").Append(Text.Replace('|', '/').Replace('\n', ' '));
        if (Perf.Count > 0) sb.Append(" | ").Append(string.Join(' ', Perf));
        return sb.ToString();
    }

    /// <summary>Cacti's data input script output: <c>name:value</c> pairs separated by spaces.</summary>
    public string CactiLine() =>
        string.Join(' ', Perf.Select(p => $"{new string(p.Label.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray())}:{PerfDatum.Number(p.Value)}"));
}
