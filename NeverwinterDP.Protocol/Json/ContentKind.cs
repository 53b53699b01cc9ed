namespace NeverwinterDP.Protocol;

/// <summary>How an ingress request body holds its events.</summary>
public enum ContentKind
{
    /// <summary>One JSON object per line; blank lines are ignored (Vector, Fluent Bit json_lines).</summary>
    Ndjson,

    /// <summary>One JSON object, or an array of objects (Fluent Bit json, Logstash json_batch).</summary>
    Json,
}

/// <summary>Maps a request's Content-Type to a <see cref="ContentKind"/>.</summary>
public static class ContentKinds
{
    /// <summary>
    /// NDJSON for <c>application/x-ndjson</c>, <c>application/jsonl</c> and friends, <c>text/plain</c> or no
    /// Content-Type (curl's default is form data, so that counts too); JSON for <c>application/json</c> and
    /// <c>*+json</c>; null for anything else (answer 415).
    /// </summary>
    public static ContentKind? FromContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return ContentKind.Ndjson;
        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0) mediaType = mediaType[..semicolon];
        mediaType = mediaType.Trim();

        if (mediaType.Contains("ndjson", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("jsonl", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("json-lines", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("x-json-stream", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return ContentKind.Ndjson;
        }
        if (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return ContentKind.Json;
        }
        return null;
    }
}
