using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// One node's view of what every pump node read of every hour (<see cref="ObservedHour"/>, from
/// <see cref="TopicNames.WatermarkObservations"/>) and of the completions announced (<see cref="TopicNames.Watermarks"/>).
/// Completions are taken in the order of their topic: of two nodes racing to announce the same version of an hour, the
/// first record on the topic is that version everywhere and the other is ignored (its node announces the next version
/// if it knows more). Hours before the horizon (<see cref="Prune"/>) are forgotten, so the view is bounded by
/// sinks x topics x kept hours x pump nodes.
/// </summary>
/// <remarks>Thread-safe: fed by the exchange's reader, read by the hub's checks and the pump's writers.</remarks>
public sealed class SharedHours(Func<string> self, int maxArrived = 10_000)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Sink, string Topic, long Hour), Dictionary<string, ObservedHour>> _observed = new();
    private readonly Dictionary<(string Sink, string Topic, long Hour), HourCompletion> _last = new();
    private readonly HashSet<string> _ownWritten = new(StringComparer.Ordinal);
    private readonly List<HourCompletion> _arrived = new();
    private long _horizon = long.MinValue;

    /// <summary>A record of the observations topic (<paramref name="value"/> null: a tombstone, the hour forgotten by its node).</summary>
    /// <exception cref="MalformedRecordException">Not an observation record.</exception>
    public void ApplyObservation(string key, byte[]? value)
    {
        var observed = value is null ? null : ObservedHour.FromJson(value);
        var (sink, topic, hour, observer) = observed is null ? ParseKey(key) : (observed.Sink, observed.Topic, observed.HourMs, observed.Observer);
        lock (_gate)
        {
            // This node's own records: what it wrote through (below) is newer than what it reads back.
            if (observer == self() && _ownWritten.Contains(key)) return;
            Set(sink, topic, hour, observer, observed);
        }
    }

    /// <summary>This node's own observation, in the view before it is read back (null: forgotten).</summary>
    public void ApplyOwn(string key, ObservedHour? observed)
    {
        var (sink, topic, hour, observer) = observed is null ? ParseKey(key) : (observed.Sink, observed.Topic, observed.HourMs, observed.Observer);
        lock (_gate)
        {
            _ownWritten.Add(key);
            Set(sink, topic, hour, observer, observed);
        }
    }

    private void Set(string sink, string topic, long hour, string observer, ObservedHour? observed)
    {
        if (hour < _horizon) return;
        if (observed is null)
        {
            if (_observed.TryGetValue((sink, topic, hour), out var gone) && gone.Remove(observer) && gone.Count == 0) _observed.Remove((sink, topic, hour));
            return;
        }
        if (!_observed.TryGetValue((sink, topic, hour), out var byObserver))
            _observed[(sink, topic, hour)] = byObserver = new Dictionary<string, ObservedHour>(StringComparer.Ordinal);
        byObserver[observer] = observed;
    }

    private static (string Sink, string Topic, long Hour, string Observer) ParseKey(string key)
    {
        // sink|topic|hour_ms|observer; topics and node ids hold no '|', sink names (HOCON keys) neither.
        var parts = key.Split('|');
        if (parts.Length != 4 || !long.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var hour))
            throw new MalformedRecordException($"not a watermark observation key: {key}");
        return (parts[0], parts[1], hour, parts[3]);
    }

    /// <summary>A completion read off the topic: the first record of each version counts, a repeated or older one is ignored.</summary>
    /// <returns>Whether it is the hour's new version.</returns>
    public bool ApplyCompletion(HourCompletion completion)
    {
        lock (_gate)
        {
            var key = (completion.Sink, completion.Topic, completion.HourMs);
            if (completion.HourMs < _horizon || (_last.TryGetValue(key, out var last) && last.Version >= completion.Version)) return false;
            _last[key] = completion;
            _arrived.Add(completion);
            if (_arrived.Count > maxArrived) _arrived.RemoveAt(0); // nobody took them (no check runs): the oldest go
            return true;
        }
    }

    /// <summary>The hours any node observed for <paramref name="sink"/>.</summary>
    public IReadOnlyList<(string Topic, long Hour)> Hours(string sink)
    {
        lock (_gate) return _observed.Keys.Where(k => k.Sink == sink).Select(k => (k.Topic, k.Hour)).ToList();
    }

    /// <summary>Every node's observations of the hour merged; null when none.</summary>
    public MergedHour? Merged(string sink, string topic, long hour)
    {
        lock (_gate) return _observed.TryGetValue((sink, topic, hour), out var byObserver) ? MergedHour.Of(byObserver.Values) : null;
    }

    /// <summary>The pump nodes whose observations of the hour are in the view.</summary>
    public IReadOnlyList<string> Observers(string sink, string topic, long hour)
    {
        lock (_gate) return _observed.TryGetValue((sink, topic, hour), out var byObserver) ? byObserver.Keys.Order(StringComparer.Ordinal).ToList() : [];
    }

    /// <summary>Whether any node read the marker of <paramref name="node"/> in <paramref name="partition"/> of the hour.</summary>
    public bool Marked(string sink, string topic, long hour, string node, int partition)
    {
        lock (_gate)
        {
            if (!_observed.TryGetValue((sink, topic, hour), out var byObserver)) return false;
            foreach (var o in byObserver.Values)
                if (o.HasMarker(node, partition)) return true;
            return false;
        }
    }

    /// <summary>The hour's last completion read off the topic.</summary>
    public HourCompletion? Last(string sink, string topic, long hour)
    {
        lock (_gate) return _last.GetValueOrDefault((sink, topic, hour));
    }

    /// <summary>Each hour's last completion of <paramref name="sink"/>.</summary>
    public IReadOnlyList<HourCompletion> Latest(string sink)
    {
        lock (_gate) return _last.Where(l => l.Key.Sink == sink).Select(l => l.Value).ToList();
    }

    /// <summary>The new versions read since the last call, in the topic's order.</summary>
    public IReadOnlyList<HourCompletion> TakeArrived()
    {
        lock (_gate)
        {
            var arrived = _arrived.ToList();
            _arrived.Clear();
            return arrived;
        }
    }

    /// <summary>Forgets the hours before <paramref name="beforeHourMs"/> (and ignores records of them read later).</summary>
    public void Prune(long beforeHourMs)
    {
        lock (_gate)
        {
            _horizon = Math.Max(_horizon, beforeHourMs);
            foreach (var key in _observed.Keys.Where(k => k.Hour < beforeHourMs).ToList()) _observed.Remove(key);
            foreach (var key in _last.Keys.Where(k => k.Hour < beforeHourMs).ToList()) _last.Remove(key);
            _ownWritten.RemoveWhere(k => ParseKey(k).Hour < beforeHourMs);
            _arrived.RemoveAll(c => c.HourMs < beforeHourMs);
        }
    }
}
