using System.Globalization;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// What one attribute key of one type carried in one hour: how many events had it (and with an empty value), when it
/// was first and last seen, its distinct values (<see cref="HyperLogLog"/>), its most frequent values
/// (<see cref="SpaceSaving"/>), and the smallest and largest value among those that parse as numbers.
/// </summary>
public sealed class KeySketch
{
    public KeySketch(int hllPrecision, int topValues)
        : this(new HyperLogLog(hllPrecision), new SpaceSaving(topValues))
    {
    }

    private KeySketch(HyperLogLog distinct, SpaceSaving top)
    {
        Distinct = distinct;
        Top = top;
    }

    /// <summary>Events that carried the key.</summary>
    public long Present { get; private set; }

    /// <summary>Of those, with an empty (or all-blank) value.</summary>
    public long Empty { get; private set; }

    /// <summary>Of those, with a value that parses as a number (invariant culture).</summary>
    public long Numeric { get; private set; }

    public double? Min { get; private set; }
    public double? Max { get; private set; }
    public long FirstSeenMs { get; private set; } = long.MaxValue;
    public long LastSeenMs { get; private set; } = long.MinValue;
    public HyperLogLog Distinct { get; }
    public SpaceSaving Top { get; }

    public void Add(string value, long tsMs)
    {
        Present++;
        if (tsMs < FirstSeenMs) FirstSeenMs = tsMs;
        if (tsMs > LastSeenMs) LastSeenMs = tsMs;
        if (string.IsNullOrWhiteSpace(value)) Empty++;
        Distinct.Add(value);
        Top.Add(value);
        if (value.Length is > 0 and < 40 && LooksNumeric(value)
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            Numeric++;
            if (Min is not { } min || number < min) Min = number;
            if (Max is not { } max || number > max) Max = number;
        }
    }

    // A cheap test before parsing: most values are not numbers, and many that start with a digit are ids (hex, UUIDs)
    // with a letter soon after. It turns away only values with a character no finite invariant number has.
    private static bool LooksNumeric(string value)
    {
        if (!(char.IsAsciiDigit(value[0]) || value[0] is '-' or '+' or '.')) return false;
        foreach (var c in value)
            if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.' or 'e' or 'E' || char.IsWhiteSpace(c))) return false;
        return true;
    }

    public void Merge(KeySketch other)
    {
        Present += other.Present;
        Empty += other.Empty;
        Numeric += other.Numeric;
        if (other.Min is { } omin && (Min is not { } min || omin < min)) Min = omin;
        if (other.Max is { } omax && (Max is not { } max || omax > max)) Max = omax;
        FirstSeenMs = Math.Min(FirstSeenMs, other.FirstSeenMs);
        LastSeenMs = Math.Max(LastSeenMs, other.LastSeenMs);
        Distinct.Merge(other.Distinct);
        Top.Merge(other.Top);
    }

    public KeySketchWire ToWire() => new(Present, Empty, Numeric, Min, Max, FirstSeenMs, LastSeenMs, Distinct.Serialize(), Top.ToWire());

    public static KeySketch FromWire(KeySketchWire w) => new(HyperLogLog.Deserialize(w.Distinct), SpaceSaving.FromWire(w.Top))
    {
        Present = w.Present, Empty = w.Empty, Numeric = w.Numeric, Min = w.Min, Max = w.Max, FirstSeenMs = w.FirstSeenMs, LastSeenMs = w.LastSeenMs,
    };
}

public sealed record KeySketchWire(long Present, long Empty, long Numeric, double? Min, double? Max, long FirstSeenMs, long LastSeenMs, string Distinct, SpaceSavingWire Top);
