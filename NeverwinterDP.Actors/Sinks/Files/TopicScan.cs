namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// What one topic's directory tree says, read at the topic's first use: for each partition, the highest
/// offset in its published files of each hour, and the temporary files a dead process left. File names are
/// the whole truth (a rename publishes a file), so this is exact whatever step a previous process died at,
/// and it needs no state of its own that could be lost or disagree.
/// </summary>
internal sealed class TopicScan
{
    // Temporary files start with a dot, which .NET counts as hidden on Unix and skips by default.
    private static readonly EnumerationOptions Everything = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    private readonly Dictionary<int, Dictionary<long, long>> _published = [];
    private readonly Dictionary<int, List<string>> _leftovers = [];

    /// <summary>Reads <c>&lt;root&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/</c>; entries of another shape are not ours and are ignored.</summary>
    /// <exception cref="IOException">The tree could not be read.</exception>
    public static TopicScan Run(string root, string topic)
    {
        var scan = new TopicScan();
        var topicDirectory = Path.Combine(root, topic);
        if (!Directory.Exists(topicDirectory)) return scan;

        foreach (var year in Directory.EnumerateDirectories(topicDirectory, "*", Everything))
        foreach (var month in Directory.EnumerateDirectories(year, "*", Everything))
        foreach (var day in Directory.EnumerateDirectories(month, "*", Everything))
        foreach (var hourDirectory in Directory.EnumerateDirectories(day, "*", Everything))
        {
            if (!UtcHour.TryParse(Path.GetFileName(year), Path.GetFileName(month), Path.GetFileName(day), Path.GetFileName(hourDirectory), out var hour))
            {
                continue;
            }
            foreach (var path in Directory.EnumerateFiles(hourDirectory, "*", Everything))
            {
                var name = Path.GetFileName(path);
                if (FileNames.TryParseFinal(name, topic, out var partition, out _, out var last))
                {
                    var hours = Published(partition);
                    if (!hours.TryGetValue(hour.Index, out var highest) || last > highest) hours[hour.Index] = last;
                }
                else if (FileNames.TryParseTemp(name, topic, out partition))
                {
                    if (!scan._leftovers.TryGetValue(partition, out var list)) scan._leftovers[partition] = list = [];
                    list.Add(path);
                }
            }
        }
        return scan;

        Dictionary<long, long> Published(int partition)
        {
            if (!scan._published.TryGetValue(partition, out var hours)) scan._published[partition] = hours = [];
            return hours;
        }
    }

    /// <summary>Hands over one partition's published high-water marks (hour index → highest offset); empty the second time.</summary>
    public Dictionary<long, long> TakePublished(int partition) =>
        _published.Remove(partition, out var hours) ? hours : [];

    /// <summary>Hands over one partition's leftover temporary files; empty the second time.</summary>
    public IReadOnlyList<string> TakeLeftovers(int partition) =>
        _leftovers.Remove(partition, out var paths) ? paths : [];
}
