using NeverwinterDP.Host.Search;
using Xunit;

namespace NeverwinterDP.Tests.Search;

public class SearchQueryParserTests
{
    /// <summary>The tree with the clauses' original text dropped (compared by fields and words).</summary>
    private static string Shape(QueryNode node) => node switch
    {
        MatchAll => "*",
        Match m => $"{m.Field}:[{string.Join(' ', m.Words)}]",
        And a => $"({Shape(a.Left)} & {Shape(a.Right)})",
        Or o => $"({Shape(o.Left)} | {Shape(o.Right)})",
        Not n => $"!{Shape(n.Inner)}",
        _ => throw new ArgumentException(node.ToString()),
    };

    [Theory]
    [InlineData("", "*")]
    [InlineData("   ", "*")]
    [InlineData("timeout", "msg:[timeout]")]
    [InlineData("Timeout DB", "(msg:[timeout] & msg:[db])")]
    [InlineData("\"connection reset\"", "msg:[connection reset]")]
    [InlineData("host:web-01", "host:[web 01]")]
    [InlineData("level:error AND host:\"web 01\"", "(level:[error] & host:[web 01])")]
    [InlineData("a OR b c", "(msg:[a] | (msg:[b] & msg:[c]))")]
    [InlineData("(a OR b) c", "((msg:[a] | msg:[b]) & msg:[c])")]
    [InlineData("NOT level:debug", "!level:[debug]")]
    [InlineData("error -level:debug", "(msg:[error] & !level:[debug])")]
    [InlineData("attributes.user_id:4711", "attributes.user_id:[4711]")]
    [InlineData("msg:\"say \\\"hi\\\"\"", "msg:[say hi]")]
    [InlineData("ünïcode", "msg:[ünïcode]")]
    public void A_query_parses_into_field_clauses_with_AND_binding_tighter_than_OR(string q, string shape) =>
        Assert.Equal(shape, Shape(SearchQueryParser.Parse(q)));

    [Theory]
    [InlineData("user:bob", "unknown field 'user'")]
    [InlineData("attributes.:x", "unknown field")]
    [InlineData("msg:", "has no value")]
    [InlineData("\"open", "not closed")]
    [InlineData("(a OR b", "not closed")]
    [InlineData("a)", "unexpected ')'")]
    [InlineData("time*", "'*' at 5 is not supported")]
    [InlineData("te?t", "'?'")]
    [InlineData("a AND", "ends where a clause is expected")]
    [InlineData("OR a", "OR at 1 has no clause")]
    [InlineData("--", "ends where a clause is expected")]
    [InlineData("\"--\"", "holds no word")]
    [InlineData("status:[400 TO 500]", "'[' at 8 is not supported")]
    [InlineData("msg:[400 TO 500]", "'[' at 5 is not supported")]
    [InlineData("a^2", "'^'")]
    public void A_query_outside_the_syntax_is_refused_saying_where(string q, string message)
    {
        var e = Assert.Throws<QuerySyntaxException>(() => SearchQueryParser.Parse(q));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_rather_than_recursing_without_bound()
    {
        var e = Assert.Throws<QuerySyntaxException>(() => SearchQueryParser.Parse(new string('(', 100) + "a" + new string(')', 100)));
        Assert.Contains("nested more than", e.Message);
        Assert.Throws<QuerySyntaxException>(() => SearchQueryParser.Parse(string.Concat(Enumerable.Repeat("NOT ", 100)) + "a"));
    }

    [Fact]
    public void The_SQL_carries_every_user_value_as_a_parameter_and_never_in_its_text()
    {
        var evil = "x'); DROP TABLE t; --";
        var query = SearchQueryParser.Parse($"host:\"{evil}\" OR NOT attributes.k:\"{evil}\" \"{evil}\"");
        var parameters = new List<object>();
        var sql = DuckDbSql.Condition(query, parameters);

        Assert.DoesNotContain("DROP", sql);
        Assert.Equal(
            "(regexp_matches(coalesce(host, ''), ?) OR ((NOT regexp_matches(coalesce(map_extract_value(attributes, ?), ''), ?)) AND regexp_matches(coalesce(msg, ''), ?)))",
            sql);
        var pattern = DuckDbSql.WordPattern(["x", "drop", "table", "t"]);
        Assert.Equal([pattern, "k", pattern, pattern], parameters);
        Assert.Equal(@"(?i)(^|[^\p{L}\p{N}_])x[^\p{L}\p{N}_]+drop[^\p{L}\p{N}_]+table[^\p{L}\p{N}_]+t($|[^\p{L}\p{N}_])", pattern);
    }

    [Fact]
    public void A_word_pattern_is_refused_anything_but_words()
    {
        Assert.Throws<ArgumentException>(() => DuckDbSql.WordPattern(["a.*"]));
        Assert.Throws<ArgumentException>(() => DuckDbSql.WordPattern(["(?s)"]));
    }

    [Fact]
    public void The_query_string_sent_to_Elasticsearch_quotes_every_clause_so_no_user_text_is_syntax()
    {
        var query = SearchQueryParser.Parse("level:error (timeout OR \"a \\\"b\\\" c\") -host:web-01");
        Assert.Equal("((level:\"error\" AND (msg:\"timeout\" OR msg:\"a \\\"b\\\" c\")) AND (NOT host:\"web-01\"))", ElasticsearchQuery.QueryString(query));
        Assert.Null(ElasticsearchQuery.QueryString(new MatchAll()));
    }

    [Theory]
    [InlineData("logs-{type}-{yyyy.MM.dd}", "*", "logs-*-*")]
    [InlineData("logs-{type}-{yyyy.MM.dd}", "web", "logs-web-*")]
    [InlineData("logs-{type}-{yyyy.MM.dd}", "Web-?", "logs-web-*-*")]
    [InlineData("nwdp-{yyyy.MM}-{type}", "api*", "nwdp-*-api*")]
    [InlineData("Events", "web", "events")]
    public void The_index_pattern_is_the_sinks_template_with_the_type_glob_and_any_date(string template, string glob, string pattern) =>
        Assert.Equal(pattern, ElasticsearchQuery.IndexPattern(template, glob));

    private static readonly SearchOptions Options = new() { DefaultLimit = 50, MaxLimit = 500, MaxQueryChars = 64 };
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static SearchRequest Parse(params (string Name, string Value)[] parameters) =>
        SearchRequest.Parse(n => parameters.FirstOrDefault(p => p.Name == n).Value, Options, Now);

    [Fact]
    public void Request_parameters_default_and_read_times_in_three_forms()
    {
        var r = Parse();
        Assert.Equal(("*", 50, (long?)null, (long?)null, 0), (r.TypeGlob, r.Limit, r.FromMs, r.ToMs, r.Cursor.Skip));
        r = Parse(("from", "2026-12-05T10:00:00Z"), ("to", "1796472000000"), ("limit", "500"), ("type", "web-*"));
        Assert.Equal((Now.AddHours(-2).ToUnixTimeMilliseconds(), 1796472000000L, 500), (r.FromMs!.Value, r.ToMs!.Value, r.Limit));
        Assert.Equal(Now.AddMinutes(-15).ToUnixTimeMilliseconds(), Parse(("from", "15m")).FromMs);
        Assert.True(r.TypeMatches("web-api") && r.TypeMatches("WEB-x") && !r.TypeMatches("web") && !r.TypeMatches("api-web-1"));
    }

    [Theory]
    [InlineData("type", "web[0-9]", "type")]
    [InlineData("type", "web,api", "type")]
    [InlineData("type", "a/b", "type")]
    [InlineData("limit", "501", "limit")]
    [InlineData("limit", "0", "limit")]
    [InlineData("limit", "ten", "limit")]
    [InlineData("q", "user:bob", "q")]
    [InlineData("q", "0123456789012345678901234567890123456789012345678901234567890123456789", "q")]
    [InlineData("from", "yesterday", "from")]
    [InlineData("to", "2026-13-01", "to")]
    [InlineData("cursor", "not-a-cursor", "cursor")]
    public void A_bad_parameter_is_refused_naming_it(string name, string value, string named)
    {
        var e = Assert.Throws<SearchRequestException>(() => Parse((name, value)));
        Assert.Equal(named, e.Parameter);
    }

    [Fact]
    public void From_after_to_is_refused_naming_from()
    {
        var e = Assert.Throws<SearchRequestException>(() => Parse(("from", "2h"), ("to", "3h")));
        Assert.Equal("from", e.Parameter);
        Assert.Contains("is after to", e.Message);
    }

    [Fact]
    public void A_cursor_backs_up_to_before_the_run_of_ties_that_ends_a_page_so_the_next_page_neither_loses_nor_repeats_them()
    {
        var start = new SearchCursor(null, 0);
        // Keys of a page of 4: the last two tie.
        var next = SearchCursor.Next(start, [[9, 9, 9], [8, 8, 8], [7, 7, 7], [7, 7, 7]]);
        Assert.Equal([8L, 8L, 8L], next.After!);
        Assert.Equal(2, next.Skip);
        // A page that is one run of ties keeps the previous key and skips further.
        var again = SearchCursor.Next(next, [[7, 7, 7], [7, 7, 7], [7, 7, 7], [7, 7, 7], [7, 7, 7], [7, 7, 7]]);
        Assert.Equal([8L, 8L, 8L], again.After!);
        Assert.Equal(6, again.Skip);
        var decoded = SearchCursor.Decode(again.Encode());
        Assert.Equal(again.After, decoded.After);
        Assert.Equal(again.Skip, decoded.Skip);
    }
}
