namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// The files sink's state for one topic: the scan of its tree, and its partitions as they are first seen. The scan
/// is made at the topic's first use and again (<see cref="Stale"/>) for a partition first seen after a partition
/// of the topic was assigned to this writer, since another writer may have published files since.
/// </summary>
internal sealed class TopicState(TopicScan scan)
{
    public TopicScan Scan { get; set; } = scan;

    /// <summary>Files may have been published since <see cref="Scan"/> was made: scan again before a partition's state is built.</summary>
    public bool Stale { get; set; }

    public Dictionary<int, PartitionState<PartFile>> Partitions { get; } = [];
}
