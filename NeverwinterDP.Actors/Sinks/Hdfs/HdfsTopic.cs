using NeverwinterDP.Actors.Sinks.PartFiles;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// The HDFS sink's state for one topic: what the listings of its hour directories said (listed once, when an
/// hour is first needed), its partitions, the latest hour each partition has reached, and the hours it
/// published files in that have no <c>_SUCCESS</c> marker yet.
/// </summary>
internal sealed class HdfsTopic(string name, string directory)
{
    private readonly HashSet<long> _listed = [];
    private readonly Dictionary<int, long> _latestHour = [];
    private readonly HashSet<long> _unmarked = [];

    public string Name { get; } = name;

    /// <summary><c>&lt;root&gt;/&lt;topic&gt;</c>.</summary>
    public string Directory { get; } = directory;

    public TopicScan Scan { get; } = new();

    public Dictionary<int, PartitionState<HdfsPartFile>> Partitions { get; } = [];

    public string HourDirectory(UtcHour hour) => Directory + "/" + hour.SlashPath;

    public bool IsListed(UtcHour hour) => _listed.Contains(hour.Index);

    public void Listed(UtcHour hour) => _listed.Add(hour.Index);

    /// <summary>A record of <paramref name="partition"/> in <paramref name="hour"/> was delivered.</summary>
    public void Reached(int partition, UtcHour hour)
    {
        if (!_latestHour.TryGetValue(partition, out var latest) || hour.Index > latest) _latestHour[partition] = hour.Index;
    }

    public void PublishedIn(UtcHour hour) => _unmarked.Add(hour.Index);

    /// <summary>
    /// Hours with a file published since their marker (if any) whose end lies <paramref name="closeAfter"/> or more
    /// before <paramref name="now"/>, or that every partition of this topic held here has left behind.
    /// </summary>
    public IEnumerable<UtcHour> ClosedHours(DateTime now, TimeSpan closeAfter)
    {
        foreach (var index in _unmarked.Order())
        {
            var hour = new UtcHour(index);
            var overdue = now >= hour.Start + TimeSpan.FromHours(1) + closeAfter;
            var leftBehind = _latestHour.Count > 0 && _latestHour.Values.All(latest => latest > index);
            if (overdue || leftBehind) yield return hour;
        }
    }

    public void Marked(UtcHour hour) => _unmarked.Remove(hour.Index);
}
