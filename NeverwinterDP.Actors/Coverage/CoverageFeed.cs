using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>Reads <c>nwdp.coverage</c> (every node's sketches, the last <see cref="CoverageOptions.Window"/>) into a <see cref="CoverageStore"/>.</summary>
public sealed class CoverageFeed(KafkaClients clients, CoverageStore store, CoverageOptions options, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly TopicWindowFeed _feed = new(TopicNames.Coverage, clients, options.Window, value =>
    {
        var (node, published, sketch) = CoverageSketch.FromRecord(value, options);
        store.Add(node, published, sketch);
    }, warn);

    public void Start() => _feed.Start();

    public ValueTask DisposeAsync() => _feed.DisposeAsync();
}
