namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>The files sink's state for one topic: the scan of its tree, made once, and its partitions as they are first seen.</summary>
internal sealed class TopicState(TopicScan scan)
{
    public TopicScan Scan { get; } = scan;

    public Dictionary<int, PartitionState<PartFile>> Partitions { get; } = [];
}
