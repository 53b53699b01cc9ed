using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// When an hour of a topic is complete, from its markers: the rules one node's tracker applies to what it read and the
/// cluster-wide decision applies to what every pump node read (<see cref="MergedHour"/>).
/// </summary>
public static class HourRules
{
    /// <summary>
    /// The ingress nodes expected in the hour: those that marked it, those its events name (lineage), and those that
    /// wrote in the hour before (they mark this hour too, events or not) unless known to be gone.
    /// </summary>
    public static HashSet<string> Expected(IReadOnlyDictionary<(string Node, int Partition), long> markers, IEnumerable<string> eventNodes,
        IReadOnlyDictionary<(string Node, int Partition), long>? markersBefore, IEnumerable<string>? eventNodesBefore, IReadOnlyCollection<string> gone)
    {
        var expected = new HashSet<string>(markers.Keys.Select(k => k.Node), StringComparer.Ordinal);
        expected.UnionWith(eventNodes);
        if (markersBefore is not null)
        {
            foreach (var node in markersBefore.Where(m => m.Value > 0).Select(m => m.Key.Node).Concat(eventNodesBefore ?? []).Distinct(StringComparer.Ordinal))
                if (!gone.Contains(node)) expected.Add(node);
        }
        return expected;
    }

    /// <summary>The topic's partitions: from the metadata, or more when markers name a partition it does not know yet.</summary>
    public static int Partitions(IReadOnlyDictionary<(string Node, int Partition), long> markers, int known) =>
        Math.Max(known, markers.Keys.Select(k => k.Partition + 1).DefaultIfEmpty(0).Max());

    /// <summary>The (node, partition) pairs whose marker was not read.</summary>
    public static List<(string Node, int Partition)> Missing(IReadOnlyDictionary<(string Node, int Partition), long> markers, HashSet<string> expected, int partitions)
    {
        var missing = new List<(string, int)>();
        foreach (var node in expected.Order(StringComparer.Ordinal))
            for (var p = 0; p < partitions; p++)
                if (!markers.ContainsKey((node, p))) missing.Add((node, p));
        return missing;
    }

    /// <summary>Per partition (index), the events the markers announce, summed over the nodes.</summary>
    public static long[] Counts(IReadOnlyDictionary<(string Node, int Partition), long> markers, int partitions)
    {
        var counts = new long[partitions];
        foreach (var ((_, p), count) in markers) counts[p] += count;
        return counts;
    }

    public static string Reason(List<(string Node, int Partition)> missing, int partitions, TimeSpan grace)
    {
        if (partitions == 0) return "the topic's partitions are not known";
        var byNode = missing.GroupBy(m => m.Node, StringComparer.Ordinal)
            .Select(g => g.Count() == partitions ? $"{g.Key} (all {partitions} partitions)" : $"{g.Key} (partitions {string.Join(",", g.Select(m => m.Partition))})");
        return $"no hour marker after the {grace.TotalMinutes:0.#} min grace from {string.Join("; ", byNode)}";
    }

    /// <summary>
    /// The cluster-wide decision on hour <paramref name="hourMs"/> of <paramref name="topic"/> for <paramref name="sink"/>,
    /// from every pump node's observations: the completion to publish now (version <paramref name="last"/>'s + 1), or null.
    /// The first version once every partition has every expected node's marker, or closed incomplete after the grace;
    /// a later one when the markers' counts, the late events or the nodes grew since <paramref name="last"/>. A view that
    /// knows less than <paramref name="last"/> (this node has not read every observation yet) publishes nothing: versions
    /// only ever add to what the one before said.
    /// </summary>
    public static HourCompletion? Decide(string sink, string topic, long hourMs, MergedHour hour, MergedHour? before, IReadOnlyCollection<string> gone,
        int knownPartitions, long nowMs, TimeSpan grace, HourCompletion? last)
    {
        var end = hourMs + UtcHours.Ms;
        if (nowMs < end) return null;
        var expected = Expected(hour.Markers, hour.EventsByNode.Keys, before?.Markers, before?.EventsByNode.Keys, gone);
        if (last is not null)
        {
            // A node awaited only because it wrote the hour before, which the last version did not wait for, was known gone
            // to the node that decided it. A decider that does not know it yet (restarted, the gossip of the gone ids not
            // read yet) must not reopen the hour for it: a node alive again marks only hours it wrote in.
            expected.RemoveWhere(n => !last.Nodes.Contains(n) && !hour.EventsByNode.ContainsKey(n) && !hour.Markers.Keys.Any(k => k.Node == n));
        }
        var partitions = Partitions(hour.Markers, knownPartitions);
        var missing = Missing(hour.Markers, expected, partitions);
        var complete = missing.Count == 0 && partitions > 0;
        if (last is null && !complete && nowMs < end + (long)grace.TotalMilliseconds) return null;
        var counts = Counts(hour.Markers, partitions);
        var nodes = expected.Order(StringComparer.Ordinal).ToList();
        var state = complete ? HourCompletion.Complete : HourCompletion.IncompleteClosed;
        if (last is not null)
        {
            // Only what adds to the last version: more partitions or larger counts, more late events, more nodes.
            if (counts.Length < last.Counts.Count || counts.Where((c, p) => p < last.Counts.Count && c < last.Counts[p]).Any()) return null;
            if (hour.Late < last.LateEvents || !last.Nodes.All(expected.Contains)) return null;
            var nodesGrew = nodes.Count > last.Nodes.Count;
            if (last.IsComplete && !complete && !nodesGrew) return null;
            if (state == last.State && counts.SequenceEqual(last.Counts) && hour.Late == last.LateEvents && !nodesGrew) return null;
        }
        return new HourCompletion(sink, topic, hourMs, (last?.Version ?? 0) + 1, state, complete ? null : Reason(missing, partitions, grace), counts, nodes,
            hour.Delivered, hour.Late, nowMs);
    }
}
