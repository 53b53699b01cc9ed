using NeverwinterDP.Protocol;
namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// The <c>nwdp.coverage</c> records of every node, newest per (node, type, hour), for
/// <see cref="CoverageOptions.Window"/>, so any node answers a report for the whole cluster by merging them. Fed by
/// <see cref="CoverageFeed"/>; thread-safe. Bounded by the window times the nodes' own bounds (types per hour, keys
/// per type, top values, HyperLogLog registers).
/// </summary>
public sealed class CoverageStore(CoverageOptions options, TimeProvider clock)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Node, string Type, long Hour), (long PublishedMs, CoverageSketch Sketch)> _sketches = new();
    private long _evictedMs = long.MinValue;

    /// <summary>Records taken since start.</summary>
    public long Received { get; private set; }

    public int Count
    {
        get { lock (_gate) return _sketches.Count; }
    }

    public void Add(string node, long publishedMs, CoverageSketch sketch)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var horizon = now - (long)options.Window.TotalMilliseconds;
        lock (_gate)
        {
            Received++;
            if (sketch.HourStartMs + UtcHours.Ms <= horizon) return;
            var key = (node, sketch.Type, sketch.HourStartMs);
            if (_sketches.TryGetValue(key, out var old) && old.PublishedMs > publishedMs) return;
            _sketches[key] = (publishedMs, sketch);
            // Hours leave the window at most once a minute: a scan per record would cost (nodes x types x hours).
            if (now - _evictedMs < 60_000) return;
            _evictedMs = now;
            List<(string, string, long)>? expired = null;
            foreach (var (k, _) in _sketches)
                if (k.Hour + UtcHours.Ms <= horizon) (expired ??= new()).Add(k);
            foreach (var k in expired ?? []) _sketches.Remove(k);
        }
    }

    /// <summary>
    /// Merges every node's sketch of <paramref name="type"/> for hours ending after <paramref name="sinceMs"/> into
    /// <paramref name="into"/>, except <paramref name="exceptNode"/>'s (the asking node adds its own live sketches).
    /// Returns the nodes merged and the sketches skipped because their HyperLogLog precision differs.
    /// </summary>
    public (IReadOnlyCollection<string> Nodes, int Skipped) MergeInto(CoverageSketch into, string type, long sinceMs, string? exceptNode = null)
    {
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var skipped = 0;
        lock (_gate)
        {
            foreach (var (key, (_, sketch)) in _sketches)
            {
                if (key.Type != type || key.Hour + UtcHours.Ms <= sinceMs || key.Node == exceptNode) continue;
                if (sketch.Hosts.Precision != into.Hosts.Precision)
                {
                    skipped++;
                    continue;
                }
                into.Merge(sketch);
                nodes.Add(key.Node);
            }
        }
        return (nodes, skipped);
    }

    /// <summary>The types any node published for hours ending after <paramref name="sinceMs"/>.</summary>
    public IReadOnlyCollection<string> Types(long sinceMs)
    {
        lock (_gate) return _sketches.Keys.Where(k => k.Hour + UtcHours.Ms > sinceMs).Select(k => k.Type).ToHashSet(StringComparer.Ordinal);
    }
}
