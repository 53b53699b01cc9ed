using System.Text;

namespace NeverwinterDP.Host.Search;

/// <summary>
/// A <see cref="QueryNode"/> as a SQL condition over the columns <see cref="DuckDbSearch"/> selects, with every value
/// the user gave as a parameter (<c>?</c>, in order): a word match is <c>regexp_matches(column, ?)</c> whose pattern is
/// built here from the words (letters, digits and <c>_</c> only, so nothing in it is a regex operator).
/// </summary>
public static class DuckDbSql
{
    /// <summary>What separates words: anything but a letter, a digit or <c>_</c>.</summary>
    private const string NotWord = @"[^\p{L}\p{N}_]";

    public static string Condition(QueryNode node, List<object> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return node switch
        {
            MatchAll => "TRUE",
            Match m => MatchSql(m, parameters),
            And a => $"({Condition(a.Left, parameters)} AND {Condition(a.Right, parameters)})",
            Or o => $"({Condition(o.Left, parameters)} OR {Condition(o.Right, parameters)})",
            Not n => $"(NOT {Condition(n.Inner, parameters)})",
            _ => throw new ArgumentException($"unknown query node {node.GetType().Name}", nameof(node)),
        };
    }

    /// <summary>The RE2 pattern of a phrase: its words in order, separated by non-word characters, each whole, any case.</summary>
    public static string WordPattern(IReadOnlyList<string> words)
    {
        var pattern = new StringBuilder("(?i)(^|").Append(NotWord).Append(')');
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0) pattern.Append(NotWord).Append('+');
            foreach (var c in words[i])
            {
                if (!(char.IsLetterOrDigit(c) || c == '_' || char.IsSurrogate(c))) throw new ArgumentException($"'{words[i]}' is not a word", nameof(words));
                pattern.Append(c);
            }
        }
        return pattern.Append("($|").Append(NotWord).Append(')').ToString();
    }

    private static string MatchSql(Match m, List<object> parameters)
    {
        string column;
        if (m.Field.StartsWith("attributes.", StringComparison.Ordinal))
        {
            parameters.Add(m.Field["attributes.".Length..]);
            column = "map_extract_value(attributes, ?)";
        }
        else
        {
            // A fixed column name, never user text: the parser admits only these.
            column = m.Field switch
            {
                "msg" => "msg",
                "host" => "host",
                "process" => "process",
                "type" => "type",
                "level" => "level",
                "ip" => "ip",
                "version" => "version",
                _ => throw new ArgumentException($"unknown field {m.Field}", nameof(m)),
            };
        }
        parameters.Add(WordPattern(m.Words));
        return $"regexp_matches(coalesce({column}, ''), ?)";
    }
}
