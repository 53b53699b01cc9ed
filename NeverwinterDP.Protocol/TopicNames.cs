using System.Collections.Concurrent;

namespace NeverwinterDP.Protocol;

/// <summary>Kafka topic names: one log topic per type, and the control topics.</summary>
public static class TopicNames
{
    public const string LogsPrefix = "nwdp.logs.";
    public const string Heartbeats = "nwdp.heartbeats";
    public const string Stats = "nwdp.stats";
    public const string Coverage = "nwdp.coverage";
    public const string Watchdog = "nwdp.watchdog";
    public const string Schemas = "nwdp.schemas";

    /// <summary>Hour completions of the log topics, one JSON record per completion (version) of a topic's hour.</summary>
    public const string Watermarks = "nwdp.watermarks";

    /// <summary>
    /// What each pump node's watermark tracker read of each hour (compacted, key <c>sink|topic|hour_ms|node</c>): shared so
    /// that an hour read by several pump nodes is decided once for the whole topic (docs/watermarks.md).
    /// </summary>
    public const string WatermarkObservations = "nwdp.watermarks.observed";

    /// <summary>Kafka refuses topic names longer than this.</summary>
    public const int MaxLength = 249;

    // Types come from senders, so the cache of sanitised names is bounded; past it we compute each time.
    private const int MaxCached = 10_000;
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>nwdp.logs.&lt;type&gt;</c>, with every character outside <c>[a-zA-Z0-9._-]</c> replaced by <c>_</c>
    /// (the characters Kafka allows). An empty type becomes <see cref="LogEvent.DefaultType"/>. A name over
    /// <see cref="MaxLength"/> is cut and ends in a hash of the whole type, so two long types stay apart.
    /// </summary>
    public static string ForType(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (Cache.TryGetValue(type, out var topic)) return topic;
        topic = Sanitise(type);
        if (Cache.Count < MaxCached) Cache.TryAdd(type, topic);
        return topic;
    }

    private static string Sanitise(string type)
    {
        if (type.Length == 0) type = LogEvent.DefaultType;
        var length = Math.Min(LogsPrefix.Length + type.Length, MaxLength);
        var tooLong = LogsPrefix.Length + type.Length > MaxLength;
        return string.Create(length, (type, tooLong), static (span, state) =>
        {
            var (type, tooLong) = state;
            LogsPrefix.AsSpan().CopyTo(span);
            var body = span[LogsPrefix.Length..];
            var kept = tooLong ? body.Length - 9 : body.Length; // room for "-" and 8 hex digits
            for (var i = 0; i < kept; i++) body[i] = IsAllowed(type[i]) ? type[i] : '_';
            if (tooLong)
            {
                body[kept] = '-';
                Fnv1a(type).TryFormat(body[(kept + 1)..], out _, "x8");
            }
        });
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    /// <summary>A stable hash (string.GetHashCode changes per process, topic names must not).</summary>
    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }
}
