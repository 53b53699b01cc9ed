using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Search;

/// <summary>
/// Log search (<c>GET /v1/search</c>, <c>nwdp search</c>), HOCON <c>nwdp.search</c>:
/// <code>
/// nwdp.search {
///   sink = ""              # the sink instance searched; empty = the first elasticsearch, else hive (parquet), else files (ndjson)
///   default-limit = 100    # hits per page when limit is not given
///   max-limit = 1000       # the largest limit a request may ask for (400 above)
///   max-query-chars = 1024 # the longest q
///   timeout = 10s          # one search, from the request to the answer (504 after)
///   max-files = 20000      # DuckDB: the most files one search may read after pruning (400 above: narrow type or from/to)
///   ts-slack = 1h          # DuckDB: how far an event's ts may lie from its ingress hour and still be found by from/to
///   duckdb.memory-limit = 256MiB
///   duckdb.threads = 2
/// }
/// </code>
/// </summary>
public sealed record SearchOptions
{
    public string? Sink { get; init; }
    public int DefaultLimit { get; init; } = 100;
    public int MaxLimit { get; init; } = 1000;
    public int MaxQueryChars { get; init; } = 1024;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxFiles { get; init; } = 20_000;
    public TimeSpan TsSlack { get; init; } = TimeSpan.FromHours(1);
    public long DuckDbMemoryLimit { get; init; } = 256L * 1024 * 1024;
    public int DuckDbThreads { get; init; } = 2;

    /// <exception cref="ArgumentException">A value that cannot work, naming the key.</exception>
    public static SearchOptions FromConfig(ConfigReader search)
    {
        ArgumentNullException.ThrowIfNull(search);
        var options = new SearchOptions
        {
            Sink = search.OptionalString("sink"),
            DefaultLimit = search.PositiveInt("default-limit"),
            MaxLimit = search.PositiveInt("max-limit"),
            MaxQueryChars = search.PositiveInt("max-query-chars"),
            Timeout = search.PositiveDuration("timeout"),
            MaxFiles = search.PositiveInt("max-files"),
            TsSlack = search.Duration("ts-slack"),
            DuckDbMemoryLimit = search.Bytes("duckdb.memory-limit"),
            DuckDbThreads = search.PositiveInt("duckdb.threads"),
        };
        if (options.DefaultLimit > options.MaxLimit)
            throw new ArgumentException($"{search.Key("default-limit")} ({options.DefaultLimit}) must not be above {search.Key("max-limit")} ({options.MaxLimit})");
        return options;
    }
}
