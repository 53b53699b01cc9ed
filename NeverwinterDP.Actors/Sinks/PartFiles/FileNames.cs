using System.Globalization;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Names of the part files the files and Hive sinks write. A published file is
/// <c>&lt;prefix&gt;&lt;topic&gt;-p&lt;partition:D4&gt;-o&lt;first:D20&gt;-o&lt;last:D20&gt;&lt;extension&gt;</c>: zero-padded so names sort by
/// offset, and complete enough that recovery needs nothing but the names. A file being written is
/// <c>.&lt;prefix&gt;&lt;topic&gt;-p&lt;partition&gt;-o&lt;first&gt;&lt;extension&gt;.tmp</c> in the same directory: the leading dot and
/// the suffix make Hadoop, Spark, Hive, Vector and shell globs skip it, and the same directory makes the
/// publishing rename atomic. The files sink has no prefix (<see cref="Files"/>); the Hive sink uses <c>part-</c>.
/// The HDFS sink's files of a typed log type's records carry their writer schema's registry id after the topic,
/// <c>&lt;topic&gt;-s&lt;id&gt;-p...</c> (<see cref="Hdfs"/>): each schema's files are a slot of their own
/// (<see cref="SchemaBucket"/>), so recovery must tell them apart by name. Plain files' names are as they were.
/// </summary>
internal sealed class FileNames(string prefix, bool schemaIds, params string[] extensions)
{
    public FileNames(string prefix, params string[] extensions)
        : this(prefix, false, extensions)
    {
    }

    public const string TempSuffix = ".tmp";

    private const int OffsetDigits = 20;
    private const int OffsetPartLength = 2 + OffsetDigits; // "-o" + digits

    /// <summary>The files sink's names: no prefix, <c>.ndjson</c> or <c>.avro</c>.</summary>
    public static FileNames Files { get; } = new("", ".ndjson", ".avro");

    /// <summary>The HDFS sink's names: the files sink's, as Avro or Parquet.</summary>
    public static FileNames Hdfs { get; } = new("", schemaIds: true, ".avro", ".parquet");

    /// <summary>The slot bucket of the files of one typed schema (<c>s&lt;id&gt;</c>); plain files have the bucket "".</summary>
    public static string SchemaBucket(int schemaId) => string.Create(CultureInfo.InvariantCulture, $"s{schemaId}");

    public string Prefix { get; } = prefix;

    /// <param name="schemaId">The typed schema of the file's records (names that carry it only); 0 for plain files.</param>
    public string Final(string topic, int partition, long first, long last, string extension, int schemaId = 0) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{topic}{SchemaPart(schemaId)}-p{partition:D4}-o{first:D20}-o{last:D20}{extension}");

    public string Temp(string topic, int partition, long first, string extension, int schemaId = 0) =>
        string.Create(CultureInfo.InvariantCulture, $".{Prefix}{topic}{SchemaPart(schemaId)}-p{partition:D4}-o{first:D20}{extension}{TempSuffix}");

    private string SchemaPart(int schemaId)
    {
        if (schemaId == 0) return "";
        if (!schemaIds || schemaId < 0) throw new ArgumentOutOfRangeException(nameof(schemaId), schemaId, "these names carry no schema id");
        return string.Create(CultureInfo.InvariantCulture, $"-s{schemaId}");
    }

    /// <summary>Kafka's legal topic names (<c>[a-zA-Z0-9._-]</c>, 1-249 long, not <c>.</c> or <c>..</c>): safe as a directory name.</summary>
    public static bool IsLegalTopic(string? topic)
    {
        if (string.IsNullOrEmpty(topic) || topic.Length > 249 || topic is "." or "..") return false;
        foreach (var c in topic)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>A published file of <paramref name="topic"/>: its partition and offset range.</summary>
    public bool TryParseFinal(string name, string topic, out int partition, out long first, out long last) =>
        TryParseFinal(name, topic, out partition, out first, out last, out _);

    /// <summary>A published file of <paramref name="topic"/>: its partition, offset range and typed schema id (0: plain).</summary>
    public bool TryParseFinal(string name, string topic, out int partition, out long first, out long last, out int schemaId)
    {
        partition = schemaId = 0;
        first = last = 0;
        if (!TryStripExtension(name, out var stem) || stem.Length < 2 * OffsetPartLength) return false;
        return TryParseOffset(stem[^OffsetPartLength..], out last)
            && TryParseOffset(stem[^(2 * OffsetPartLength)..^OffsetPartLength], out first)
            && TryParsePartition(stem[..^(2 * OffsetPartLength)], topic, out partition, out schemaId)
            && first <= last;
    }

    /// <summary>A temporary file of <paramref name="topic"/> (one a dead process left, when we did not open it): its partition.</summary>
    public bool TryParseTemp(string name, string topic, out int partition)
    {
        partition = 0;
        if (!name.StartsWith('.') || !name.EndsWith(TempSuffix, StringComparison.Ordinal)) return false;
        if (!TryStripExtension(name.AsSpan(1, name.Length - 1 - TempSuffix.Length), out var stem) || stem.Length < OffsetPartLength) return false;
        return TryParseOffset(stem[^OffsetPartLength..], out _) && TryParsePartition(stem[..^OffsetPartLength], topic, out partition, out _);
    }

    private bool TryStripExtension(ReadOnlySpan<char> name, out ReadOnlySpan<char> stem)
    {
        foreach (var extension in extensions)
        {
            if (name.EndsWith(extension, StringComparison.Ordinal))
            {
                stem = name[..^extension.Length];
                return true;
            }
        }
        stem = default;
        return false;
    }

    // "-o" followed by exactly 20 digits.
    private static bool TryParseOffset(ReadOnlySpan<char> text, out long offset)
    {
        offset = 0;
        return text.Length == OffsetPartLength && text.StartsWith("-o", StringComparison.Ordinal)
            && IsDigits(text[2..]) && long.TryParse(text[2..], NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    // "<prefix><topic>-p" (or "<prefix><topic>-s<id>-p" where names carry schema ids) followed by the partition's digits.
    private bool TryParsePartition(ReadOnlySpan<char> text, string topic, out int partition, out int schemaId)
    {
        partition = schemaId = 0;
        if (!text.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        text = text[Prefix.Length..];
        if (!text.StartsWith(topic, StringComparison.Ordinal)) return false;
        var rest = text[topic.Length..];
        if (schemaIds && rest.StartsWith("-s", StringComparison.Ordinal))
        {
            var end = rest.IndexOf("-p", StringComparison.Ordinal);
            if (end < 3 || !IsDigits(rest[2..end]) || rest[2] == '0'
                || !int.TryParse(rest[2..end], NumberStyles.None, CultureInfo.InvariantCulture, out schemaId)) return false;
            rest = rest[end..];
        }
        return rest.StartsWith("-p", StringComparison.Ordinal) && rest.Length > 2 && IsDigits(rest[2..])
            && int.TryParse(rest[2..], NumberStyles.None, CultureInfo.InvariantCulture, out partition);
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');
}
