using System.Net.Http.Headers;
using System.Text;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>
/// Settings of an Elasticsearch (or OpenSearch) sink, HOCON section <c>nwdp.sinks.&lt;name&gt;</c> with
/// <c>kind = elasticsearch</c>:
/// <code>
/// nwdp.sinks.es {
///   kind = elasticsearch
///   urls = ["http://es-1:9200", "http://es-2:9200"]  # required; requests go round-robin, a dead node is failed over
///   index = "logs-{type}-{yyyy.MM.dd}"              # {type} and a date format of the event's ts (UTC)
///   username = elastic                              # basic auth (with password), or
///   api-key = "base64(id:key)"                      # Authorization: ApiKey ...; neither: no auth
///   request-timeout = 30s
///   max-bulk-bytes = 5 MiB                          # a batch is split into _bulk requests of at most this size
///   compression = on                                # gzip request bodies
///   typed-component-template = ""                   # a component template the sink keeps typed mappings in; empty: none
/// }
/// </code>
/// </summary>
public sealed record ElasticsearchSinkOptions
{
    public const string DefaultIndex = "logs-{type}-{yyyy.MM.dd}";

    /// <summary>Default of <see cref="MaxBulkBytes"/>: 5 MiB (Elastic's advice: start at 5-15 MB per _bulk request).</summary>
    public const long DefaultMaxBulkBytes = 5L * 1024 * 1024;

    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>urls</c>: one or more node addresses (http or https, no path). Required.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }

    /// <summary><c>index</c>: the index name template (<see cref="IndexNameTemplate"/>).</summary>
    public IndexNameTemplate Index { get; init; } = IndexNameTemplate.Parse(DefaultIndex);

    /// <summary><c>username</c> / <c>password</c>: HTTP basic authentication.</summary>
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary><c>api-key</c>: the encoded API key (what the create-API-key call returns as <c>encoded</c>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The <c>Authorization</c> header these options ask for (<c>ApiKey</c>, else <c>Basic</c>), or null for none: the
    /// sink's writes and log search's reads authenticate the same way.
    /// </summary>
    public AuthenticationHeaderValue? Authorization =>
        ApiKey is { } key ? new AuthenticationHeaderValue("ApiKey", key)
        : Username is { } user ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{Password}")))
        : null;

    /// <summary><c>request-timeout</c>: one HTTP request, sending the body to reading the whole response.</summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    /// <summary><c>max-bulk-bytes</c>: uncompressed size of one _bulk body; keep it below the server's http.max_content_length (100mb).</summary>
    public long MaxBulkBytes { get; init; } = DefaultMaxBulkBytes;

    /// <summary><c>compression</c>: gzip the request bodies (Elasticsearch and OpenSearch always accept Content-Encoding: gzip).</summary>
    public bool Compression { get; init; } = true;

    /// <summary>
    /// <c>typed-component-template</c>: the name of a component template the sink owns and keeps the typed log types' field
    /// mappings in (<see cref="TypedTemplate"/>), for the operator's index template to compose; null (the default): none.
    /// </summary>
    public string? TypedComponentTemplate { get; init; }

    /// <summary>Reads and validates the section; every problem names its key.</summary>
    /// <exception cref="SinkConfigException">A missing or unusable value.</exception>
    public static ElasticsearchSinkOptions FromSection(SinkSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var options = new ElasticsearchSinkOptions
        {
            Urls = ReadUrls(s),
            Index = ReadIndex(s),
            Username = Optional(s, "username"),
            Password = Optional(s, "password"),
            ApiKey = Optional(s, "api-key"),
            RequestTimeout = s.GetDuration("request-timeout", DefaultRequestTimeout),
            MaxBulkBytes = s.GetBytes("max-bulk-bytes", DefaultMaxBulkBytes),
            Compression = s.GetBool("compression", true),
            TypedComponentTemplate = Optional(s, "typed-component-template"),
        };
        if (options.TypedComponentTemplate is { } template && !IsTemplateName(template))
            throw new SinkConfigException(s.Key("typed-component-template"), $"must be a template name (letters, digits, '.', '_', '-', '@'; not starting with '_' or '-'), got '{template}'");
        if (options.Username is not null && options.Password is null)
            throw new SinkConfigException(s.Key("password"), "is required when username is set");
        if (options.Password is not null && options.Username is null)
            throw new SinkConfigException(s.Key("username"), "is required when password is set");
        if (options.ApiKey is not null && options.Username is not null)
            throw new SinkConfigException(s.Key("api-key"), "set either api-key or username/password, not both");
        if (options.MaxBulkBytes > int.MaxValue / 2)
            throw new SinkConfigException(s.Key("max-bulk-bytes"), $"must be at most 1 GiB, got {options.MaxBulkBytes} bytes");
        return options;
    }

    private static bool IsTemplateName(string name) =>
        name.Length <= 255 && name[0] is not ('_' or '-') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    private static string? Optional(SinkSection s, string key)
    {
        var v = s.GetString(key, "");
        return string.IsNullOrEmpty(v) ? null : v;
    }

    private static IndexNameTemplate ReadIndex(SinkSection s)
    {
        var text = s.GetString("index", DefaultIndex);
        try
        {
            return IndexNameTemplate.Parse(text);
        }
        catch (FormatException e)
        {
            throw new SinkConfigException(s.Key("index"), e.Message);
        }
    }

    // urls = ["http://a:9200", "http://b:9200"], or one string (commas allowed): urls = "http://a:9200".
    private static IReadOnlyList<Uri> ReadUrls(SinkSection s)
    {
        var key = s.Key("urls");
        if (!s.Has("urls")) throw new SinkConfigException(key, "is required: one or more http(s) URLs of Elasticsearch nodes");
        var value = s.Config.GetValue("urls");
        IEnumerable<string> texts = value.IsArray()
            ? value.GetStringList()
            : (value.GetString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var urls = new List<Uri>();
        foreach (var text in texts)
        {
            if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new SinkConfigException(key, $"must be http(s) URLs, got '{text}'");
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
                throw new SinkConfigException(key, $"must be node addresses without a path or query, got '{text}'");
            if (uri.UserInfo.Length > 0)
                throw new SinkConfigException(key, $"must not carry credentials (use username/password or api-key), got '{uri.GetLeftPart(UriPartial.Scheme)}...@{uri.Authority}'");
            urls.Add(uri);
        }
        return urls.Count > 0 ? urls : throw new SinkConfigException(key, "is required: one or more http(s) URLs of Elasticsearch nodes");
    }
}
