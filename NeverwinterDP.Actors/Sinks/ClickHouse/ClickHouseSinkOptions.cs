using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.ClickHouse;

/// <summary>
/// Settings of one ClickHouse sink instance, HOCON <c>nwdp.sinks.&lt;name&gt;</c> with <c>kind = clickhouse</c>:
/// <code>
/// nwdp.sinks.clickhouse {
///   kind = clickhouse
///   url = "http://clickhouse-1:8123/"  # required: the HTTP interface
///   database = default                 # created if missing (create-table = on)
///   table = nwdp_logs                  # created if missing (create-table = on)
///   user = ""                          # empty: the server's default user
///   password = ""
///   create-table = on                  # off: the table must exist with the sink's columns
///   request-timeout = 30s              # one INSERT or query; a timeout is retried
/// }
/// </code>
/// </summary>
public sealed record ClickHouseSinkOptions
{
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    public required Uri Url { get; init; }

    public string Database { get; init; } = "default";

    public string Table { get; init; } = "nwdp_logs";

    public string? User { get; init; }

    public string? Password { get; init; }

    public bool CreateTable { get; init; } = true;

    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    public static ClickHouseSinkOptions FromSection(SinkSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var options = new ClickHouseSinkOptions
        {
            Url = s.RequiredUri("url"),
            Database = s.GetString("database", "default"),
            Table = s.GetString("table", "nwdp_logs"),
            User = s.GetString("user", "") is { Length: > 0 } u ? u : null,
            Password = s.GetString("password", "") is { Length: > 0 } p ? p : null,
            CreateTable = s.GetBool("create-table", true),
            RequestTimeout = s.GetDuration("request-timeout", DefaultRequestTimeout),
        };
        options.Validate(s.Key);
        return options;
    }

    /// <summary>Fails fast, naming the key, on values the sink cannot work with.</summary>
    public void Validate(Func<string, string>? key = null)
    {
        key ??= k => $"nwdp.sinks.clickhouse.{k}";
        if (Url is null || !Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            throw new SinkConfigException(key("url"), $"must be an http(s) URL, got '{Url}'");
        }
        if (!IsIdentifier(Database)) throw new SinkConfigException(key("database"), $"must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got '{Database}'");
        if (!IsIdentifier(Table)) throw new SinkConfigException(key("table"), $"must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got '{Table}'");
        if (Password is not null && User is null) throw new SinkConfigException(key("password"), "is set but user is not");
        if (RequestTimeout <= TimeSpan.Zero) throw new SinkConfigException(key("request-timeout"), $"must be positive, got {RequestTimeout}");
    }

    private static bool IsIdentifier(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 200 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
