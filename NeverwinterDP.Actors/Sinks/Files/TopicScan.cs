namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// What one topic's files say, read at the topic's first use: for each partition, the highest offset in its
/// published files of each slot (hour, bucket), and the temporary files a dead process left. File names are
/// the whole truth (a rename publishes a file), so this is exact whatever step a previous process died at,
/// and it needs no state of its own that could be lost or disagree.
/// </summary>
internal sealed class TopicScan
{
    private readonly Dictionary<int, Dictionary<SlotKey, long>> _published = [];
    private readonly Dictionary<int, List<string>> _leftovers = [];

    /// <summary>Reads the layout's directories of <paramref name="topic"/>; entries of another shape are not ours and are ignored.</summary>
    /// <exception cref="IOException">The tree could not be read.</exception>
    public static TopicScan Run(PartLayout layout, string topic)
    {
        var scan = new TopicScan();
        foreach (var (directory, key) in layout.ExistingDirectories(topic))
        {
            foreach (var path in Directory.EnumerateFiles(directory, "*", PartLayout.Everything))
            {
                var name = Path.GetFileName(path);
                if (layout.Names.TryParseFinal(name, topic, out var partition, out _, out var last))
                {
                    var slots = Published(partition);
                    if (!slots.TryGetValue(key, out var highest) || last > highest) slots[key] = last;
                }
                else if (layout.Names.TryParseTemp(name, topic, out partition))
                {
                    if (!scan._leftovers.TryGetValue(partition, out var list)) scan._leftovers[partition] = list = [];
                    list.Add(path);
                }
            }
        }
        return scan;

        Dictionary<SlotKey, long> Published(int partition)
        {
            if (!scan._published.TryGetValue(partition, out var slots)) scan._published[partition] = slots = [];
            return slots;
        }
    }

    /// <summary>Hands over one partition's published high-water marks (slot → highest offset); empty the second time.</summary>
    public Dictionary<SlotKey, long> TakePublished(int partition) =>
        _published.Remove(partition, out var slots) ? slots : [];

    /// <summary>Hands over one partition's leftover temporary files; empty the second time.</summary>
    public IReadOnlyList<string> TakeLeftovers(int partition) =>
        _leftovers.Remove(partition, out var paths) ? paths : [];
}
