using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// <c>GET|POST /{index}/_search</c> and <c>/_search</c>, following the Search API docs for what log search uses:
/// index patterns (comma-separated, <c>*</c> wildcards, <c>ignore_unavailable</c>, <c>allow_no_indices</c>), <c>size</c>
/// and <c>from</c> (with <c>index.max_result_window</c> 10,000), <c>sort</c> (field names or <c>{field: {order,
/// unmapped_type, missing}}</c>; missing values last; text fields refused; an unmapped field without
/// <c>unmapped_type</c> refused), <c>search_after</c> (as many values as sort fields), <c>_source</c> filtering, and
/// the queries <c>bool</c> (must, filter, should, must_not, minimum_should_match), <c>match_all</c>, <c>range</c>,
/// <c>term</c>, <c>wildcard</c> (case_insensitive) and <c>query_string</c> (own parser: terms, "phrases", field:,
/// AND/OR/NOT, <c>-</c>, parentheses, default_field, default_operator). Text fields are analyzed as the standard
/// analyzer does for plain words (lower-cased runs of letters, digits and _); keyword fields match whole values;
/// <c>X.keyword</c> is the keyword sub-field dynamic mapping gives a text field. Ties keep index then insertion order.
/// </summary>
public sealed partial class FakeElasticsearch
{
    private const int MaxResultWindow = 10_000;

    /// <summary>Every <c>_search</c> body received, in order.</summary>
    public List<string> SearchBodies { get; } = [];

    private sealed class SearchError(int status, string type, string reason) : Exception(reason)
    {
        public int Status { get; } = status;
        public string Type { get; } = type;
    }

    private async Task SearchAsync(HttpContext context, string pattern)
    {
        var body = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync();
        lock (_gate) SearchBodies.Add(body);
        try
        {
            using var document = JsonDocument.Parse(body.Length == 0 ? "{}" : body);
            var request = document.RootElement;
            var ignoreUnavailable = context.Request.Query["ignore_unavailable"] == "true";
            var allowNoIndices = context.Request.Query["allow_no_indices"] != "false";
            List<(FakeIndex Index, StoredDoc Doc)> candidates;
            lock (_gate) candidates = Resolve(pattern, ignoreUnavailable, allowNoIndices).SelectMany(i => i.Docs.Values.OrderBy(d => d.SeqNo).Select(d => (i, d))).ToList();

            var size = request.TryGetProperty("size", out var s) ? s.GetInt32() : 10;
            var from = request.TryGetProperty("from", out var f) ? f.GetInt32() : 0;
            if (size < 0 || from < 0) throw new SearchError(400, "illegal_argument_exception", "[size] and [from] must be positive");
            if (size + from > MaxResultWindow)
                throw new SearchError(400, "illegal_argument_exception", $"Result window is too large, from + size must be less than or equal to: [{MaxResultWindow}] but was [{from + size}].");
            var sorts = request.TryGetProperty("sort", out var sortElement) ? ReadSorts(sortElement) : [];
            var query = request.TryGetProperty("query", out var q) ? q : default;
            var matched = candidates.Where(c => query.ValueKind == JsonValueKind.Undefined || Matches(c.Index, c.Doc.Source, query)).ToList();
            foreach (var sort in sorts)
            {
                var mapped = matched.Select(m => FieldType(m.Index, sort.Field)).FirstOrDefault(t => t is not null) ?? candidates.Select(c => FieldType(c.Index, sort.Field)).FirstOrDefault(t => t is not null);
                if (mapped is null && sort.UnmappedType is null)
                    throw new SearchError(400, "query_shard_exception", $"No mapping found for [{sort.Field}] in order to sort on");
                if (mapped == "text")
                    throw new SearchError(400, "illegal_argument_exception", $"Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{sort.Field}] in order to load field data by uninverting the inverted index.");
            }
            var keyed = matched.Select(m => (m.Index, m.Doc, Key: sorts.Select(o => SortValue(m.Doc.Source, o.Field)).ToArray())).ToList();
            // A stable sort: equal keys keep index then insertion order (as shard then doc id would).
            var ordered = keyed.Select((k, i) => (k, i)).OrderBy(x => x, Comparer<((FakeIndex Index, StoredDoc Doc, double?[] Key) k, int i)>.Create((a, b) =>
            {
                var c = CompareKeys(a.k.Key, b.k.Key, sorts);
                return c != 0 ? c : a.i.CompareTo(b.i);
            })).Select(x => x.k).ToList();
            if (request.TryGetProperty("search_after", out var after))
            {
                if (sorts.Count == 0) throw new SearchError(400, "illegal_argument_exception", "Cannot use [search_after] without a sort");
                if (after.GetArrayLength() != sorts.Count)
                    throw new SearchError(400, "illegal_argument_exception", $"search_after has {after.GetArrayLength()} value(s) but sort has {sorts.Count}.");
                if (from > 0) throw new SearchError(400, "illegal_argument_exception", "[from] parameter must be set to 0 when [search_after] is used");
                var afterKey = after.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : (double?)null).ToArray();
                ordered = ordered.Where(o => CompareKeys(o.Key, afterKey, sorts) > 0).ToList();
            }
            var page = ordered.Skip(from).Take(size).ToList();
            var sourceFields = request.TryGetProperty("_source", out var src) && src.ValueKind == JsonValueKind.Array ? src.EnumerateArray().Select(e => e.GetString()!).ToHashSet() : null;
            await WriteJsonAsync(context, 200, w =>
            {
                w.WriteNumber("took", 1);
                w.WriteBoolean("timed_out", false);
                w.WriteStartObject("_shards");
                w.WriteNumber("total", 1);
                w.WriteNumber("successful", 1);
                w.WriteNumber("skipped", 0);
                w.WriteNumber("failed", 0);
                w.WriteEndObject();
                w.WriteStartObject("hits");
                if (!(request.TryGetProperty("track_total_hits", out var track) && track.ValueKind == JsonValueKind.False))
                {
                    w.WriteStartObject("total");
                    w.WriteNumber("value", Math.Min(ordered.Count, 10_000));
                    w.WriteString("relation", ordered.Count > 10_000 ? "gte" : "eq");
                    w.WriteEndObject();
                }
                w.WriteNull("max_score");
                w.WriteStartArray("hits");
                foreach (var hit in page)
                {
                    w.WriteStartObject();
                    w.WriteString("_index", hit.Index.DataStream ? hit.Index.BackingIndex : hit.Index.Name);
                    w.WriteString("_id", hit.Doc.Id);
                    w.WriteNull("_score");
                    w.WriteStartObject("_source");
                    foreach (var p in hit.Doc.Source.EnumerateObject())
                        if (sourceFields is null || sourceFields.Contains(p.Name)) p.WriteTo(w);
                    w.WriteEndObject();
                    if (sorts.Count > 0)
                    {
                        w.WriteStartArray("sort");
                        for (var i = 0; i < sorts.Count; i++)
                        {
                            if (hit.Key[i] is { } v) w.WriteNumberValue((long)v);
                            else w.WriteNumberValue(sorts[i].Descending ? long.MinValue : long.MaxValue); // what ES gives a missing value
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        catch (SearchError e) when (e.Type == "index_not_found_exception")
        {
            await WriteIndexNotFoundAsync(context, e.Message);
        }
        catch (SearchError e)
        {
            await WriteErrorAsync(context, e.Status, e.Type, e.Message);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, 400, "parsing_exception", e.Message);
        }
    }

    private List<FakeIndex> Resolve(string pattern, bool ignoreUnavailable, bool allowNoIndices)
    {
        var result = new List<FakeIndex>();
        foreach (var part in pattern.Split(','))
        {
            if (part is "_all" or "*")
            {
                result.AddRange(_indices.Values.Where(i => !i.Name.StartsWith('.')));
                continue;
            }
            if (part.Contains('*'))
            {
                var regex = new Regex("^" + Regex.Escape(part).Replace("\\*", ".*") + "$");
                var found = _indices.Values.Where(i => regex.IsMatch(i.Name)).ToList();
                if (found.Count == 0 && !allowNoIndices) throw new SearchError(404, "index_not_found_exception", part);
                result.AddRange(found);
            }
            else if (_indices.TryGetValue(part, out var index)) result.Add(index);
            else if (!ignoreUnavailable) throw new SearchError(404, "index_not_found_exception", part);
        }
        return result.Distinct().OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    private sealed record SortField(string Field, bool Descending, string? UnmappedType);

    private static List<SortField> ReadSorts(JsonElement sort)
    {
        var items = sort.ValueKind == JsonValueKind.Array ? sort.EnumerateArray().ToList() : [sort];
        var result = new List<SortField>();
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                result.Add(new SortField(item.GetString()!, false, null));
                continue;
            }
            var property = item.EnumerateObject().Single();
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                result.Add(new SortField(property.Name, property.Value.GetString() == "desc", null));
                continue;
            }
            var order = property.Value.TryGetProperty("order", out var o) ? o.GetString() : "asc";
            if (order is not ("asc" or "desc")) throw new SearchError(400, "illegal_argument_exception", $"Unknown SortOrder [{order}]");
            result.Add(new SortField(property.Name, order == "desc", property.Value.TryGetProperty("unmapped_type", out var u) ? u.GetString() : null));
        }
        return result;
    }

    /// <summary>Keys in sort order: missing values last whatever the direction (ES's default <c>missing: _last</c>).</summary>
    private static int CompareKeys(double?[] a, double?[] b, List<SortField> sorts)
    {
        for (var i = 0; i < sorts.Count; i++)
        {
            var (x, y) = (a[i], b[i]);
            int c;
            if (x is null && y is null) c = 0;
            else if (x is null) c = 1;
            else if (y is null) c = -1;
            else c = sorts[i].Descending ? y.Value.CompareTo(x.Value) : x.Value.CompareTo(y.Value);
            if (c != 0) return c;
        }
        return 0;
    }

    private static double? SortValue(JsonElement source, string field) =>
        Lookup(source, field) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    private static JsonElement? Lookup(JsonElement source, string path)
    {
        var current = source;
        foreach (var segment in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out var next)) return null;
            current = next;
        }
        return current;
    }

    /// <summary>The mapped type of a field; <c>X.keyword</c> is keyword when X is text (dynamic mapping's sub-field).</summary>
    private static string? FieldType(FakeIndex index, string path)
    {
        if (index.Mapping.TryGetValue(path, out var type)) return type;
        if (path.EndsWith(".keyword", StringComparison.Ordinal) && index.Mapping.TryGetValue(path[..^".keyword".Length], out var parent) && parent == "text") return "keyword";
        return null;
    }

    private static string? ValueText(JsonElement source, string path)
    {
        var field = path.EndsWith(".keyword", StringComparison.Ordinal) ? path[..^".keyword".Length] : path;
        return Lookup(source, field) is { } v && v.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null)
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
            : null;
    }

    /// <summary>The standard analyzer on plain words: lower-cased runs of letters, digits and _.</summary>
    private static List<string> Analyze(string text) =>
        Regex.Matches(text, @"[\p{L}\p{N}_]+").Select(m => m.Value.ToLowerInvariant()).ToList();

    private bool Matches(FakeIndex index, JsonElement source, JsonElement query)
    {
        var clause = query.EnumerateObject().Single();
        var body = clause.Value;
        switch (clause.Name)
        {
            case "match_all":
                return true;
            case "bool":
            {
                var must = Clauses(body, "must").Concat(Clauses(body, "filter")).All(c => Matches(index, source, c));
                var mustNot = Clauses(body, "must_not").Any(c => Matches(index, source, c));
                var should = Clauses(body, "should").ToList();
                var hasMust = Clauses(body, "must").Any() || Clauses(body, "filter").Any();
                var minimum = body.TryGetProperty("minimum_should_match", out var m) ? m.GetInt32() : (should.Count > 0 && !hasMust ? 1 : 0);
                return must && !mustNot && should.Count(c => Matches(index, source, c)) >= minimum;
            }
            case "range":
            {
                var field = body.EnumerateObject().Single();
                if (Lookup(source, field.Name) is not { ValueKind: JsonValueKind.Number } value) return false;
                var x = value.GetDouble();
                foreach (var bound in field.Value.EnumerateObject())
                {
                    var b = bound.Value.ValueKind == JsonValueKind.Number ? bound.Value.GetDouble() : double.Parse(bound.Value.GetString()!, CultureInfo.InvariantCulture);
                    var ok = bound.Name switch
                    {
                        "gte" => x >= b,
                        "gt" => x > b,
                        "lte" => x <= b,
                        "lt" => x < b,
                        _ => throw new SearchError(400, "parsing_exception", $"[range] query does not support [{bound.Name}]"),
                    };
                    if (!ok) return false;
                }
                return true;
            }
            case "term":
            {
                var field = body.EnumerateObject().Single();
                var wanted = field.Value.ValueKind == JsonValueKind.Object ? field.Value.GetProperty("value") : field.Value;
                var text = ValueText(source, field.Name);
                var type = FieldType(index, field.Name);
                var w = wanted.ValueKind == JsonValueKind.String ? wanted.GetString()! : wanted.GetRawText();
                return text is not null && (type == "text" ? Analyze(text).Contains(w) : text == w);
            }
            case "wildcard":
            {
                var field = body.EnumerateObject().Single();
                var pattern = field.Value.ValueKind == JsonValueKind.Object ? field.Value.GetProperty("value").GetString()! : field.Value.GetString()!;
                var insensitive = field.Value.ValueKind == JsonValueKind.Object && field.Value.TryGetProperty("case_insensitive", out var ci) && ci.GetBoolean();
                var regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$", insensitive ? RegexOptions.IgnoreCase : RegexOptions.None);
                var type = FieldType(index, field.Name);
                if (type is null || ValueText(source, field.Name) is not { } text) return false;
                return type == "text" ? Analyze(text).Any(regex.IsMatch) : regex.IsMatch(text);
            }
            case "query_string":
            {
                var text = body.GetProperty("query").GetString()!;
                var defaultField = body.TryGetProperty("default_field", out var df) ? df.GetString()! : "*";
                var andDefault = body.TryGetProperty("default_operator", out var op) && op.GetString()!.Equals("AND", StringComparison.OrdinalIgnoreCase);
                var tree = new QueryStringParser(text, andDefault).Parse();
                return Evaluate(index, source, tree, defaultField);
            }
            default:
                throw new SearchError(400, "parsing_exception", $"unknown query [{clause.Name}]");
        }
    }

    private static IEnumerable<JsonElement> Clauses(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var c) ? [] : c.ValueKind == JsonValueKind.Array ? c.EnumerateArray() : [c];

    private bool Evaluate(FakeIndex index, JsonElement source, QsNode node, string defaultField) => node switch
    {
        QsAll => true,
        QsAnd a => Evaluate(index, source, a.Left, defaultField) && Evaluate(index, source, a.Right, defaultField),
        QsOr o => Evaluate(index, source, o.Left, defaultField) || Evaluate(index, source, o.Right, defaultField),
        QsNot n => !Evaluate(index, source, n.Inner, defaultField),
        QsTerm t => ClauseMatches(index, source, t.Field ?? defaultField, t.Text, t.Phrase),
        _ => false,
    };

    private static bool ClauseMatches(FakeIndex index, JsonElement source, string field, string text, bool phrase)
    {
        var type = FieldType(index, field);
        if (type is null || ValueText(source, field) is not { } value) return false;
        if (type is "keyword" or "ip") return value == text;
        if (type is "long" or "integer" or "float" or "double")
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && n == v;
        var tokens = Analyze(value);
        var wanted = Analyze(text);
        if (wanted.Count == 0) return false;
        if (!phrase) return wanted.Any(tokens.Contains); // an unquoted term that analyzes into several tokens: any of them (default OR)
        for (var i = 0; i + wanted.Count <= tokens.Count; i++)
            if (tokens.Skip(i).Take(wanted.Count).SequenceEqual(wanted)) return true;
        return false;
    }

    private abstract record QsNode;

    private sealed record QsAll : QsNode;

    private sealed record QsTerm(string? Field, string Text, bool Phrase) : QsNode;

    private sealed record QsAnd(QsNode Left, QsNode Right) : QsNode;

    private sealed record QsOr(QsNode Left, QsNode Right) : QsNode;

    private sealed record QsNot(QsNode Inner) : QsNode;

    /// <summary>Lucene's classic query parser for terms, phrases, fields, AND/OR/NOT, +/- and parentheses; anything else is a parse error.</summary>
    private sealed class QueryStringParser(string text, bool andDefault)
    {
        private int _at;

        public QsNode Parse()
        {
            SkipSpace();
            if (_at >= text.Length) return new QsAll();
            var node = ParseOr();
            SkipSpace();
            if (_at < text.Length) throw Error($"Encountered \" {text[_at]} \" at column {_at + 1}");
            return node;
        }

        private Exception Error(string reason) => new SearchError(400, "query_shard_exception", $"Failed to parse query [{text}]: {reason}");

        private void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private bool Keyword(string word)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0) return false;
            var end = _at + word.Length;
            if (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != '(') return false;
            _at = end;
            return true;
        }

        private QsNode ParseOr()
        {
            var left = ParseAnd();
            while (Keyword("OR")) left = new QsOr(left, ParseAnd());
            return left;
        }

        private QsNode ParseAnd()
        {
            var left = ParseUnary();
            while (true)
            {
                SkipSpace();
                if (_at >= text.Length || text[_at] == ')') return left;
                var save = _at;
                if (Keyword("OR"))
                {
                    _at = save;
                    return left;
                }
                if (Keyword("AND")) left = new QsAnd(left, ParseUnary());
                else left = andDefault ? new QsAnd(left, ParseUnary()) : new QsOr(left, ParseUnary());
            }
        }

        private QsNode ParseUnary()
        {
            SkipSpace();
            if (Keyword("NOT")) return new QsNot(ParseUnary());
            if (_at < text.Length && text[_at] == '-')
            {
                _at++;
                return new QsNot(ParseUnary());
            }
            if (_at < text.Length && text[_at] == '+') _at++;
            return ParsePrimary();
        }

        private QsNode ParsePrimary()
        {
            SkipSpace();
            if (_at >= text.Length) throw Error("Encountered \"<EOF>\"");
            if (text[_at] == '(')
            {
                _at++;
                var inner = ParseOr();
                SkipSpace();
                if (_at >= text.Length || text[_at] != ')') throw Error("Encountered \"<EOF>\" where ')' was expected");
                _at++;
                return inner;
            }
            string? field = null;
            var start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] is '_' or '.' or '@')) _at++;
            if (_at < text.Length && text[_at] == ':' && _at > start)
            {
                field = text[start.._at];
                _at++;
            }
            else _at = start;
            if (_at < text.Length && text[_at] == '"')
            {
                _at++;
                var phrase = new StringBuilder();
                while (true)
                {
                    if (_at >= text.Length) throw Error("Lexical error: unterminated phrase");
                    if (text[_at] == '\\' && _at + 1 < text.Length)
                    {
                        phrase.Append(text[_at + 1]);
                        _at += 2;
                        continue;
                    }
                    if (text[_at] == '"') break;
                    phrase.Append(text[_at++]);
                }
                _at++;
                return new QsTerm(field, phrase.ToString(), true);
            }
            var begin = _at;
            var term = new StringBuilder();
            while (_at < text.Length && !char.IsWhiteSpace(text[_at]) && text[_at] is not ('(' or ')'))
            {
                if (text[_at] == '\\' && _at + 1 < text.Length)
                {
                    term.Append(text[_at + 1]);
                    _at += 2;
                    continue;
                }
                if ("+-&|!{}[]^\"~*?:/".Contains(text[_at]) && !(text[_at] == '-' && _at > begin))
                    throw Error($"Cannot parse '{text}': Encountered \" \"{text[_at]}\" \" at column {_at + 1}");
                term.Append(text[_at++]);
            }
            if (term.Length == 0) throw Error($"Encountered \" {(_at < text.Length ? text[_at] : ' ')} \" at column {_at + 1}");
            return new QsTerm(field, term.ToString(), false);
        }
    }
}
