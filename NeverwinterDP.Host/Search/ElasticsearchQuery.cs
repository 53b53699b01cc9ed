using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks.Elasticsearch;

namespace NeverwinterDP.Host.Search;

/// <summary>
/// A search as an Elasticsearch <c>_search</c> request: the index pattern from the sink's <c>index</c> template, and a
/// body with the <c>query_string</c> written back from the parsed <c>q</c> (each clause a quoted phrase on its field,
/// so nothing of the user's text is read as query syntax), filters on type and ts, the sort and <c>search_after</c>.
/// </summary>
public static class ElasticsearchQuery
{
    /// <summary>The sort of every search (newest first) and the key <see cref="SearchCursor"/> holds.</summary>
    public static readonly string[] SortFields = ["ts", "system_ts", "lineage.seq"];

    /// <summary>
    /// The indices a search reads: the template with <c>{type}</c> as the type glob (<c>?</c> widened to <c>*</c>, the
    /// type filter narrows it back) and every date placeholder as <c>*</c>, e.g. <c>logs-web*-*</c>.
    /// </summary>
    public static string IndexPattern(string template, string typeGlob)
    {
        ArgumentNullException.ThrowIfNull(template);
        var pattern = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            if (open < 0)
            {
                pattern.Append(template[i..].ToLowerInvariant());
                break;
            }
            pattern.Append(template[i..open].ToLowerInvariant());
            var close = template.IndexOf('}', open);
            var name = template[(open + 1)..close];
            pattern.Append(name == "type" ? typeGlob.ToLowerInvariant().Replace('?', '*') : "*");
            i = close + 1;
        }
        var text = pattern.ToString();
        while (text.Contains("**", StringComparison.Ordinal)) text = text.Replace("**", "*", StringComparison.Ordinal);
        return text;
    }

    /// <summary>The <c>query_string</c> text of a parsed query (null for <see cref="MatchAll"/>).</summary>
    public static string? QueryString(QueryNode node) => node switch
    {
        MatchAll => null,
        Match m => $"{m.Field}:\"{Escape(m.Text)}\"",
        And a => $"({QueryString(a.Left)} AND {QueryString(a.Right)})",
        Or o => $"({QueryString(o.Left)} OR {QueryString(o.Right)})",
        Not n => $"(NOT {QueryString(n.Inner)})",
        _ => throw new ArgumentException($"unknown query node {node.GetType().Name}", nameof(node)),
    };

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>The <c>_search</c> body for the first <paramref name="size"/> hits after the cursor.</summary>
    public static byte[] Body(SearchRequest request, int size)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("size", size);
            w.WriteBoolean("track_total_hits", false);
            w.WriteStartArray("_source");
            foreach (var field in (string[])["ts", "system_ts", "type", "host", "process", "level", "msg", "attributes", "lineage"]) w.WriteStringValue(field);
            w.WriteEndArray();
            w.WriteStartArray("sort");
            foreach (var field in SortFields)
            {
                w.WriteStartObject();
                w.WriteStartObject(field);
                w.WriteString("order", "desc");
                w.WriteString("unmapped_type", "long");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (request.Cursor.After is { } after)
            {
                w.WriteStartArray("search_after");
                foreach (var v in after) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
            w.WriteStartObject("query");
            w.WriteStartObject("bool");
            w.WriteStartArray("filter");
            if (request.FromMs is not null || request.ToMs is not null)
            {
                w.WriteStartObject();
                w.WriteStartObject("range");
                w.WriteStartObject("ts");
                if (request.FromMs is { } from) w.WriteNumber("gte", from);
                if (request.ToMs is { } to) w.WriteNumber("lt", to);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            if (request.TypeGlob != "*")
            {
                // type is text (+ type.keyword) under dynamic mapping, keyword in a logs-*-* data stream: either matches.
                w.WriteStartObject();
                w.WriteStartObject("bool");
                w.WriteStartArray("should");
                foreach (var field in (string[])["type.keyword", "type"])
                {
                    w.WriteStartObject();
                    w.WriteStartObject("wildcard");
                    w.WriteStartObject(field);
                    w.WriteString("value", request.TypeGlob);
                    w.WriteBoolean("case_insensitive", true);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("minimum_should_match", 1);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (QueryString(request.Query) is { } q)
            {
                w.WriteStartArray("must");
                w.WriteStartObject();
                w.WriteStartObject("query_string");
                w.WriteString("query", q);
                w.WriteString("default_field", SearchQueryParser.DefaultField);
                w.WriteString("default_operator", "AND");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>The template of the sink's <c>index</c> setting, as text.</summary>
    public static string Template(ElasticsearchSinkOptions options) => options.Index.Text;
}
