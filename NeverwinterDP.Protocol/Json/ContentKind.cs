namespace NeverwinterDP.Protocol;

/// <summary>How an ingress request body holds its events.</summary>
public enum ContentKind
{
    /// <summary>One JSON object per line; blank lines are ignored (Vector, Fluent Bit json_lines).</summary>
    Ndjson,

    /// <summary>One JSON object, or an array of objects (Fluent Bit json, Logstash json_batch).</summary>
    Json,

    /// <summary>
    /// JSON values one after another, each an object or an array of objects, with or without whitespace between
    /// them: Fluent Bit's <c>json_stream</c> (and <c>json</c>, <c>json_lines</c>), sent as <c>application/json</c>.
    /// </summary>
    JsonSequence,

    /// <summary>
    /// Fluent Bit's <c>msgpack</c> format: MessagePack entries one after another, each <c>[time, record]</c> or
    /// (Fluent Bit 2.1 and later) <c>[[time, metadata], record]</c>.
    /// </summary>
    MessagePack,
}

/// <summary>Maps a request's Content-Type to a <see cref="ContentKind"/>.</summary>
public static class ContentKinds
{
    /// <summary>
    /// NDJSON for <c>application/x-ndjson</c>, <c>application/jsonl</c> and friends, <c>text/plain</c> or no
    /// Content-Type (curl's default is form data, so that counts too); JSON for <c>application/json</c> and
    /// <c>*+json</c>; MessagePack for <c>application/msgpack</c>, <c>application/x-msgpack</c> and
    /// <c>application/vnd.msgpack</c> (Fluent Bit's <c>msgpack</c> format); null for anything else (answer 415).
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
        if (mediaType.Equals("application/msgpack", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/x-msgpack", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/vnd.msgpack", StringComparison.OrdinalIgnoreCase))
        {
            return ContentKind.MessagePack;
        }
        return null;
    }

    /// <summary>
    /// As <see cref="FromContentType"/>, except that <c>application/json</c> is a <see cref="ContentKind.JsonSequence"/>:
    /// what Fluent Bit's <c>http</c> output sends in its <c>json</c> and <c>json_stream</c> formats (and, before 2.x,
    /// <c>json_lines</c>) under that one Content-Type.
    /// </summary>
    public static ContentKind? FromFluentBitContentType(string? contentType) =>
        FromContentType(contentType) is ContentKind.Json ? ContentKind.JsonSequence : FromContentType(contentType);

    /// <summary>What a 415 answer lists as supported.</summary>
    public const string Supported = "application/x-ndjson, application/json or application/msgpack";
}
