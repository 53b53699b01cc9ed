using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Catalog;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// The sink writers of the configured sinks: <paramref name="writersPerSink"/> slots per instance, each building
/// its own sink from the <see cref="SinkCatalog"/> with the node's pump options and the instance's topic filter.
/// </summary>
public sealed class SinkWriterCatalog(SinkCatalog sinks, PumpOptions pump, int writersPerSink) : ISinkCatalog
{
    public IReadOnlyList<string> EntityIds { get; } = sinks.Names
        .SelectMany(name => Enumerable.Range(0, writersPerSink).Select(slot => $"{name}/{slot}"))
        .ToList();

    public (ISink Sink, PumpOptions Options) Create(string sinkName) =>
        (sinks.Create(sinkName), pump with { TopicPattern = sinks.Section(sinkName).Topics });
}
