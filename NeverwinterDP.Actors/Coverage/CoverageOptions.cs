using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// The coverage and summary report settings (<c>nwdp.coverage</c>; defaults in Coverage/reference.conf, which a test
/// checks the property defaults against).
/// </summary>
public sealed record CoverageOptions
{
    /// <summary><c>nwdp.coverage.enabled</c>.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>nwdp.coverage.max-types</c>: log types sketched per hour; more go to <c>_other</c> (summary only).</summary>
    public int MaxTypes { get; init; } = 200;

    /// <summary><c>nwdp.coverage.max-keys-per-type</c>: attribute keys sketched per type and hour.</summary>
    public int MaxKeysPerType { get; init; } = 100;

    /// <summary><c>nwdp.coverage.top-values</c>: space-saving counters per key.</summary>
    public int TopValues { get; init; } = 20;

    /// <summary><c>nwdp.coverage.hll-precision</c>: HyperLogLog precision p (4..16).</summary>
    public int HllPrecision { get; init; } = 12;

    /// <summary><c>nwdp.coverage.max-value-length</c>: values are cut to this many characters before counting.</summary>
    public int MaxValueLength { get; init; } = 200;

    /// <summary><c>nwdp.coverage.queue-batches</c>: accepted batches waiting for the sketcher.</summary>
    public int QueueBatches { get; init; } = 1024;

    /// <summary><c>nwdp.coverage.queue-bytes</c>: estimated memory of the events waiting for the sketcher.</summary>
    public long QueueBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary><c>nwdp.coverage.publish-interval</c>: how often changed sketches go to <c>nwdp.coverage</c>.</summary>
    public TimeSpan PublishInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>nwdp.coverage.retention</c>: how long after an hour ended a node keeps sketching it.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(2);

    /// <summary><c>nwdp.coverage.window</c>: how much of <c>nwdp.coverage</c> a node keeps to answer reports.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Reads <c>nwdp.coverage</c>; every key is required (Coverage/reference.conf has them all).</summary>
    public static CoverageOptions FromConfig(ConfigReader coverage)
    {
        var options = new CoverageOptions
        {
            Enabled = coverage.Bool("enabled"),
            MaxTypes = coverage.PositiveInt("max-types"),
            MaxKeysPerType = coverage.PositiveInt("max-keys-per-type"),
            TopValues = coverage.PositiveInt("top-values"),
            HllPrecision = coverage.PositiveInt("hll-precision"),
            MaxValueLength = coverage.PositiveInt("max-value-length"),
            QueueBatches = coverage.PositiveInt("queue-batches"),
            QueueBytes = coverage.Bytes("queue-bytes"),
            PublishInterval = coverage.PositiveDuration("publish-interval"),
            Retention = coverage.Duration("retention"),
            Window = coverage.PositiveDuration("window"),
        };
        if (options.HllPrecision is < HyperLogLog.MinPrecision or > HyperLogLog.MaxPrecision)
            throw new ArgumentException($"{coverage.Key("hll-precision")} must be {HyperLogLog.MinPrecision}..{HyperLogLog.MaxPrecision}, got {options.HllPrecision}");
        return options;
    }
}
