using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>Reads <c>nwdp.coverage</c> (every node's sketches, the last <see cref="CoverageOptions.Window"/>) into a <see cref="CoverageStore"/>.</summary>
public sealed class CoverageFeed(string bootstrapServers, CoverageStore store, CoverageOptions options, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly TopicWindowFeed _feed = new(TopicNames.Coverage, bootstrapServers, options.Window, value =>
    {
        var (node, published, sketch) = CoverageSketch.FromRecord(value, options);
        store.Add(node, published, sketch);
    }, warn);

    public void Start() => _feed.Start();

    public ValueTask DisposeAsync() => _feed.DisposeAsync();
}
