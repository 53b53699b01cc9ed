using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>The schema registry (<c>nwdp.schemas</c>): served by this node, or an external one it uses instead.</summary>
public sealed record SchemaOptions
{
    /// <summary><c>enabled</c>: serve the registry on this node's HTTP listener (when <see cref="Url"/> is not set).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>path</c>: where the registry's API is mounted on the HTTP listener, e.g. <c>/schemas</c> (empty: at the root).</summary>
    public string Path { get; init; } = "/schemas";

    /// <summary><c>url</c>: an existing Confluent-compatible registry the node uses instead of serving its own; null: none.</summary>
    public Uri? Url { get; init; }

    /// <summary><c>topic</c>: the compacted topic the registry is stored in.</summary>
    public string Topic { get; init; } = TopicNames.Schemas;

    /// <summary><c>compatibility</c>: the level while nobody set one with <c>PUT /config</c>.</summary>
    public CompatibilityLevel Compatibility { get; init; } = CompatibilityLevel.Backward;

    /// <summary><c>timeout</c>: how long a request may wait for the topic (reading to its end, a write acknowledged and read back).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>True when this node serves the registry itself.</summary>
    public bool Serves => Enabled && Url is null;

    /// <summary>Reads <c>nwdp.schemas</c>.</summary>
    public static SchemaOptions FromConfig(ConfigReader schemas)
    {
        var path = schemas.String("path").Trim().TrimEnd('/');
        if (path.Length > 0 && !path.StartsWith('/')) throw new ArgumentException($"{schemas.Key("path")} must start with '/' (or be empty for the root), got '{path}'");
        var url = schemas.OptionalString("url");
        Uri? parsedUrl = null;
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out parsedUrl) || parsedUrl.Scheme is not ("http" or "https")))
            throw new ArgumentException($"{schemas.Key("url")} must be an http(s) URL of a schema registry, got '{url}'");
        var level = schemas.String("compatibility");
        if (!AvroCompatibility.TryParseLevel(level, out var compatibility))
            throw new ArgumentException($"{schemas.Key("compatibility")} must be NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE, got '{level}'");
        return new SchemaOptions
        {
            Enabled = schemas.Bool("enabled"),
            Path = path,
            Url = parsedUrl,
            Topic = schemas.String("topic"),
            Compatibility = compatibility,
            Timeout = schemas.PositiveDuration("timeout"),
        };
    }
}
