using System.Text.Json;
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
/// that wrote markers of (T, H), the nodes its events name (lineage), and the nodes whose markers of the hour before
/// announced events, unless they are known to have left the cluster. H is complete once H is over and every partition of T has the marker of H of every expected node;
/// or, <see cref="WatermarkOptions.Grace"/> after H ended, it is closed incomplete with the missing markers as reason.
/// After an announcement, a marker with a new count or an event read after its node's marker (late) makes a new version.
/// </summary>
/// <para>
/// What it knows survives a restart when it has a state file: the pump reads a marker once (its offset is committed
/// before the tracker is told), so a tracker that forgot the markers of the hour would never complete it. Markers,
/// new nodes and late events are saved when observed; counts with the next save; an announcement only once the sink
/// acted on it (<see cref="Save"/>, called by the hub), so a crash between the hour's files and its <c>_SUCCESS</c>
/// announces the same version again after the restart.
/// </para>
/// </summary>
/// <remarks>Thread-safe; <see cref="Observe"/> is called by the pump's writers, <see cref="Check"/> by a timer.</remarks>
public sealed class WatermarkTracker
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, long Hour), HourState> _hours = new();
    private readonly WatermarkOptions _options;
    private readonly TimeProvider _clock;
    private readonly IPartitionCounts _partitions;
    private readonly Func<IReadOnlyCollection<string>> _goneNodes;

    private readonly string? _statePath;
    private bool _dirty;

    /// <param name="goneNodes">The ingress nodes known to have left the cluster (not waited for unless they wrote in the
    /// hour); a node not known to be gone is presumed alive, so an hour never completes early for want of knowledge.</param>
    /// <param name="statePath">The file its state is kept in across restarts (read here when it exists); null: memory only.</param>
    public WatermarkTracker(string sink, WatermarkOptions options, TimeProvider clock, IPartitionCounts partitions, Func<IReadOnlyCollection<string>>? goneNodes = null,
        string? statePath = null)
    {
        Sink = sink;
        _options = options;
        _clock = clock;
        _partitions = partitions;
        _goneNodes = goneNodes ?? (() => []);
        _statePath = statePath;
        if (statePath is not null && File.Exists(statePath)) Load(statePath);
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
        public bool Unshared = true; // cluster-wide: changed since this node last shared the hour (and at start)
    }

    /// <summary>
    /// Cluster-wide (<see cref="WatermarkOptions.Share"/>): whether another pump node read the marker of (topic, hour, node,
    /// partition), so an event this node reads after a partition moved here is late all the same.
    /// </summary>
    public Func<string, long, string, int, bool>? MarkedElsewhere { get; set; }

    /// <summary>Takes what the sink flushed, in partition order.</summary>
    public void Observe(IEnumerable<WatermarkObservation> observations)
    {
        lock (_gate)
        {
            var save = false; // something a restart must not forget: a new hour, a marker, a node, late events
            foreach (var o in observations)
            {
                var state = StateOf(o.Topic, o.HourMs, ref save);
                _dirty = true;
                state.Unshared = true;
                if (o.Marker is { } marker)
                {
                    var key = (marker.Node, o.Partition);
                    if (state.Markers.TryGetValue(key, out var was) && was == marker.Count) continue; // read again: nothing new
                    state.Markers[key] = marker.Count;
                    state.Changed = true;
                    save = true;
                    continue;
                }
                state.Delivered += o.Events;
                if (o.Node.Length == 0) continue; // no lineage: nobody to wait for
                save |= !state.EventsByNode.ContainsKey(o.Node);
                state.EventsByNode[o.Node] = state.EventsByNode.GetValueOrDefault(o.Node) + o.Events;
                if (state.Markers.ContainsKey((o.Node, o.Partition)) || MarkedElsewhere?.Invoke(o.Topic, o.HourMs, o.Node, o.Partition) == true)
                {
                    // After its node's marker in its partition: late. Written all the same; the hour gets a new version.
                    state.Late += o.Events;
                    state.Changed = true;
                    save = true;
                }
            }
            if (save) SaveLocked();
        }
    }

    private HourState StateOf(string topic, long hour, ref bool created)
    {
        if (_hours.TryGetValue((topic, hour), out var state)) return state;
        _hours[(topic, hour)] = state = new HourState();
        created = true;
        return state;
    }

    /// <summary>Cluster-wide: the hours changed since they were last shared, as this node's observations (and marks them shared).</summary>
    public IReadOnlyList<ObservedHour> TakeUnshared(string observer)
    {
        lock (_gate)
        {
            var changed = new List<ObservedHour>();
            foreach (var ((topic, hour), state) in _hours)
            {
                if (!state.Unshared) continue;
                state.Unshared = false;
                changed.Add(new ObservedHour(Sink, topic, hour, observer,
                    state.Markers.Select(m => new MarkerSeen(m.Key.Node, m.Key.Partition, m.Value)).ToList(),
                    new Dictionary<string, long>(state.EventsByNode, StringComparer.Ordinal), state.Delivered, state.Late));
            }
            return changed;
        }
    }

    /// <summary>Cluster-wide: sharing <paramref name="hours"/> failed; they are shared again at the next check.</summary>
    public void ShareFailed(IEnumerable<ObservedHour> hours)
    {
        lock (_gate)
        {
            foreach (var h in hours)
                if (_hours.TryGetValue((h.Topic, h.HourMs), out var state)) state.Unshared = true;
        }
    }

    /// <summary>
    /// Cluster-wide: the completion version this node's sink last acted on for the hour (0: none yet); false when this
    /// node read nothing of the hour (its sink has no files of it to mark).
    /// </summary>
    public bool TryGetActed(string topic, long hour, out int version)
    {
        lock (_gate)
        {
            version = _hours.TryGetValue((topic, hour), out var state) ? state.Version : 0;
            return state is not null;
        }
    }

    /// <summary>Cluster-wide: this node's sink acted on <paramref name="version"/> of the hour (saved with the next <see cref="Save"/>).</summary>
    public void Acted(string topic, long hour, int version)
    {
        lock (_gate)
        {
            if (!_hours.TryGetValue((topic, hour), out var state) || state.Version >= version) return;
            state.Version = version;
            _dirty = true;
        }
    }

    /// <summary>Forgets the hours before <paramref name="beforeHourMs"/>; answers those forgotten.</summary>
    public IReadOnlyList<(string Topic, long Hour)> Prune(long beforeHourMs)
    {
        lock (_gate)
        {
            var old = _hours.Keys.Where(k => k.Hour < beforeHourMs).ToList();
            foreach (var key in old) _hours.Remove(key);
            _dirty |= old.Count > 0;
            return old;
        }
    }

    /// <summary>
    /// <paramref name="completion"/> was not acted on (the sink failed): the next check computes that version again,
    /// from what is known by then.
    /// </summary>
    public void Retry(HourCompletion completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        lock (_gate)
        {
            if (!_hours.TryGetValue((completion.Topic, completion.HourMs), out var state) || state.Version != completion.Version) return;
            state.Version--;
            state.Changed = true;
        }
    }

    /// <summary>
    /// Writes the state file when anything changed since the last write: the hub calls it after the sink acted on this
    /// check's completions. A failure is retried at the next call.
    /// </summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    public void Save()
    {
        lock (_gate)
        {
            if (_dirty) SaveLocked();
        }
    }

    private void SaveLocked()
    {
        if (_statePath is null) return;
        var temp = _statePath + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var w = new Utf8JsonWriter(file))
            {
                w.WriteStartObject();
                w.WriteString("sink", Sink);
                w.WriteStartArray("hours");
                foreach (var ((topic, hour), state) in _hours)
                {
                    w.WriteStartObject();
                    w.WriteString("topic", topic);
                    w.WriteNumber("hour_ms", hour);
                    w.WriteNumber("version", state.Version);
                    w.WriteBoolean("changed", state.Changed);
                    w.WriteNumber("delivered", state.Delivered);
                    w.WriteNumber("late", state.Late);
                    w.WriteStartArray("markers");
                    foreach (var ((node, partition), count) in state.Markers)
                    {
                        w.WriteStartObject();
                        w.WriteString("node", node);
                        w.WriteNumber("partition", partition);
                        w.WriteNumber("count", count);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartObject("events_by_node");
                    foreach (var (node, events) in state.EventsByNode) w.WriteNumber(node, events);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _statePath, overwrite: true);
        _dirty = false;
    }

    // A file that cannot be read is an error: starting empty would silently give up the hours it holds.
    private void Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var h in doc.RootElement.GetProperty("hours").EnumerateArray())
            {
                var state = new HourState
                {
                    Version = h.GetProperty("version").GetInt32(),
                    Changed = h.GetProperty("changed").GetBoolean(),
                    Delivered = h.GetProperty("delivered").GetInt64(),
                    Late = h.GetProperty("late").GetInt64(),
                };
                foreach (var m in h.GetProperty("markers").EnumerateArray())
                    state.Markers[(m.GetProperty("node").GetString()!, m.GetProperty("partition").GetInt32())] = m.GetProperty("count").GetInt64();
                foreach (var n in h.GetProperty("events_by_node").EnumerateObject()) state.EventsByNode[n.Name] = n.Value.GetInt64();
                _hours[(h.GetProperty("topic").GetString()!, h.GetProperty("hour_ms").GetInt64())] = state;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"watermark state {path} cannot be read ({e.Message}); move it away to start this sink's watermarks afresh", e);
        }
    }

    /// <summary>The completions (and new versions) due now; forgets hours older than <see cref="WatermarkOptions.Keep"/>.</summary>
    public IReadOnlyList<HourCompletion> Check()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var gone = _goneNodes();
        var due = new List<HourCompletion>();
        lock (_gate)
        {
            foreach (var ((topic, hour), state) in _hours.OrderBy(h => h.Key.Hour).ThenBy(h => h.Key.Topic, StringComparer.Ordinal))
            {
                var end = hour + UtcHours.Ms;
                if (now < end) continue;
                if (state.Version > 0 && !state.Changed) continue;
                var expected = Expected(topic, hour, state, gone);
                var partitions = HourRules.Partitions(state.Markers, _partitions.Of(topic));
                var missing = HourRules.Missing(state.Markers, expected, partitions);
                var complete = missing.Count == 0 && partitions > 0;
                if (state.Version == 0 && !complete && now < end + (long)_options.Grace.TotalMilliseconds) continue;
                state.Version++;
                state.Changed = false;
                var counts = HourRules.Counts(state.Markers, partitions);
                due.Add(new HourCompletion(Sink, topic, hour, state.Version, complete ? HourCompletion.Complete : HourCompletion.IncompleteClosed,
                    complete ? null : HourRules.Reason(missing, partitions, _options.Grace), counts, expected.Order(StringComparer.Ordinal).ToList(), state.Delivered, state.Late, now));
            }
            var before = UtcHours.Of(now - (long)_options.Keep.TotalMilliseconds);
            foreach (var key in _hours.Keys.Where(k => k.Hour < before).ToList()) _dirty |= _hours.Remove(key);
            _dirty |= due.Count > 0;
        }
        return due;
    }

    private HashSet<string> Expected(string topic, long hour, HourState state, IReadOnlyCollection<string> gone)
    {
        _hours.TryGetValue((topic, hour - UtcHours.Ms), out var before);
        return HourRules.Expected(state.Markers, state.EventsByNode.Keys, before?.Markers, before?.EventsByNode.Keys, gone);
    }
}
