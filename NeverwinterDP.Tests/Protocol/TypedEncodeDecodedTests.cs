using System.Buffers;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Sinks;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// <see cref="TypedLogSchema.EncodeDecoded"/>, the encoder of the sinks' typed Avro files: a decoded typed record
/// encodes back to the bytes its writer wrote, for every kind the schemas take, and only under its own schema.
/// </summary>
public class TypedEncodeDecodedTests
{
    public static TheoryData<string, string> Schemas() => new()
    {
        { TypedWebSchemas.V1, "web" }, { TypedWebSchemas.Logical, "logical" }, { TypedWebSchemas.Basket, "basket" }, { TypedWebSchemas.LogicalItems, "items" },
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void A_decoded_typed_record_encodes_back_to_its_writers_bytes(string attributes, string which)
    {
        var schema = TypedWebSchemas.Compile(attributes);
        var values = which switch
        {
            "web" => new Dictionary<string, string> { ["status"] = "-404", ["bytes"] = "3000000000", ["latency_ms"] = "1e300", ["ratio"] = "0.1", ["path"] = "/p", ["user"] = "null" },
            "logical" => TypedWebSchemas.LogicalValues(),
            "basket" => TypedWebSchemas.BasketValues(),
            _ => TypedWebSchemas.LogicalItemValues(),
        };
        var framed = schema.TryEncodeFramed(TypedWebSchemas.Event(7, "web", values)) ?? throw new InvalidOperationException("does not fit");
        var decoded = LogEventAvro.DecodeFramed(framed);
        Assert.Same(schema, decoded.Typed!.Schema);

        var output = new ArrayBufferWriter<byte>();
        schema.EncodeDecoded(decoded, output);
        Assert.Equal(framed[5..], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_plain_event_or_another_schemas_record_is_refused()
    {
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2);
        var plain = TypedWebSchemas.Event(1);
        Assert.Throws<ArgumentException>(() => v1.EncodeDecoded(plain, new ArrayBufferWriter<byte>()));
        var values = new Dictionary<string, string> { ["status"] = "1", ["bytes"] = "1", ["latency_ms"] = "1", ["ratio"] = "1" };
        var ofV2 = LogEventAvro.DecodeFramed(v2.TryEncodeFramed(TypedWebSchemas.Event(1, "web", values))!);
        Assert.Throws<ArgumentException>(() => v1.EncodeDecoded(ofV2, new ArrayBufferWriter<byte>()));
    }
}
