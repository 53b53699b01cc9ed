namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// The state of the files and HDFS sinks for one (topic, partition): its hour slots, created as records need
/// them. <paramref name="recovered"/> (hour index → highest published offset) is read when a slot is created,
/// so marks added to it later (the HDFS sink lists an hour when it is first needed) count for later slots.
/// </summary>
internal sealed class PartitionState<TFile>(string topic, int partition, Dictionary<long, long> recovered)
    where TFile : class
{
    private readonly Dictionary<long, HourSlot<TFile>> _slots = [];
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

    /// <summary>The slot of <paramref name="hour"/>, created from what recovery found on disk (hour index → highest published offset).</summary>
    public HourSlot<TFile> SlotFor(UtcHour hour)
    {
        var last = _lastSlot;
        if (last is not null && last.Hour == hour) return last;
        if (!_slots.TryGetValue(hour.Index, out var slot))
        {
            slot = new HourSlot<TFile>(this, hour, recovered.GetValueOrDefault(hour.Index, -1));
            _slots.Add(hour.Index, slot);
        }
        return _lastSlot = slot;
    }

    public bool TryGetSlot(UtcHour hour, out HourSlot<TFile>? slot) => _slots.TryGetValue(hour.Index, out slot);

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
        foreach (var (hour, slot) in _slots)
        {
            if (slot.PublishedUpTo <= Floor) _slots.Remove(hour);
        }
        foreach (var (hour, highest) in recovered)
        {
            if (highest <= Floor) recovered.Remove(hour);
        }
        _lastSlot = null;
    }

    public override string ToString() => $"{Topic}-{Partition}";
}
