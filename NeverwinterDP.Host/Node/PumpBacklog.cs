using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Catalog;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The backlog guard's measure: per partition, how far the slowest local pump of a sink is behind what ingress got
/// acknowledged (what is taken is safe from the broker's retention). Per partition, because a partition is what
/// the embedded broker bounds (~5 MB), and one sender's key puts all its events on one. Pumps of one sink share
/// its partitions: a partition counts against the sink that reads it furthest. <see cref="Undelivered"/> measures
/// the same against what the sinks stored and committed (the embedded broker's shutdown waits on that).
/// </summary>
public sealed class PumpBacklog(LocalPumps pumps, SinkCatalog sinks) : IBusBacklog
{
    private readonly ConcurrentDictionary<string, Regex> _topicFilters = new();

    public long Worst(IReadOnlyDictionary<TopicPartition, long> acknowledgedNext) => Behind(acknowledgedNext, static p => p.Positions);

    public long Undelivered(IReadOnlyDictionary<TopicPartition, long> acknowledgedNext) => Behind(acknowledgedNext, static p => p.CommittedPositions);

    private long Behind(IReadOnlyDictionary<TopicPartition, long> acknowledgedNext, Func<DataPump, IReadOnlyDictionary<TopicPartition, long>> taken)
    {
        var running = pumps.All;
        long worst = 0;
        foreach (var sink in sinks.Sections)
        {
            // A sink whose writers are not running (yet) has taken nothing: all it must read counts.
            var positions = new Dictionary<TopicPartition, long>();
            foreach (var pump in running.Where(p => p.Sink.Name == sink.Name))
                foreach (var (tp, next) in taken(pump))
                    positions[tp] = Math.Max(positions.GetValueOrDefault(tp), next);
            var topics = _topicFilters.GetOrAdd(sink.Topics, t => new Regex(t, RegexOptions.Compiled));
            foreach (var (tp, acked) in acknowledgedNext)
                if (topics.IsMatch(tp.Topic)) worst = Math.Max(worst, acked - positions.GetValueOrDefault(tp));
        }
        return worst;
    }
}
