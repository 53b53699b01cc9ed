using System.Globalization;
using System.Text;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.HBase;

/// <summary>
/// The <c>row-key</c> template, e.g. <c>{type}|{reverse_ts}|{host}|{source_seq}</c>: literal text and
/// placeholders, checked once at start. Numbers that are meant to sort (<c>ts</c>, <c>reverse_ts</c>,
/// <c>offset</c>, <c>source_seq</c>) are zero-padded to 19 digits, because HBase orders row keys as bytes:
/// padded, "2" comes before "10" as it should. <c>reverse_ts</c> is <c>Long.MAX_VALUE - ts</c>, so within one
/// prefix the newest event's row comes first in a scan.
/// </summary>
public sealed class HBaseRowKeyTemplate
{
    /// <summary>
    /// The default: newest first per type and host; the record's place on the bus keeps keys apart and makes
    /// a replay land on the same row. (<c>{source_seq}</c> cannot do that: it is counted per ingress node and
    /// source in memory and starts again at 1 when a node restarts, so two events could share a row.)
    /// </summary>
    public const string Default = "{type}|{reverse_ts}|{host}|{topic}|{partition}|{offset}";

    /// <summary>The placeholders every template must hold: together they name one record on the bus.</summary>
    public static IReadOnlyList<string> Required { get; } = ["topic", "partition", "offset"];

    /// <summary>Every placeholder a template may use.</summary>
    public static IReadOnlyList<string> Placeholders { get; } =
        ["type", "reverse_ts", "ts", "host", "process", "topic", "partition", "offset", "source_seq", "ingress"];

    // A part is either literal text (Placeholder null) or one placeholder.
    private readonly (string? Literal, string? Placeholder)[] _parts;

    private HBaseRowKeyTemplate(string text, (string?, string?)[] parts)
    {
        Text = text;
        _parts = parts;
    }

    public string Text { get; }

    /// <summary>
    /// Parses <paramref name="text"/>; <paramref name="key"/> is the full HOCON key named in errors. A template
    /// must hold <c>{topic}</c>, <c>{partition}</c> and <c>{offset}</c>: the sink's writes are idempotent on
    /// (topic, partition, offset), and without all three two different records could get the same row, the
    /// second silently overwriting the first.
    /// </summary>
    public static HBaseRowKeyTemplate Parse(string text, string key)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new SinkConfigException(key, "must not be empty");
        var parts = new List<(string?, string?)>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '}') throw new SinkConfigException(key, $"'}}' without '{{' at position {i} in '{text}'");
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            var end = text.IndexOf('}', i + 1);
            if (end < 0) throw new SinkConfigException(key, $"'{{' without '}}' at position {i} in '{text}'");
            var name = text[(i + 1)..end];
            if (!Placeholders.Contains(name))
                throw new SinkConfigException(key, $"unknown placeholder {{{name}}}; known: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}");
            if (literal.Length > 0)
            {
                parts.Add((literal.ToString(), null));
                literal.Clear();
            }
            parts.Add((null, name));
            i = end;
        }
        if (literal.Length > 0) parts.Add((literal.ToString(), null));
        var missing = Required.Where(r => !parts.Any(p => p.Item2 == r)).ToList();
        if (missing.Count > 0)
            throw new SinkConfigException(key, $"'{text}' lacks {string.Join(", ", missing.Select(m => "{" + m + "}"))}: a row key must hold {{topic}}, {{partition}} and {{offset}}, or different records could share a row and overwrite each other");
        return new HBaseRowKeyTemplate(text, parts.ToArray());
    }

    /// <summary>The row key of <paramref name="record"/> as text (UTF-8 on the wire).</summary>
    public string Render(SinkRecord record)
    {
        var e = record.Event;
        var key = new StringBuilder(64);
        foreach (var (literal, placeholder) in _parts)
        {
            if (literal is not null)
            {
                key.Append(literal);
                continue;
            }
            switch (placeholder)
            {
                case "type": key.Append(e.Type); break;
                case "reverse_ts": key.Append(Padded(long.MaxValue - e.Ts)); break;
                case "ts": key.Append(Padded(e.Ts)); break;
                case "host": key.Append(e.Host); break;
                case "process": key.Append(e.Process); break;
                case "topic": key.Append(record.Topic); break;
                case "partition": key.Append(record.Partition.ToString(CultureInfo.InvariantCulture)); break;
                case "offset": key.Append(Padded(record.Offset)); break;
                case "source_seq": key.Append(Padded(e.Lineage.SourceSeq)); break;
                case "ingress": key.Append(e.Lineage.IngressNode); break;
            }
        }
        return key.ToString();
    }

    // 19 digits hold every non-negative long; the caller rejects negative timestamps before rendering.
    private static string Padded(long value) => value.ToString("D19", CultureInfo.InvariantCulture);
}
