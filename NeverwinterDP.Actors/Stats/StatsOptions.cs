using Akka.Configuration;

namespace NeverwinterDP.Actors.Stats;

/// <summary>The per-minute monitoring and loss audit settings (<c>nwdp.stats</c>).</summary>
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

    /// <summary>Reads <c>nwdp.stats</c> (every key optional).</summary>
    public static StatsOptions FromConfig(Config? stats)
    {
        var d = new StatsOptions();
        if (stats is null || stats.IsEmpty) return d;
        return new StatsOptions
        {
            MaxSeriesPerMinute = Positive(stats.GetInt("max-series-per-minute", d.MaxSeriesPerMinute), "max-series-per-minute"),
            MaxMetricSeries = Positive(stats.GetInt("max-metric-series", d.MaxMetricSeries), "max-metric-series"),
            Grace = NonNegative(stats.GetTimeSpan("grace", d.Grace), "grace"),
            Retention = Positive(stats.GetTimeSpan("retention", d.Retention), "retention"),
            PublishInterval = Positive(stats.GetTimeSpan("publish-interval", d.PublishInterval), "publish-interval"),
            Window = Positive(stats.GetTimeSpan("window", d.Window), "window"),
            MaxStoredRecords = Positive(stats.GetInt("max-stored-records", d.MaxStoredRecords), "max-stored-records"),
            SettleTime = NonNegative(stats.GetTimeSpan("settle-time", d.SettleTime), "settle-time"),
        };
    }

    private static int Positive(int v, string key) => v > 0 ? v : throw new ArgumentException($"nwdp.stats.{key} must be positive, got {v}");

    private static TimeSpan Positive(TimeSpan v, string key) => v > TimeSpan.Zero ? v : throw new ArgumentException($"nwdp.stats.{key} must be a positive duration, got {v}");

    private static TimeSpan NonNegative(TimeSpan v, string key) => v >= TimeSpan.Zero ? v : throw new ArgumentException($"nwdp.stats.{key} must not be negative, got {v}");
}
