using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// Hour markers and watermarks (<c>nwdp.watermarks</c>). A node reads every value from the configuration
/// (<see cref="FromConfig"/>; defaults in Watermarks/reference.conf); the property defaults are for tests that build the
/// record directly.
/// </summary>
public sealed record WatermarkOptions
{
    /// <summary><c>enabled</c>: write hour markers (ingress) and track completions (pump).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>marker-delay</c>: once an event of a later hour was acknowledged, an hour's markers are written this long after it ended.</summary>
    public TimeSpan MarkerDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>idle-after</c>: without an event of a later hour, an hour's markers are written this long after it ended.</summary>
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>check-interval</c>: how often hours are checked for markers to write and for completions.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>keep</c>: how long an hour's counts (ingress) and markers (pump) are kept for late events.</summary>
    public TimeSpan Keep { get; init; } = TimeSpan.FromHours(24);

    /// <summary><c>grace</c>: an hour still missing markers this long after it ended is closed incomplete.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// <c>share</c>: the pump nodes share what they read of each hour (<c>nwdp.watermarks.observed</c>) and decide each
    /// hour once for the whole topic; off: each node decides from the partitions its own writers read (one pump node per sink).
    /// </summary>
    public bool Share { get; init; } = true;

    /// <summary><c>max-kept</c>: completions kept in memory for the admin API.</summary>
    public int MaxKept { get; init; } = 10_000;

    /// <summary>Reads <c>nwdp.watermarks</c>; every key is required (Watermarks/reference.conf has them all).</summary>
    public static WatermarkOptions FromConfig(ConfigReader watermarks) => new()
    {
        Enabled = watermarks.Bool("enabled"),
        MarkerDelay = watermarks.Duration("marker-delay"),
        IdleAfter = watermarks.Duration("idle-after"),
        CheckInterval = watermarks.PositiveDuration("check-interval"),
        Keep = watermarks.PositiveDuration("keep"),
        Grace = watermarks.Duration("grace"),
        MaxKept = watermarks.PositiveInt("max-kept"),
        Share = watermarks.Bool("share"),
    };
}
