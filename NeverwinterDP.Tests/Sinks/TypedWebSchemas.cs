using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Tests.Sinks;

/// <summary>
/// The typed log type the sinks' typed-column tests share (docs/schemas.md): version 1, then 2, which adds an optional
/// field and promotes <c>status</c> to long.
/// </summary>
internal static class TypedWebSchemas
{
    public const string V1 = """
        {"type":"record","name":"Web","fields":[{"name":"status","type":"int"},{"name":"bytes","type":"long"},
         {"name":"latency_ms","type":"double"},{"name":"ratio","type":"float"},{"name":"cached","type":"boolean","default":false},
         {"name":"user","type":["null","string"],"default":null}]}
        """;

    public const string V2 = """
        {"type":"record","name":"Web","fields":[{"name":"status","type":"long"},{"name":"bytes","type":"long"},
         {"name":"latency_ms","type":"double"},{"name":"ratio","type":"float"},{"name":"cached","type":"boolean","default":false},
         {"name":"user","type":["null","string"],"default":null},{"name":"region","type":["null","string"],"default":null}]}
        """;

    /// <summary>A schema of type <c>web</c> with these attributes, under an id of its own (ids are process-wide: <see cref="TypedLogSchemas"/>).</summary>
    public static TypedLogSchema Compile(string attributes) =>
        TypedLogSchemas.Remember(TypedLogSchema.TryCompile(Random.Shared.Next(1_500_000_000, 2_000_000_000), TypedLogSchema.Wrap("web", attributes), out var why)
            ?? throw new InvalidOperationException(why));

    /// <summary>A record as the pump hands it over: <paramref name="plain"/> encoded by ingress under the schema, decoded from its frame.</summary>
    public static SinkRecord Record(TypedLogSchema schema, string topic, long offset, LogEvent plain) =>
        new(topic, 0, offset, LogEventAvro.DecodeFramed(schema.TryEncodeFramed(plain) ?? throw new InvalidOperationException("does not fit")));

    /// <summary>2024-03-05T10:00Z, the hour the typed-column tests write in.</summary>
    public static readonly long TenOClock = new DateTimeOffset(2024, 3, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>A plain event of <paramref name="type"/> at <see cref="TenOClock"/> + <paramref name="offset"/> ms, to encode under a schema or store as it is.</summary>
    public static LogEvent Event(long offset, string type = "web", IReadOnlyDictionary<string, string>? attributes = null) => new()
    {
        Ts = TenOClock + offset - 5,
        SystemTs = TenOClock + offset,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = type,
        Version = "2.1.0",
        Level = "info",
        Message = $"message {offset}",
        Attributes = attributes ?? new Dictionary<string, string> { ["user"] = "4711", ["path"] = "/plain" },
        Lineage = new Lineage("node-3", 500 + offset),
    };

    /// <summary>A log type of every kind beyond the primitives: the logical types, an enum and bytes (the sinks' tests of them share it).</summary>
    public const string Logical = """
        {"type":"record","name":"Order","fields":[
          {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"at_us","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
          {"name":"day","type":{"type":"int","logicalType":"date"}},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
          {"name":"order_id","type":{"type":"string","logicalType":"uuid"}},
          {"name":"state","type":{"type":"enum","name":"State","symbols":["NEW","PAID","SHIPPED"]}},
          {"name":"blob","type":["null","bytes"],"default":null}
        ]}
        """;

    /// <summary>Values of <see cref="Logical"/> as ingress takes them (an ISO time with an offset, a date, the exact decimal, any-case uuid, base64).</summary>
    public static Dictionary<string, string> LogicalValues() => new()
    {
        ["at"] = "2026-12-07T12:00:00.123Z", ["at_us"] = "2026-12-07T13:00:00.123456+01:00", ["day"] = "2026-12-07",
        ["price"] = "-1234.5", ["order_id"] = "0F8FAD5B-D9CB-469F-A165-70867728950E", ["state"] = "PAID", ["blob"] = "AAH/Ig==", ["path"] = "/x",
    };

    /// <summary>What <see cref="LogicalValues"/> mean: 2026-12-07 12:00:00.123 UTC, and .123456 for the micros.</summary>
    public static readonly DateTime At = new(2026, 12, 7, 12, 0, 0, 123, DateTimeKind.Utc);

    public static readonly DateTime AtMicros = At.AddTicks(4560);

    public static readonly byte[] Blob = [0, 1, 255, 34];

    public const string OrderId = "0f8fad5b-d9cb-469f-a165-70867728950e";

    /// <summary>A log type of arrays and maps (the sinks' tests of them share it); version 2 promotes <c>codes</c> to longs and adds a map.</summary>
    public const string Basket = """
        {"type":"record","name":"Basket","fields":[
          {"name":"codes","type":{"type":"array","items":"int"}},
          {"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},
          {"name":"counts","type":{"type":"map","values":"long"}},
          {"name":"seen","type":{"type":"array","items":{"type":"long","logicalType":"timestamp-millis"}},"default":[]}
        ]}
        """;

    public const string BasketV2 = """
        {"type":"record","name":"Basket","fields":[
          {"name":"codes","type":{"type":"array","items":"long"}},
          {"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},
          {"name":"counts","type":{"type":"map","values":"long"}},
          {"name":"seen","type":{"type":"array","items":{"type":"long","logicalType":"timestamp-millis"}},"default":[]},
          {"name":"notes","type":["null",{"type":"map","values":"string"}],"default":null}
        ]}
        """;

    /// <summary>Values of <see cref="Basket"/> as a sender's JSON gives them (an array's or object's JSON text); the tags need quoting in every store's syntax.</summary>
    public static Dictionary<string, string> BasketValues() => new()
    {
        ["codes"] = "[200, \"404\", -1]", ["tags"] = """["a", "b \"q\" \\ c", "x,y", "{}", "NULL"]""", ["counts"] = """{"apples": 3, "pears": 12}""",
        ["seen"] = """["2026-12-07T12:00:00.123Z"]""", ["path"] = "/basket",
    };

    /// <summary>Arrays and a map of the logical types, bytes and an enum (what the stores' literals and casts must carry exactly).</summary>
    public const string LogicalItems = """
        {"type":"record","name":"Items","fields":[
          {"name":"prices","type":{"type":"array","items":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}},
          {"name":"blobs","type":{"type":"array","items":"bytes"}},
          {"name":"days","type":{"type":"array","items":{"type":"int","logicalType":"date"}}},
          {"name":"ids","type":{"type":"array","items":{"type":"string","logicalType":"uuid"}}},
          {"name":"states","type":{"type":"array","items":{"type":"enum","name":"State","symbols":["NEW","PAID"]}}},
          {"name":"ratios","type":{"type":"array","items":"double"}},
          {"name":"dues","type":{"type":"map","values":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}}
        ]}
        """;

    /// <summary>Values of <see cref="LogicalItems"/>: bytes with a quote, a backslash and 0xFF; a negative decimal.</summary>
    public static Dictionary<string, string> LogicalItemValues() => new()
    {
        ["prices"] = "[\"-1234.5\", 0.25]", ["blobs"] = "[\"" + Convert.ToBase64String(Blob) + "\", \"" + Convert.ToBase64String("\"\\"u8.ToArray()) + "\"]",
        ["days"] = "[\"2026-12-07\", 0]", ["ids"] = "[\"" + OrderId.ToUpperInvariant() + "\"]", ["states"] = "[\"PAID\", \"NEW\"]",
        ["ratios"] = "[0.1, 1e300, -2.5]", ["dues"] = """{"tea": "3.5"}""",
    };

    /// <summary>What <see cref="BasketValues"/>' tags are.</summary>
    public static readonly string[] Tags = ["a", "b \"q\" \\ c", "x,y", "{}", "NULL"];
}
