using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NeverwinterDP.Host.Search;

/// <summary>A search parameter the node refuses (400), naming the parameter.</summary>
public sealed class SearchRequestException(string parameter, string message) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>
/// The position after a page: the sort key (ts, system_ts, seq, all descending) of the last hit before the run of
/// hits that tie with the page's last one, and how many hits after that key the next page skips (that run). Ties on
/// the whole key are thus neither lost nor repeated between pages. Opaque to clients: base64url of a small JSON.
/// </summary>
public sealed record SearchCursor(long[]? After, int Skip)
{
    public string Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new CursorJson(After, Skip), CursorJsonContext.Default.CursorJson);
        return Base64Url.EncodeToString(json);
    }

    /// <exception cref="SearchRequestException">Not a cursor this node wrote.</exception>
    public static SearchCursor Decode(string text)
    {
        try
        {
            var json = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(text), CursorJsonContext.Default.CursorJson)
                       ?? throw new FormatException();
            if (json.S < 0 || json.A is { Length: not 3 }) throw new FormatException();
            return new SearchCursor(json.A, json.S);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            throw new SearchRequestException("cursor", "cursor is not one this node gave out (pass the 'next' of the previous answer as it is)");
        }
    }

    /// <summary>
    /// The cursor after a page, from the sort keys of every row the backend returned after <paramref name="previous"/>'s
    /// key up to the page's end (<paramref name="keys"/>: the rows skipped, then the page). When they all tie, the
    /// next page starts from the same key and skips them all.
    /// </summary>
    public static SearchCursor Next(SearchCursor previous, IReadOnlyList<long[]> keys)
    {
        var last = keys[^1];
        var first = keys.Count - 1;
        while (first > 0 && keys[first - 1].AsSpan().SequenceEqual(last)) first--;
        return first > 0 ? new SearchCursor(keys[first - 1], keys.Count - first) : new SearchCursor(previous.After, keys.Count);
    }

    internal sealed record CursorJson(long[]? A, int S);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SearchCursor.CursorJson))]
internal sealed partial class CursorJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// <c>GET /v1/search?type=T&amp;q=...&amp;from=&amp;to=&amp;limit=&amp;cursor=</c>, checked: <c>type</c> a glob of type names
/// (<c>*</c> and <c>?</c>), <c>from</c>/<c>to</c> bounds on the event's ts (from inclusive, to exclusive; epoch ms,
/// RFC 3339, or a duration ago such as <c>15m</c>), <c>limit</c> up to <see cref="SearchOptions.MaxLimit"/>.
/// </summary>
public sealed partial record SearchRequest(string TypeGlob, string QueryText, QueryNode Query, long? FromMs, long? ToMs, int Limit, SearchCursor Cursor)
{
    /// <summary>The most rows one page may read past its cursor (Elasticsearch's default index.max_result_window).</summary>
    public const int MaxWindow = 10_000;

    /// <exception cref="SearchRequestException">A parameter the node refuses.</exception>
    public static SearchRequest Parse(Func<string, string?> parameter, SearchOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(options);
        var type = parameter("type")?.Trim() ?? "";
        if (type.Length == 0) type = "*";
        if (type.Length > 128 || !TypeGlobSyntax().IsMatch(type))
            throw new SearchRequestException("type", $"type '{type}' is not a type glob: letters, digits, '.', '_', '-' and the wildcards '*' and '?', at most 128");
        var q = parameter("q") ?? "";
        if (q.Length > options.MaxQueryChars)
            throw new SearchRequestException("q", $"q is {q.Length} characters long; at most {options.MaxQueryChars} (nwdp.search.max-query-chars)");
        QueryNode query;
        try
        {
            query = SearchQueryParser.Parse(q);
        }
        catch (QuerySyntaxException e)
        {
            throw new SearchRequestException("q", "q: " + e.Message + " (syntax: docs/search.md)");
        }
        var from = Time(parameter("from"), "from", now);
        var to = Time(parameter("to"), "to", now);
        if (from is { } f && to is { } t && f > t)
            throw new SearchRequestException("from", $"from ({Rfc3339(f)}) is after to ({Rfc3339(t)})");
        var limit = options.DefaultLimit;
        if (parameter("limit") is { Length: > 0 } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1)
                throw new SearchRequestException("limit", $"limit '{limitText}' is not a whole number of at least 1");
            if (limit > options.MaxLimit)
                throw new SearchRequestException("limit", $"limit {limit} is above the most a page holds here, {options.MaxLimit} (nwdp.search.max-limit); page with the cursor");
        }
        var cursor = parameter("cursor") is { Length: > 0 } cursorText ? SearchCursor.Decode(cursorText) : new SearchCursor(null, 0);
        if (cursor.Skip + limit + 1 > MaxWindow)
            throw new SearchRequestException("cursor", $"more than {MaxWindow} events share one timestamp here: the cursor cannot go past them; narrow q or from/to");
        return new SearchRequest(type, q, query, from, to, limit, cursor);
    }

    /// <summary>Whether a type name matches <see cref="TypeGlob"/> (case-insensitively, as index names are lower case).</summary>
    public bool TypeMatches(string type) => GlobRegex(TypeGlob).IsMatch(type);

    public static Regex GlobRegex(string glob) =>
        new("^" + Regex.Escape(glob).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public static string Rfc3339(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static long? Time(string? text, string name, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        const long maxMs = 253_402_300_799_999;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
            return ms is >= 0 and <= maxMs ? ms : throw new SearchRequestException(name, $"{name} {ms} is outside 1970-9999 in epoch ms");
        if (AgoSyntax().Match(text) is { Success: true } ago)
        {
            var n = long.Parse(ago.Groups[1].Value, CultureInfo.InvariantCulture);
            var unit = ago.Groups[2].Value switch { "s" => 1_000L, "m" => 60_000L, "h" => 3_600_000L, _ => 86_400_000L };
            return n <= 3650 * 86_400L ? Math.Max(0, now.ToUnixTimeMilliseconds() - n * unit) : throw new SearchRequestException(name, $"{name} {text} is too far back");
        }
        if (text.Length >= 10 && text[4] == '-' && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            && time.ToUnixTimeMilliseconds() >= 0)
            return time.ToUnixTimeMilliseconds();
        throw new SearchRequestException(name, $"{name} '{text}' is not a time: give epoch ms, RFC 3339 (2026-01-31T12:00:00Z) or a duration ago (30s, 15m, 2h, 7d)");
    }

    [GeneratedRegex(@"^[A-Za-z0-9._\-*?]+$")]
    private static partial Regex TypeGlobSyntax();

    [GeneratedRegex(@"^(\d{1,7})(s|m|h|d)$")]
    private static partial Regex AgoSyntax();
}
