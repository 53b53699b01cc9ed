using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// The per-minute monitoring and loss audit settings (<c>nwdp.stats</c>). A node reads every value from the
/// configuration (<see cref="FromConfig"/>; defaults in Stats/reference.conf); the property defaults are for
/// tests that build the record directly, and a test checks that they equal reference.conf's.
/// </summary>
public sealed record StatsOptions
{
    /// <summary><c>nwdp.stats.max-series-per-minute</c>: (type, process, host) series one node keeps per minute; more go to <c>_other</c>.</summary>
    public int MaxSeriesPerMinute { get; init; } = 5_000;

    /// <summary><c>nwdp.stats.max-metric-series</c>: (type, process, host) series of the cumulative Prometheus counters; more go to <c>_other</c>.</summary>
    public int MaxMetricSeries { get; init; } = 10_000;

    /// <summary><c>nwdp.stats.grace</c>: how long after a minute ends it is first published (late batches still count in it).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>nwdp.stats.retention</c>: how long a node keeps a minute's counts (a later change is published again); older counts are dropped.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary><c>nwdp.stats.publish-interval</c>: how often closed (or changed) minutes are published to <c>nwdp.stats</c>.</summary>
    public TimeSpan PublishInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>nwdp.stats.window</c>: how much of <c>nwdp.stats</c> (all nodes) each node keeps in memory to answer queries.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(24);

    /// <summary><c>nwdp.stats.max-stored-records</c>: bound on the records the store keeps (oldest minutes go first).</summary>
    public int MaxStoredRecords { get; init; } = 2_000_000;

    /// <summary><c>nwdp.stats.settle-time</c>: the audit judges a minute once it ended, and its counts stopped changing, this long ago.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// <c>nwdp.stats.positions-wait</c>: how long a starting node's pumps wait, before their first count, to read the
    /// counted positions other nodes published (a node killed between its counts and its commit); past it they count
    /// without (and may count such records twice).
    /// </summary>
    public TimeSpan PositionsWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>nwdp.stats.durable-accepted-timeout</c>: how long ingress waits, before it answers a batch Kafka acknowledged,
    /// for the batch's <c>accepted</c> and <c>bus</c> counts to be acknowledged on <c>nwdp.stats</c> (so a SIGKILL takes
    /// none of them with it). Past it the answer goes anyway and the counts are published later. 0: no wait (the counts
    /// are then published by the minute, after <see cref="Grace"/>).
    /// </summary>
    public TimeSpan DurableAcceptedTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reads <c>nwdp.stats</c>; every key is required (Stats/reference.conf has them all).</summary>
    public static StatsOptions FromConfig(ConfigReader stats) => new()
    {
        MaxSeriesPerMinute = stats.PositiveInt("max-series-per-minute"),
        MaxMetricSeries = stats.PositiveInt("max-metric-series"),
        Grace = stats.Duration("grace"),
        Retention = stats.PositiveDuration("retention"),
        PublishInterval = stats.PositiveDuration("publish-interval"),
        Window = stats.PositiveDuration("window"),
        MaxStoredRecords = stats.PositiveInt("max-stored-records"),
        SettleTime = stats.Duration("settle-time"),
        PositionsWait = stats.Duration("positions-wait"),
        DurableAcceptedTimeout = stats.Duration("durable-accepted-timeout"),
    };
}
