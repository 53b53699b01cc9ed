using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// What a sink's pump read of one partition, in the order of the partition: a run of <paramref name="Events"/> events of one
/// hour from one ingress node, or (with <paramref name="Marker"/>) one hour marker. Reported once the sink flushed them.
/// </summary>
public readonly record struct WatermarkObservation(string Topic, int Partition, long HourMs, string Node, long Events, HourMarker? Marker = null);

/// <summary>
/// Decides, for one sink instance, when an hour of a topic is complete. Expected in hour H of topic T are the ingress nodes
/// that wrote markers of (T, H), the nodes its events name (lineage), and the live nodes whose markers of the hour before
/// announced events. H is complete once H is over and every partition of T has the marker of H of every expected node;
/// or, <see cref="WatermarkOptions.Grace"/> after H ended, it is closed incomplete with the missing markers as reason.
/// After an announcement, a marker with a new count or an event read after its node's marker (late) makes a new version.
/// </summary>
/// <remarks>Thread-safe; <see cref="Observe"/> is called by the pump's writers, <see cref="Check"/> by a timer.</remarks>
public sealed class WatermarkTracker
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, long Hour), HourState> _hours = new();
    private readonly WatermarkOptions _options;
    private readonly TimeProvider _clock;
    private readonly IPartitionCounts _partitions;
    private readonly Func<IReadOnlyCollection<string>?> _liveNodes;

    /// <param name="liveNodes">The ingress nodes alive now, or null when not known (then every node that wrote in the hour before is expected).</param>
    public WatermarkTracker(string sink, WatermarkOptions options, TimeProvider clock, IPartitionCounts partitions, Func<IReadOnlyCollection<string>?>? liveNodes = null)
    {
        Sink = sink;
        _options = options;
        _clock = clock;
        _partitions = partitions;
        _liveNodes = liveNodes ?? (() => null);
    }

    public string Sink { get; }

    private sealed class HourState
    {
        public readonly Dictionary<(string Node, int Partition), long> Markers = new();
        public readonly Dictionary<string, long> EventsByNode = new(StringComparer.Ordinal);
        public long Delivered;
        public long Late;
        public int Version;
        public bool Changed;
    }

    /// <summary>Takes what the sink flushed, in partition order.</summary>
    public void Observe(IEnumerable<WatermarkObservation> observations)
    {
        lock (_gate)
        {
            foreach (var o in observations)
            {
                var state = StateOf(o.Topic, o.HourMs);
                if (o.Marker is { } marker)
                {
                    var key = (marker.Node, o.Partition);
                    if (state.Markers.TryGetValue(key, out var was) && was == marker.Count) continue; // read again: nothing new
                    state.Markers[key] = marker.Count;
                    state.Changed = true;
                    continue;
                }
                state.Delivered += o.Events;
                if (o.Node.Length == 0) continue; // no lineage: nobody to wait for
                state.EventsByNode[o.Node] = state.EventsByNode.GetValueOrDefault(o.Node) + o.Events;
                if (state.Markers.ContainsKey((o.Node, o.Partition)))
                {
                    // After its node's marker in its partition: late. Written all the same; the hour gets a new version.
                    state.Late += o.Events;
                    state.Changed = true;
                }
            }
        }
    }

    private HourState StateOf(string topic, long hour)
    {
        if (!_hours.TryGetValue((topic, hour), out var state)) _hours[(topic, hour)] = state = new HourState();
        return state;
    }

    /// <summary>The completions (and new versions) due now; forgets hours older than <see cref="WatermarkOptions.Keep"/>.</summary>
    public IReadOnlyList<HourCompletion> Check()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var live = _liveNodes();
        var due = new List<HourCompletion>();
        lock (_gate)
        {
            foreach (var ((topic, hour), state) in _hours.OrderBy(h => h.Key.Hour).ThenBy(h => h.Key.Topic, StringComparer.Ordinal))
            {
                var end = hour + UtcHours.Ms;
                if (now < end) continue;
                if (state.Version > 0 && !state.Changed) continue;
                var expected = Expected(topic, hour, state, live);
                var partitions = Math.Max(_partitions.Of(topic), state.Markers.Keys.Select(k => k.Partition + 1).DefaultIfEmpty(0).Max());
                var missing = Missing(state, expected, partitions);
                var complete = missing.Count == 0 && partitions > 0;
                if (state.Version == 0 && !complete && now < end + (long)_options.Grace.TotalMilliseconds) continue;
                state.Version++;
                state.Changed = false;
                var counts = new long[partitions];
                foreach (var ((_, p), count) in state.Markers) counts[p] += count;
                due.Add(new HourCompletion(Sink, topic, hour, state.Version, complete ? HourCompletion.Complete : HourCompletion.IncompleteClosed,
                    complete ? null : Reason(missing, partitions), counts, expected.Order(StringComparer.Ordinal).ToList(), state.Delivered, state.Late, now));
            }
            var before = UtcHours.Of(now - (long)_options.Keep.TotalMilliseconds);
            foreach (var key in _hours.Keys.Where(k => k.Hour < before).ToList()) _hours.Remove(key);
        }
        return due;
    }

    private HashSet<string> Expected(string topic, long hour, HourState state, IReadOnlyCollection<string>? live)
    {
        var expected = new HashSet<string>(state.Markers.Keys.Select(k => k.Node), StringComparer.Ordinal);
        expected.UnionWith(state.EventsByNode.Keys);
        if (_hours.TryGetValue((topic, hour - UtcHours.Ms), out var before))
        {
            // A node that wrote in the hour before marks this hour too, events or not; unless it is known to be gone.
            foreach (var node in before.Markers.Where(m => m.Value > 0).Select(m => m.Key.Node).Concat(before.EventsByNode.Keys).Distinct(StringComparer.Ordinal))
                if (live is null || live.Contains(node)) expected.Add(node);
        }
        return expected;
    }

    private static List<(string Node, int Partition)> Missing(HourState state, HashSet<string> expected, int partitions)
    {
        var missing = new List<(string, int)>();
        foreach (var node in expected.Order(StringComparer.Ordinal))
            for (var p = 0; p < partitions; p++)
                if (!state.Markers.ContainsKey((node, p))) missing.Add((node, p));
        return missing;
    }

    private string Reason(List<(string Node, int Partition)> missing, int partitions)
    {
        if (partitions == 0) return "the topic's partitions are not known";
        var byNode = missing.GroupBy(m => m.Node, StringComparer.Ordinal)
            .Select(g => g.Count() == partitions ? $"{g.Key} (all {partitions} partitions)" : $"{g.Key} (partitions {string.Join(",", g.Select(m => m.Partition))})");
        return $"no hour marker after the {_options.Grace.TotalMinutes:0.#} min grace from {string.Join("; ", byNode)}";
    }
}
