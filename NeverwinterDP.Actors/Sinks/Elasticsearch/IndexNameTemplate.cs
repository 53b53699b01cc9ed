using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>
/// The <c>index</c> setting: literal text with placeholders taken from the event, e.g.
/// <c>logs-{type}-{yyyy.MM.dd}</c>. <c>{type}</c> is the event's type; any other placeholder is a date format
/// (letters y, M, d, H and the separators <c>. - _</c>) applied to the event's <c>ts</c> in UTC. Results follow
/// Elasticsearch's index name rules: lower case, none of <c>\ / * ? " &lt; &gt; | , # :</c> or spaces (a type
/// holding them gets <c>_</c> instead), not starting with <c>- _ +</c>, at most 255 bytes.
/// </summary>
public sealed class IndexNameTemplate
{
    /// <summary>Characters Elasticsearch refuses in index names (':' is deprecated since 7.0 and refused in 8).</summary>
    private const string Forbidden = "\\/*?\"<>|,#: ";

    private const int MaxBytes = 255;

    private readonly Part[] _parts;
    // Shared by whoever holds the options: concurrent, cleared when it grows past a day's worth of types.
    private readonly ConcurrentDictionary<(string Type, long Hour), string> _cache = new();

    private IndexNameTemplate(string text, Part[] parts)
    {
        Text = text;
        _parts = parts;
    }

    public string Text { get; }

    public override string ToString() => Text;

    /// <summary>Parses and checks a template.</summary>
    /// <exception cref="FormatException">Unknown placeholders, unbalanced braces, characters an index name cannot hold.</exception>
    public static IndexNameTemplate Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new FormatException("must not be empty");
        var parts = new List<Part>();
        var i = 0;
        while (i < text.Length)
        {
            var open = text.IndexOf('{', i);
            var close = text.IndexOf('}', i);
            if (close >= 0 && (open < 0 || close < open)) throw new FormatException($"'}}' without '{{' at {close} in '{text}'");
            if (open < 0)
            {
                parts.Add(Literal(text[i..], text));
                break;
            }
            if (open > i) parts.Add(Literal(text[i..open], text));
            if (close < 0) throw new FormatException($"'{{' without '}}' at {open} in '{text}'");
            var name = text[(open + 1)..close];
            parts.Add(Placeholder(name, text));
            i = close + 1;
        }
        if (parts[0] is { Kind: PartKind.Literal, Text: var first } && first[0] is '-' or '_' or '+')
            throw new FormatException($"an index name must not start with '-', '_' or '+': '{text}'");
        if (parts is [{ Kind: PartKind.Literal, Text: "." or ".." }])
            throw new FormatException($"'{text}' is not a valid index name");
        var template = new IndexNameTemplate(text, parts.ToArray());
        var sample = template.Render("sample", DateTime.UnixEpoch);
        if (sample.Length == 0) throw new FormatException($"'{text}' gives empty index names");
        return template;
    }

    private static Part Literal(string literal, string template)
    {
        var bad = literal.IndexOfAny(Forbidden.ToCharArray());
        if (bad >= 0)
            throw new FormatException($"'{literal[bad]}' is not allowed in an index name ('{template}'; forbidden: \\ / * ? \" < > | , # : and space)");
        return new Part(PartKind.Literal, literal.ToLowerInvariant());
    }

    private static Part Placeholder(string name, string template)
    {
        if (name == "type") return new Part(PartKind.Type, name);
        if (name.Length == 0 || !name.All(c => c is 'y' or 'M' or 'd' or 'H' or '.' or '-' or '_') || !name.Any(char.IsLetter))
            throw new FormatException($"unknown placeholder {{{name}}} in '{template}': use {{type}} or a date format of y, M, d, H such as {{yyyy.MM.dd}}");
        // Quote the separators so .NET does not read '.' or '-' as anything but text.
        var format = new StringBuilder();
        foreach (var c in name) format.Append(char.IsLetter(c) ? c.ToString() : $"'{c}'");
        return new Part(PartKind.Date, format.ToString());
    }

    /// <summary>The index for an event, or null when its ts is outside the dates .NET can format.</summary>
    public string? Render(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        const long maxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        const long minMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z
        if (logEvent.Ts is < minMs or > maxMs) return null;
        var hour = Math.DivRem(logEvent.Ts - minMs, 3_600_000).Quotient;
        var key = (logEvent.Type, hour);
        if (_cache.TryGetValue(key, out var name)) return name;
        if (_cache.Count >= 10_000) _cache.Clear();
        name = Render(logEvent.Type, DateTimeOffset.FromUnixTimeMilliseconds(logEvent.Ts).UtcDateTime);
        _cache[key] = name;
        return name;
    }

    /// <summary>The index for a type and a UTC time; empty when nothing usable is left.</summary>
    public string Render(string type, DateTime utc)
    {
        var builder = new StringBuilder(64);
        foreach (var part in _parts)
        {
            switch (part.Kind)
            {
                case PartKind.Literal:
                    builder.Append(part.Text);
                    break;
                case PartKind.Type:
                    foreach (var c in type)
                        builder.Append(Forbidden.Contains(c) || char.IsControl(c) ? '_' : char.ToLowerInvariant(c));
                    break;
                default:
                    builder.Append(utc.ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
            }
        }
        // Only a type can bring a bad start (the template's own start was checked).
        var start = 0;
        while (start < builder.Length && builder[start] is '-' or '_' or '+') start++;
        var name = builder.ToString(start, builder.Length - start);
        if (name is "." or "..") return "";
        if (Encoding.UTF8.GetByteCount(name) > MaxBytes)
        {
            var cut = name.Length;
            while (Encoding.UTF8.GetByteCount(name.AsSpan(0, cut)) > MaxBytes) cut--;
            if (cut > 0 && char.IsHighSurrogate(name[cut - 1])) cut--;
            name = name[..cut];
        }
        return name;
    }

    private enum PartKind
    {
        Literal,
        Type,
        Date,
    }

    private readonly record struct Part(PartKind Kind, string Text);
}
