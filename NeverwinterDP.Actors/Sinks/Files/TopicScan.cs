namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// What one topic's directory tree says: for each partition, the highest offset in its published files of
/// each hour, and the temporary files a dead process left. File names are the whole truth (a rename
/// publishes a file), so this is exact whatever step a previous process died at, and it needs no state of
/// its own that could be lost or disagree. The files sink reads a local tree at the topic's first use
/// (<see cref="Run"/>); the HDFS sink adds the listing of each hour directory as it first needs it (<see cref="Add"/>).
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
                scan.Add(topic, hour, Path.GetFileName(path), path);
            }
        }
        return scan;
    }

    /// <summary>Takes in one entry of an hour directory of <paramref name="topic"/>; names of another shape are ignored.</summary>
    public void Add(string topic, UtcHour hour, string name, string path)
    {
        if (FileNames.TryParseFinal(name, topic, out var partition, out _, out var last))
        {
            var hours = Published(partition);
            if (!hours.TryGetValue(hour.Index, out var highest) || last > highest) hours[hour.Index] = last;
        }
        else if (FileNames.TryParseTemp(name, topic, out partition))
        {
            if (!_leftovers.TryGetValue(partition, out var list)) _leftovers[partition] = list = [];
            list.Add(path);
        }
    }

    /// <summary>
    /// One partition's published high-water marks (hour index → highest offset), the same dictionary every
    /// time, so what <see cref="Add"/> learns later shows in it.
    /// </summary>
    public Dictionary<long, long> Published(int partition)
    {
        if (!_published.TryGetValue(partition, out var hours)) _published[partition] = hours = [];
        return hours;
    }

    /// <summary>Hands over one partition's leftover temporary files; empty the second time.</summary>
    public IReadOnlyList<string> TakeLeftovers(int partition) =>
        _leftovers.Remove(partition, out var paths) ? paths : [];
}
