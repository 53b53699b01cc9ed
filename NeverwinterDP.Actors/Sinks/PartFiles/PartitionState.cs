namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// A part file sink's state for one (topic, partition): its slots (hour and bucket), created as records need
/// them. <paramref name="recovered"/> (slot → highest published offset) is read when a slot is created, so
/// marks added to it later (the HDFS sink lists an hour directory when it first needs it) count for later slots.
/// </summary>
internal sealed class PartitionState<TFile>(string topic, int partition, Dictionary<SlotKey, long> recovered)
    where TFile : class
{
    private readonly Dictionary<SlotKey, HourSlot<TFile>> _slots = [];
    private HourSlot<TFile>? _lastSlot;

    public string Topic { get; } = topic;

    public int Partition { get; } = partition;

    /// <summary>
    /// Every record at or below this offset is durable and published (raised by a successful flush). Within a
    /// partition offsets only grow, except when the pump goes back to its last commit, which is not below it.
    /// </summary>
    public long Floor { get; private set; } = -1;

    /// <summary>The highest offset handed to the sink since it started.</summary>
    public long HighestSeen { get; private set; } = -1;

    public void Saw(long offset)
    {
        if (offset > HighestSeen) HighestSeen = offset;
    }

    /// <summary>No slot has an open file or is broken: everything this writer took of the partition is published (or was never written).</summary>
    public bool IsIdle => _slots.Values.All(s => !s.IsBroken && s.File is null);

    /// <summary>The slot of <paramref name="key"/>, created from what recovery found on disk (slot → highest published offset).</summary>
    public HourSlot<TFile> SlotFor(SlotKey key)
    {
        var last = _lastSlot;
        if (last is not null && last.Key == key) return last;
        if (!_slots.TryGetValue(key, out var slot))
        {
            slot = new HourSlot<TFile>(this, key, recovered.GetValueOrDefault(key, -1));
            _slots.Add(key, slot);
        }
        return _lastSlot = slot;
    }

    /// <summary>
    /// After a successful flush: everything seen is durable, so it becomes the floor, and the slots and
    /// recovered marks it covers are dropped (records at or below the floor are replays whatever their hour).
    /// Left alone while a slot is broken: records it refused lie below <see cref="HighestSeen"/>.
    /// </summary>
    public void Settle()
    {
        foreach (var slot in _slots.Values)
        {
            if (slot.IsBroken || slot.File is not null) return;
        }
        Floor = Math.Max(Floor, HighestSeen);
        foreach (var (key, slot) in _slots)
        {
            if (slot.PublishedUpTo <= Floor) _slots.Remove(key);
        }
        foreach (var (key, highest) in recovered)
        {
            if (highest <= Floor) recovered.Remove(key);
        }
        _lastSlot = null;
    }

    public override string ToString() => $"{Topic}-{Partition}";
}
