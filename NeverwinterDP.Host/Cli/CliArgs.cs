using System.Globalization;

namespace NeverwinterDP.Host.Cli;

/// <summary>A usage error: the message names the flag; the verb prints it with its usage and exits 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The flags of one verb: <c>--name value</c>, <c>--name=value</c>, switches (<c>--json</c>), short aliases
/// and positionals. Every flag a verb does not declare is an error that names it.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    private CliArgs(IReadOnlyList<string> positionals) => Positionals = positionals;

    public IReadOnlyList<string> Positionals { get; }

    /// <summary>Parses <paramref name="args"/> against the verb's declared flags.</summary>
    public static CliArgs Parse(IReadOnlyList<string> args, VerbSpec spec)
    {
        var positionals = new List<string>();
        var parsed = new List<(string Name, string? Value)>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                positionals.AddRange(args.Skip(i + 1));
                break;
            }
            if (!arg.StartsWith('-') || arg == "-")
            {
                positionals.Add(arg);
                continue;
            }
            string name;
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            else name = arg;
            var option = spec.Find(name) ?? throw new CliUsageException($"unknown flag '{name}' for 'nwdp {spec.Name}'");
            if (option.IsSwitch)
            {
                if (inline is not null && inline is not ("true" or "false"))
                    throw new CliUsageException($"flag '{name}' takes no value");
                parsed.Add((option.Name, inline ?? "true"));
                continue;
            }
            var value = inline ?? (i + 1 < args.Count ? args[++i] : throw new CliUsageException($"flag '{name}' needs a value ({option.ValueName})"));
            parsed.Add((option.Name, value));
        }

        var result = new CliArgs(positionals);
        foreach (var (name, value) in parsed)
        {
            var option = spec.Find(name)!;
            if (option.IsSwitch)
            {
                if (value == "true") result._switches.Add(name);
                else result._switches.Remove(name);
                continue;
            }
            if (!result._values.TryGetValue(name, out var list)) result._values[name] = list = new List<string>();
            if (!option.Repeatable) list.Clear();
            list.Add(value!);
        }
        return result;
    }

    public bool Has(string name) => _switches.Contains(name) || _values.ContainsKey(name);

    public bool Switch(string name) => _switches.Contains(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var raw = Get(name);
        if (raw is null) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new CliUsageException($"flag '{name}' must be a whole number, got '{raw}'");
        if (value < min || value > max) throw new CliUsageException($"flag '{name}' must be between {min} and {max}, got {value}");
        return value;
    }

    public long GetLong(string name, long fallback, long min = long.MinValue)
    {
        var raw = Get(name);
        if (raw is null) return fallback;
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new CliUsageException($"flag '{name}' must be a whole number, got '{raw}'");
        if (value < min) throw new CliUsageException($"flag '{name}' must be at least {min}, got {value}");
        return value;
    }

    /// <summary>Durations as <c>30s</c>, <c>10m</c>, <c>2h</c>, <c>500ms</c> or plain seconds.</summary>
    public TimeSpan? GetDuration(string name)
    {
        var raw = Get(name);
        if (raw is null) return null;
        return TryParseDuration(raw, out var d) ? d : throw new CliUsageException($"flag '{name}' must be a duration like 30s, 10m, 2h or 500ms, got '{raw}'");
    }

    public static bool TryParseDuration(string raw, out TimeSpan duration)
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
