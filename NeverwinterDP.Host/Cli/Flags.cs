using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli;

/// <summary>A usage error: the message names the flag; <see cref="CliApp"/> prints it after the verb's name and exits 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The flags of the verbs as System.CommandLine options with nwdp's conventions: <c>--name value</c> or
/// <c>--name=value</c>; a flag given twice keeps its last value (repeatable flags keep all); a bad value is an
/// error naming the flag and the value (<c>flag '--batch' must be between 1 and 100000, got 0</c>).
/// <see cref="Option.HelpName"/> is the VALUE of the usage line, <see cref="Symbol.Description"/> its help.
/// </summary>
public static class Flags
{
    public static Option<string?> Text(string name, string help, string valueName, string? alias = null) =>
        Single<string?>(name, help, valueName, alias, (_, raw) => raw);

    /// <summary>A flag that may be given several times (<c>--set K=V --set K2=V2</c>): every value, in order.</summary>
    public static Option<string[]> Repeated(string name, string help, string valueName) =>
        new(name) { Description = help, HelpName = valueName, DefaultValueFactory = _ => [] };

    /// <summary>A switch (<c>--json</c>); <c>--json=false</c> turns it off again.</summary>
    public static Option<bool> Switch(string name, string help, string? alias = null) =>
        alias is null ? new(name) { Description = help } : new(name, alias) { Description = help };

    public static Option<int> Int(string name, string help, string valueName, int fallback, int min = int.MinValue, int max = int.MaxValue, string? alias = null)
    {
        var option = Single(name, help, valueName, alias, (result, raw) =>
        {
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                return Fail<int>(result, $"flag '{name}' must be a whole number, got '{raw}'");
            return value < min || value > max ? Fail<int>(result, $"flag '{name}' must be between {min} and {max}, got {value}") : value;
        });
        option.DefaultValueFactory = _ => fallback;
        return option;
    }

    /// <summary>A whole number of at least <paramref name="min"/>; null when the flag is not given.</summary>
    public static Option<long?> Long(string name, string help, string valueName, long min = long.MinValue) =>
        Single<long?>(name, help, valueName, null, (result, raw) =>
        {
            if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                return Fail<long?>(result, $"flag '{name}' must be a whole number, got '{raw}'");
            return value < min ? Fail<long?>(result, $"flag '{name}' must be at least {min}, got {value}") : value;
        });

    /// <summary>Durations as <c>30s</c>, <c>10m</c>, <c>2h</c>, <c>500ms</c> or plain seconds (<see cref="Durations"/>); null when not given.</summary>
    public static Option<TimeSpan?> Duration(string name, string help, string valueName = "DURATION") =>
        Single<TimeSpan?>(name, help, valueName, null, (result, raw) =>
            Durations.TryParse(raw, out var d) ? d : Fail<TimeSpan?>(result, $"flag '{name}' must be a duration like 30s, 10m, 2h or 500ms, got '{raw}'"));

    /// <summary>
    /// A point in time as epoch milliseconds: RFC 3339 / ISO 8601 (<c>2026-12-05T14:00:00Z</c>; no offset means UTC),
    /// epoch seconds or milliseconds, <c>now</c>, or a duration ago (<c>2h</c>, <c>30m</c>); null when not given.
    /// </summary>
    public static Option<long?> Time(string name, string help, Func<DateTimeOffset>? now = null) =>
        Single<long?>(name, help, "TIME", null, (result, raw) =>
            TryParseTime(raw, (now ?? (() => DateTimeOffset.UtcNow))(), out var ms) ? ms
                : Fail<long?>(result, $"flag '{name}' must be a time like 2026-12-05T14:00:00Z, epoch seconds or milliseconds, 'now', or a duration ago like 2h; got '{raw}'"));

    public static bool TryParseTime(string raw, DateTimeOffset now, out long ms)
    {
        ms = 0;
        if (raw == "now")
        {
            ms = now.ToUnixTimeMilliseconds();
            return true;
        }
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
        {
            ms = epoch < 100_000_000_000 ? epoch * 1000 : epoch; // below 1973 in ms: seconds
            return true;
        }
        if (Durations.TryParse(raw, out var ago) && raw.Any(char.IsLetter))
        {
            ms = (now - ago).ToUnixTimeMilliseconds();
            return true;
        }
        if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            ms = at.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }

    /// <summary>
    /// One value; the last one when the flag is repeated. Arity one-or-more lets the parser accept the
    /// repetition (it still takes one value per occurrence); the parser keeps the last token.
    /// </summary>
    private static Option<T> Single<T>(string name, string help, string valueName, string? alias, Func<ArgumentResult, string, T> parse)
    {
        var option = alias is null ? new Option<T>(name) : new Option<T>(name, alias);
        option.Description = help;
        option.HelpName = valueName;
        option.Arity = ArgumentArity.OneOrMore;
        option.CustomParser = result => result.Tokens.Count == 0 ? default! : parse(result, result.Tokens[^1].Value);
        return option;
    }

    private static T Fail<T>(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default!;
    }
}
