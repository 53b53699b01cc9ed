using System.IO.Compression;
using System.Text;

namespace NeverwinterDP.Tests.Integration.Http;

/// <summary>One generated request: what it is (for the failure message), its headers and body.</summary>
public sealed record HostileRequest(string Kind, string? ContentType, string? ContentEncoding, byte[] Body, string Type, string? Key = null)
{
    /// <summary>The kind without its details (<c>wrong type</c> of <c>wrong type: 'ts' = []</c>), for the tally.</summary>
    public string Family => Kind.Split(':')[0];

    public override string ToString() =>
        $"{Kind} (Content-Type '{ContentType}', Content-Encoding '{ContentEncoding}', {Body.Length} bytes, type '{Escape(Type)}'" +
        $"{(Key is null ? "" : $", key '{Escape(Key)}'")}): {Escape(Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(Body.Length, 160))))}";

    private static string Escape(string s) =>
        string.Concat((s.Length > 60 ? s[..60] + "…" : s).Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}

/// <summary>
/// A seeded generator of hostile ingress requests (issue 13): random bytes, invalid and overlong UTF-8, deep
/// nesting, huge numbers, NUL and control characters, duplicate keys, a wrong JSON type for every known field,
/// lines from 0 B to several MiB, tens of thousands of attributes, odd types and keys, every Content-Type and
/// Content-Encoding, truncated and corrupt gzip, gzip bombs. The same seed gives the same requests.
/// </summary>
public sealed class HostileRequests(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>Every field the parser knows by name (EventParser's remarks).</summary>
    public static readonly string[] KnownFields =
        ["ts", "@timestamp", "timestamp", "time", "date", "host", "ip", "process", "type", "version", "level", "msg", "message", "log", "attributes"];

    /// <summary>One JSON value of every type, some at the edges of what a reader takes.</summary>
    public static readonly string[] AnyValues =
    [
        "0", "-1", "1.5", "-0", "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "9223372036854775808", "-9223372036854775809",
        "1E+308", "4.9e-324", "true", "false", "null", "[]", "[1,\"a\",null]", "{}", "{\"a\":{\"b\":[1,2]}}", "\"\"", "\"text\"",
        "\"2026-12-05T16:41:26Z\"", "\"not a date\"", "\"9999-12-31T23:59:59.9999999Z\"", "\"0000-01-01T00:00:00Z\"", "\"\\u0000\"",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/x-ndjson", "application/json", "application/x-ndjson; charset=utf-8", "application/json; charset=latin1", "APPLICATION/JSON",
        "text/plain", "application/octet-stream", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "", "application/",
        "application/x-ndjson; charset=", ";;;",
    ];

    private static readonly string?[] ContentEncodings = [null, "identity", "gzip", "GZIP", "x-gzip", "deflate", "br", "gzip, gzip", "zstd", "gzip;q=1"];

    /// <summary>Odd values for the type (query and field) and the partition key.</summary>
    private static readonly string[] OddNames =
    [
        "fuzz", "FUZZ", "Fuzz", "../fuzz", "a/b", "a\\b", "..", ".", "", " ", "fu zz", "fuzz\u0000x", "\u0000", "fuzz\n", "💥", "café", "CAFÉ",
        new string('t', 5000), "%2e%2e%2f", "con", "nul", "fuzz:1", "__consumer_offsets", "-", "_", "a.b.c",
    ];

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private string Msg() => $"\"msg\":\"fuzz-{_random.Next():x8}\"";

    private string ValidLine() => _random.Next(4) switch
    {
        0 => $"{{{Msg()}}}",
        1 => $"{{\"host\":\"h{_random.Next(10)}\",\"level\":\"info\",{Msg()},\"n\":{_random.Next()}}}",
        2 => $"{{\"ts\":{1_700_000_000_000L + _random.Next()},\"process\":\"p\",{Msg()},\"attributes\":{{\"a\":\"b\"}}}}",
        _ => $"{{\"@timestamp\":\"2026-12-05T16:41:26.123Z\",\"message\":\"m-{_random.Next()}\",\"tags\":[1,2,3]}}",
    };

    /// <summary>The next request; <paramref name="large"/> allows bodies of several MiB.</summary>
    public HostileRequest Next(bool large)
    {
        var generators = new Func<HostileRequest>[]
        {
            Valid, Valid, Valid, RandomBytes, InvalidUtf8, DeepNesting, HugeNumbers, ControlCharacters, DuplicateKeys, WrongType, WrongType, WrongType,
            ManyAttributes, OddTypeAndKey, OddTypeAndKey, HeadersMatrix, HeadersMatrix, CorruptGzip, CorruptGzip, Mixed, JsonArray, EmptyAndBlank,
        };
        if (large && _random.Next(3) == 0) return _random.Next(3) == 0 ? GzipBomb() : LongLine();
        return generators[_random.Next(generators.Length)]();
    }

    private HostileRequest Ndjson(string kind, byte[] body, string? type = null, string? key = null) =>
        new(kind, _random.Next(2) == 0 ? "application/x-ndjson" : "application/x-ndjson; charset=utf-8", null, body, type ?? "fuzz", key);

    private HostileRequest Valid()
    {
        var lines = Enumerable.Range(0, 1 + _random.Next(50)).Select(_ => ValidLine());
        var body = U(string.Join(_random.Next(3) == 0 ? "\r\n" : "\n", lines) + (_random.Next(2) == 0 ? "\n" : ""));
        return _random.Next(4) == 0 ? new("valid gzip", "application/x-ndjson", "gzip", Gzip(body), "fuzz") : Ndjson("valid", body);
    }

    private HostileRequest RandomBytes()
    {
        var body = new byte[_random.Next(0, 4096)];
        _random.NextBytes(body);
        return new("random bytes", Pick(new[] { "application/x-ndjson", "application/json" }), null, body, "fuzz");
    }

    private HostileRequest InvalidUtf8()
    {
        byte[][] bad =
        [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xFE],
            [0x80], [0xC3], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80],
        ];
        var seq = Pick(bad);
        var where = _random.Next(4);
        var line = where switch
        {
            0 => [.. U("{\"msg\":\"a"), .. seq, .. U("b\"}")],
            1 => [.. U("{\"k"), .. seq, .. U("\":1,\"msg\":\"x\"}")],
            2 => [.. U($"{{\"{Pick(KnownFields)}\":\""), .. seq, .. U("\",\"msg\":\"x\"}")],
            _ => (byte[])[.. U("{\"msg\":\"x\"}"), .. seq],
        };
        return Ndjson("invalid utf-8", [.. U(ValidLine() + "\n"), .. line, (byte)'\n']);
    }

    private HostileRequest DeepNesting()
    {
        var depth = Pick(new[] { 63, 64, 65, 1000, 100_000 });
        var array = _random.Next(2) == 0;
        var open = array ? "[" : "{\"a\":";
        var close = array ? "]" : "}";
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        var field = _random.Next(3) == 0 ? Pick(KnownFields) : "deep";
        return Ndjson($"nesting: {depth}", U($"{{\"msg\":\"x\",\"{field}\":{nested}}}\n"));
    }

    private HostileRequest HugeNumbers()
    {
        string[] numbers = ["1e400", "-1e400", new string('9', _random.Next(20, 5000)), "1" + new string('0', 400) + ".5", "0.000000000000000000000000000001e-400", "-0.0",
            "123456789012345678901234567890e-20", "1.7976931348623157e308", "18446744073709551616"];
        var field = Pick(new[] { "ts", "@timestamp", "timestamp", "time", "date", "n", "version", "level" });
        return Ndjson("huge number", U($"{{\"msg\":\"x\",\"{field}\":{Pick(numbers)}}}\n"));
    }

    private HostileRequest ControlCharacters()
    {
        var c = (char)_random.Next(0, 32);
        var body = _random.Next(3) switch
        {
            0 => U($"{{\"msg\":\"a\\u{(int)c:x4}b\",\"host\":\"h\\u0000\"}}\n"), // escaped: valid JSON
            1 => [.. U("{\"msg\":\"a"), (byte)c, .. U("b\"}\n")], // raw: not valid JSON
            _ => [.. U(ValidLine()), 0, .. U("\n" + ValidLine() + "\n")], // a NUL between lines
        };
        return Ndjson("control characters", body);
    }

    private HostileRequest DuplicateKeys()
    {
        var field = Pick(KnownFields);
        var a = Pick(AnyValues);
        var b = Pick(AnyValues);
        return Ndjson($"duplicate: '{field}'", U($"{{\"msg\":\"first\",\"{field}\":{a},\"{field}\":{b},\"msg\":\"second\"}}\n"));
    }

    private HostileRequest WrongType()
    {
        var field = Pick(KnownFields);
        var value = Pick(AnyValues);
        var msg = field is "msg" or "message" or "log" ? "" : "\"msg\":\"x\",";
        var line = $"{{{msg}\"{field}\":{value}}}";
        return Ndjson($"wrong type: '{field}' = {value}", U(ValidLine() + "\n" + line + "\n"));
    }

    private HostileRequest ManyAttributes()
    {
        var n = _random.Next(2) == 0 ? 20_000 : _random.Next(100, 2000);
        var sb = new StringBuilder("{\"msg\":\"many\"");
        var nested = _random.Next(2) == 0;
        if (nested) sb.Append(",\"attributes\":{");
        for (var i = 0; i < n; i++) sb.Append(nested && i == 0 ? "" : ",").Append($"\"k{i}\":\"v{i}\"");
        if (nested) sb.Append('}');
        sb.Append("}\n");
        return Ndjson($"attributes: {n}", U(sb.ToString()));
    }

    private HostileRequest OddTypeAndKey()
    {
        var name = Pick(OddNames);
        var inBody = _random.Next(2) == 0;
        var key = _random.Next(2) == 0 ? Pick(OddNames) : null;
        // Header values must be Latin-1 without controls to be sent at all; the raw-socket cases send the rest.
        if (key is not null && key.Any(c => c < 0x20 || c > 0x7e)) key = "k-" + key.Length;
        return inBody
            ? Ndjson("odd type in the body", U($"{{\"msg\":\"x\",\"type\":{Quote(name)}}}\n"), key: key)
            : Ndjson("odd type in the query", U(ValidLine() + "\n"), type: name, key: key);
    }

    private HostileRequest HeadersMatrix()
    {
        var type = Pick(ContentTypes);
        var encoding = Pick(ContentEncodings);
        var body = U(ValidLine() + "\n");
        if (encoding is not null && encoding.StartsWith("gzip", StringComparison.OrdinalIgnoreCase) && _random.Next(2) == 0) body = Gzip(body);
        return new("headers", type, encoding, body, "fuzz");
    }

    private HostileRequest CorruptGzip()
    {
        var good = Gzip(U(string.Join("\n", Enumerable.Range(0, 20).Select(_ => ValidLine())) + "\n"));
        var body = _random.Next(5) switch
        {
            0 => good[..Math.Max(0, good.Length - 1 - _random.Next(good.Length))], // truncated
            1 => good.Select((b, i) => i == 10 + _random.Next(good.Length - 10) ? (byte)(b ^ (1 + _random.Next(255))) : b).ToArray(), // a flipped byte
            2 => [.. good, .. U("trailing garbage")],
            3 => [0x1f, 0x8b, 8, 0, .. U("not deflate at all")],
            _ => U(ValidLine() + "\n"), // plain text declared gzip
        };
        return new("corrupt gzip", "application/x-ndjson", "gzip", body, "fuzz");
    }

    private HostileRequest Mixed()
    {
        var lines = Enumerable.Range(0, 2 + _random.Next(20)).Select(_ => ValidLine()).ToList();
        var broken = _random.Next(lines.Count);
        lines[broken] = Pick(new[] { "{", "[1]", "\"s\"", "{\"msg\":1}", "{\"host\":\"h\"}", "null", "{}", "{\"msg\":\"x\"} {}", "{\"msg\":\"x\",}" });
        return Ndjson($"broken line: {broken + 1}", U(string.Join("\n", lines) + "\n"));
    }

    private HostileRequest JsonArray()
    {
        var items = Enumerable.Range(0, 1 + _random.Next(20)).Select(_ => ValidLine()).ToList();
        var body = _random.Next(4) switch
        {
            0 => "[" + string.Join(",", items) + "]",
            1 => items[0],
            2 => "[" + string.Join(",", items) + ",1]",
            _ => "[" + string.Join(",", items),
        };
        return new("json", "application/json", null, U(body), "fuzz");
    }

    private HostileRequest EmptyAndBlank() =>
        Ndjson("blank", U(Pick(new[] { "", "\n", "\n\n\r\n \t\n", " ", "\uFEFF", "\uFEFF" + ValidLine() })));

    private HostileRequest LongLine()
    {
        var size = Pick(new[] { 64 * 1024, 512 * 1024, 900 * 1024, 3 << 20, 6 << 20 });
        var gzip = _random.Next(2) == 0;
        var body = U($"{{\"msg\":\"{new string('x', size)}\"}}\n");
        return gzip ? new($"long line: {size} bytes, gzip", "application/x-ndjson", "gzip", Gzip(body), "fuzz") : Ndjson($"long line: {size} bytes", body);
    }

    /// <summary>200 MiB of zeros in about 200 KiB.</summary>
    private static readonly Lazy<byte[]> ZerosBomb = new(() => GzipRepeated(new byte[1 << 20], 200));

    /// <summary>100 MiB of valid lines (past the 64 MiB inflated limit) in a few hundred KiB.</summary>
    private static readonly Lazy<byte[]> LinesBomb = new(() =>
        GzipRepeated(U(string.Concat(Enumerable.Repeat("{\"msg\":\"bomb bomb bomb bomb bomb bomb bomb bomb bomb bomb\"}\n", (1 << 20) / 64))), 100));

    private static byte[] GzipRepeated(byte[] block, int times)
    {
        var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            for (var i = 0; i < times; i++) z.Write(block);
        return ms.ToArray();
    }

    private HostileRequest GzipBomb() => _random.Next(2) == 0
        ? new("gzip bomb: zeros", "application/x-ndjson", "gzip", ZerosBomb.Value, "fuzz")
        : new("gzip bomb: lines", "application/x-ndjson", "gzip", LinesBomb.Value, "fuzz");

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }
}
