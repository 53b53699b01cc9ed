using System.Text;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Events and request contexts the protocol tests share.</summary>
internal static class Samples
{
    /// <summary>2023-11-14T22:13:20Z.</summary>
    public const long Now = 1_700_000_000_000;

    public static IngressContext Context { get; } = new("web", "conn-host", "10.0.0.9", "node-1", Now);

    public static ParseResult Ndjson(string body, IngressContext? context = null) =>
        EventParser.Parse(Encoding.UTF8.GetBytes(body), ContentKind.Ndjson, context ?? Context);

    public static ParseResult Json(string body, IngressContext? context = null) =>
        EventParser.Parse(Encoding.UTF8.GetBytes(body), ContentKind.Json, context ?? Context);

    /// <summary>Parses one NDJSON line that must succeed.</summary>
    public static LogEvent One(string line, IngressContext? context = null)
    {
        var result = Ndjson(line, context);
        Xunit.Assert.True(result.IsSuccess, result.ToString());
        return Xunit.Assert.Single(result.Events);
    }

    /// <summary>Parses one NDJSON line that must fail, and answers the error.</summary>
    public static string ErrorOf(string line)
    {
        var result = Ndjson(line);
        Xunit.Assert.False(result.IsSuccess, "expected an error, got " + result);
        Xunit.Assert.Equal(1, result.Line);
        return result.Error;
    }

    public static LogEvent Event(string message = "user 42 logged in", IReadOnlyDictionary<string, string>? attributes = null) => new()
    {
        Ts = 1_700_000_000_123,
        SystemTs = 1_700_000_000_456,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "auth",
        Type = "access",
        Version = "1.4.2",
        Level = "warn",
        Message = message,
        Attributes = attributes ?? new Dictionary<string, string> { ["user"] = "42", ["latency_ms"] = "12.5" },
        Lineage = new Lineage("node-1", 7),
    };

    /// <summary>A ~200-byte NDJSON line like the ones services post.</summary>
    public static string TypicalLine(int i) =>
        $$"""{"ts":{{1_700_000_000_000 + i}},"host":"web-01","process":"checkout","level":"info","msg":"order {{i}} placed by user 4711 in 23 ms","user":"4711","status":200,"path":"/api/orders","trace":"a3f9c2e17b4d"}""";

    /// <summary>
    /// A random event: every string field of random length, about one character in four taken from
    /// <paramref name="specials"/>, up to <paramref name="maxAttributes"/> attributes, a sender half the time.
    /// </summary>
    public static LogEvent RandomEvent(Random random, IReadOnlyList<string> specials, int maxAttributes = 6)
    {
        string Text(int max)
        {
            var length = random.Next(max);
            var text = new System.Text.StringBuilder(length);
            for (var i = 0; i < length; i++)
                text.Append(random.Next(4) == 0 ? specials[random.Next(specials.Count)] : ((char)random.Next(32, 127)).ToString());
            return text.ToString();
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = random.Next(maxAttributes); i > 0; i--) attributes[Text(30)] = Text(100);
        return new LogEvent
        {
            Ts = random.NextInt64(long.MinValue, long.MaxValue),
            SystemTs = random.NextInt64(0, 2_000_000_000_000),
            Host = Text(40),
            Ip = Text(20),
            Process = Text(30),
            Type = Text(20),
            Version = Text(10),
            Level = Text(8),
            Message = Text(500),
            Attributes = attributes.Count == 0 ? LogEvent.NoAttributes : attributes,
            Lineage = new Lineage(Text(20), random.NextInt64(long.MinValue, long.MaxValue), random.Next(2) == 0 ? null : Text(20)),
        };
    }
}
