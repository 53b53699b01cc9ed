using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// Reads <c>nwdp.stats</c> into a <see cref="StatsStore"/> (a <see cref="TopicWindowFeed"/> of the last
/// <see cref="StatsOptions.Window"/>), so every node holds every node's counts. Records that are not stats records are
/// skipped with a warning.
/// </summary>
public sealed class StatsFeed(KafkaClients clients, StatsStore store, StatsOptions options, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly TopicWindowFeed _feed = new(TopicNames.Stats, clients, options.Window, value => store.Add(StatsRecord.FromJson(value)), warn,
        caughtUp: store.CaughtUp);

    public void Start() => _feed.Start();

    public ValueTask DisposeAsync() => _feed.DisposeAsync();
}
