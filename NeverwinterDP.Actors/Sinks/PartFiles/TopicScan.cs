namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// What one topic's files say: for each partition, the highest offset in its published files of each slot
/// (hour, bucket), and the temporary files a dead process left. File names are the whole truth (a rename
/// publishes a file), so this is exact whatever step a previous process died at, and it needs no state of its
/// own that could be lost or disagree. A local tree is read whole at the topic's first use (<see cref="Run"/>);
/// the HDFS sink adds the listing of each hour directory when it first needs it (<see cref="Add"/>).
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
                scan.Add(layout.Names, topic, key, Path.GetFileName(path), path);
            }
        }
        return scan;
    }

    /// <summary>Takes in one entry, named <paramref name="name"/>, of a directory of <paramref name="topic"/>'s slot <paramref name="key"/>; names of another shape are ignored.</summary>
    public void Add(FileNames names, string topic, SlotKey key, string name, string path)
    {
        if (names.TryParseFinal(name, topic, out var partition, out _, out var last, out var schemaId))
        {
            if (schemaId != 0) key = key with { Bucket = FileNames.SchemaBucket(schemaId) }; // a typed schema's files are a slot of their own
            var slots = Published(partition);
            if (!slots.TryGetValue(key, out var highest) || last > highest) slots[key] = last;
        }
        else if (names.TryParseTemp(name, topic, out partition))
        {
            if (!_leftovers.TryGetValue(partition, out var list)) _leftovers[partition] = list = [];
            list.Add(path);
        }
    }

    /// <summary>
    /// One partition's published high-water marks (slot → highest offset): the same dictionary every time, so
    /// what <see cref="Add"/> learns later shows in the <see cref="PartitionState{TFile}"/> built on it.
    /// </summary>
    public Dictionary<SlotKey, long> Published(int partition)
    {
        if (!_published.TryGetValue(partition, out var slots)) _published[partition] = slots = [];
        return slots;
    }

    /// <summary>Hands over one partition's leftover temporary files; empty the second time.</summary>
    public IReadOnlyList<string> TakeLeftovers(int partition) =>
        _leftovers.Remove(partition, out var paths) ? paths : [];
}
