using System.Text;

namespace NeverwinterDP.Host.Search;

/// <summary>
/// A parsed <c>q</c> (docs/search.md): clauses that match words of a field, combined with AND, OR and NOT. Both
/// backends evaluate the same tree: DuckDB as parameterised SQL (<see cref="DuckDbSql"/>), Elasticsearch as a
/// <c>query_string</c> written back from it (<see cref="ElasticsearchQuery"/>), never the user's text as given.
/// </summary>
public abstract record QueryNode;

/// <summary>Every event (an empty <c>q</c>).</summary>
public sealed record MatchAll : QueryNode;

/// <summary>
/// The words of <see cref="Words"/> appear in <see cref="Field"/> one after the other, each whole, case-insensitively
/// (a bare term is a phrase of one word; <c>foo-bar</c> is the phrase "foo bar").
/// </summary>
public sealed record Match(string Field, IReadOnlyList<string> Words, string Text) : QueryNode;

public sealed record And(QueryNode Left, QueryNode Right) : QueryNode;

public sealed record Or(QueryNode Left, QueryNode Right) : QueryNode;

public sealed record Not(QueryNode Inner) : QueryNode;

/// <summary>A <c>q</c> outside the supported syntax; the message says where and why.</summary>
public sealed class QuerySyntaxException(string message) : Exception(message);

/// <summary>
/// The <c>q</c> syntax: <c>word</c>, <c>"a phrase"</c>, <c>field:word</c>, <c>field:"a phrase"</c>, <c>AND</c>,
/// <c>OR</c>, <c>NOT</c> (or a leading <c>-</c>), parentheses; clauses side by side are ANDed; AND binds tighter than
/// OR. Fields: <c>msg</c> (the default), <c>host</c>, <c>process</c>, <c>type</c>, <c>level</c>, <c>ip</c>,
/// <c>version</c>, <c>attributes.KEY</c>. Wildcards, ranges, regexes, boosts and fuzziness are refused.
/// </summary>
public static class SearchQueryParser
{
    /// <summary>The fields a clause may name, besides <c>attributes.KEY</c>.</summary>
    public static readonly IReadOnlyList<string> Fields = ["msg", "host", "process", "type", "level", "ip", "version"];

    public const string DefaultField = "msg";

    private const int MaxDepth = 32;

    /// <exception cref="QuerySyntaxException">The text is outside the syntax.</exception>
    public static QueryNode Parse(string? text)
    {
        var tokens = Lex(text ?? "");
        if (tokens.Count == 0) return new MatchAll();
        var parser = new Parser(tokens);
        var node = parser.ParseOr(0);
        if (parser.Position < tokens.Count) throw new QuerySyntaxException($"unexpected {Describe(tokens[parser.Position])} at {tokens[parser.Position].At + 1}");
        return node;
    }

    /// <summary>The words of a value: runs of letters, digits and <c>_</c>, lower-cased (what both backends match on).</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) || rune.Value == '_') current.Append(Rune.ToLowerInvariant(rune).ToString());
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }

    /// <summary>Whether a field name is one a clause may use.</summary>
    public static bool IsField(string field) =>
        Fields.Contains(field) || (field.StartsWith("attributes.", StringComparison.Ordinal) && field.Length > "attributes.".Length
                                   && field["attributes.".Length..].All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));

    private enum Kind
    {
        Word,
        Phrase,
        Colon,
        Open,
        Close,
        Minus,
    }

    private readonly record struct Token(Kind Kind, string Text, int At);

    private static string Describe(Token token) => token.Kind switch
    {
        Kind.Word => $"'{token.Text}'",
        Kind.Phrase => $"\"{token.Text}\"",
        Kind.Colon => "':'",
        Kind.Open => "'('",
        Kind.Close => "')'",
        _ => "'-'",
    };

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            switch (c)
            {
                case '(':
                    tokens.Add(new Token(Kind.Open, "(", i++));
                    continue;
                case ')':
                    tokens.Add(new Token(Kind.Close, ")", i++));
                    continue;
                case ':':
                    tokens.Add(new Token(Kind.Colon, ":", i++));
                    continue;
                case '-':
                    // A '-' that starts a token negates the clause after it (as in query_string); inside a word it is text.
                    tokens.Add(new Token(Kind.Minus, "-", i++));
                    continue;
                case '"':
                {
                    var start = i++;
                    var phrase = new StringBuilder();
                    while (true)
                    {
                        if (i >= text.Length) throw new QuerySyntaxException($"the phrase opened at {start + 1} is not closed");
                        if (text[i] == '\\' && i + 1 < text.Length)
                        {
                            phrase.Append(text[i + 1]);
                            i += 2;
                            continue;
                        }
                        if (text[i] == '"') break;
                        phrase.Append(text[i++]);
                    }
                    i++;
                    tokens.Add(new Token(Kind.Phrase, phrase.ToString(), start));
                    continue;
                }
            }
            var begin = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or ':' or '"'))
            {
                if (text[i] is '*' or '?' or '~' or '^' or '[' or ']' or '{' or '}' or '\\' or '/' or '+' or '=' or '<' or '>' or '!' or '&' or '|')
                    throw new QuerySyntaxException($"'{text[i]}' at {i + 1} is not supported (no wildcards, ranges, regexes, boosts or fuzziness; quote it to search for it as text)");
                i++;
            }
            tokens.Add(new Token(Kind.Word, text[begin..i], begin));
        }
        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        public int Position { get; private set; }

        private Token? Peek => Position < tokens.Count ? tokens[Position] : null;

        private bool IsKeyword(string keyword) => Peek is { Kind: Kind.Word } t && t.Text == keyword;

        public QueryNode ParseOr(int depth)
        {
            var left = ParseAnd(depth);
            while (IsKeyword("OR"))
            {
                Position++;
                left = new Or(left, ParseAnd(depth));
            }
            return left;
        }

        private QueryNode ParseAnd(int depth)
        {
            var left = ParseUnary(depth);
            while (Peek is { } next && next.Kind != Kind.Close && !IsKeyword("OR"))
            {
                if (IsKeyword("AND")) Position++;
                left = new And(left, ParseUnary(depth));
            }
            return left;
        }

        private QueryNode ParseUnary(int depth)
        {
            if (depth > MaxDepth) throw new QuerySyntaxException($"nested more than {MaxDepth} deep");
            if (IsKeyword("NOT") || Peek is { Kind: Kind.Minus })
            {
                Position++;
                return new Not(ParseUnary(depth + 1));
            }
            return ParsePrimary(depth);
        }

        private QueryNode ParsePrimary(int depth)
        {
            if (Peek is not { } token) throw new QuerySyntaxException("the query ends where a clause is expected");
            switch (token.Kind)
            {
                case Kind.Open:
                {
                    Position++;
                    var inner = ParseOr(depth + 1);
                    if (Peek is not { Kind: Kind.Close }) throw new QuerySyntaxException($"the '(' at {token.At + 1} is not closed");
                    Position++;
                    return inner;
                }
                case Kind.Phrase:
                    Position++;
                    return Clause(DefaultField, token);
                case Kind.Word when token.Text is "AND" or "OR" or "NOT":
                    throw new QuerySyntaxException($"{token.Text} at {token.At + 1} has no clause before or after it");
                case Kind.Word:
                    Position++;
                    if (Peek is { Kind: Kind.Colon })
                    {
                        Position++;
                        if (!IsField(token.Text))
                            throw new QuerySyntaxException($"unknown field '{token.Text}' at {token.At + 1}: use {string.Join(", ", Fields)} or attributes.KEY (KEY of letters, digits, _)");
                        if (Peek is not { Kind: Kind.Word or Kind.Phrase } value || value.Text is "AND" or "OR" or "NOT" && value.Kind == Kind.Word)
                            throw new QuerySyntaxException($"'{token.Text}:' at {token.At + 1} has no value after it");
                        Position++;
                        return Clause(token.Text, value);
                    }
                    return Clause(DefaultField, token);
                default:
                    throw new QuerySyntaxException($"unexpected {Describe(token)} at {token.At + 1}");
            }
        }

        private static Match Clause(string field, Token value)
        {
            var words = Words(value.Text);
            if (words.Count == 0) throw new QuerySyntaxException($"{Describe(value)} at {value.At + 1} holds no word (letters, digits or _) to match");
            return new Match(field, words, value.Text);
        }
    }
}
