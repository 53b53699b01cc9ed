using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// The typed attributes beyond the primitives: bytes, enum and the logical types. Their text forms at ingress, the
/// bytes Apache.Avro reads back with the registered schema (so Confluent's deserializers read them), and the values
/// the sinks get.
/// </summary>
public class TypedLogicalTypesTests
{
    private const string Order = """
        {"type":"record","name":"Order","fields":[
          {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"at_us","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
          {"name":"day","type":{"type":"int","logicalType":"date"}},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
          {"name":"order_id","type":{"type":"string","logicalType":"uuid"}},
          {"name":"state","type":{"type":"enum","name":"State","symbols":["NEW","PAID","SHIPPED"]}},
          {"name":"blob","type":["null","bytes"],"default":null},
          {"name":"fee","type":[{"type":"bytes","logicalType":"decimal","precision":5,"scale":2},"null"],"default":"\u0004\u00d2"}
        ]}
        """;

    private const int Id = 1_500_000_201;

    private static TypedLogSchema Compiled() => TypedTestSchemas.Compile(Id, "orders", Order);

    private static LogEvent Event(Dictionary<string, string> attributes) => new()
    {
        Ts = 1_700_000_000_000, SystemTs = 1_700_000_000_123, Host = "shop-1", Ip = "10.0.0.2", Process = "shop", Type = "orders",
        Message = "order", Attributes = attributes, Lineage = new Lineage("node-1", 7, null),
    };

    private static Dictionary<string, string> Good() => new()
    {
        ["at"] = "2026-12-07T12:00:00.123Z", ["at_us"] = "2026-12-07T13:00:00.123456+01:00", ["day"] = "2026-12-07",
        ["price"] = "-1234.5", ["order_id"] = "0F8FAD5B-D9CB-469F-A165-70867728950E", ["state"] = "PAID", ["blob"] = "AAH/",
    };

    [Fact]
    public void The_fields_kinds_precision_scale_and_symbols_come_from_the_schema()
    {
        var fields = Compiled().Fields;
        Assert.Equal(
            [TypedKind.TimestampMillis, TypedKind.TimestampMicros, TypedKind.Date, TypedKind.Decimal, TypedKind.Uuid, TypedKind.Enum, TypedKind.Bytes, TypedKind.Decimal],
            fields.Select(f => f.Kind));
        Assert.Equal((9, 2), (fields[3].Precision, fields[3].Scale));
        Assert.Equal(["NEW", "PAID", "SHIPPED"], fields[5].Symbols);
        Assert.Equal("decimal(9,2)", fields[3].Expected);
        Assert.Equal("timestamp-micros or null", fields[1].Expected);
        Assert.Equal("enum {NEW, PAID, SHIPPED}", fields[5].Expected);
    }

    [Fact]
    public void Apache_Avro_reads_the_logical_values_we_write_and_we_read_them_back_in_their_text_forms()
    {
        var schema = Compiled();
        var frame = schema.TryEncodeFramed(Event(Good()))!;

        var record = TypedTestSchemas.ReadFramed(frame, "orders", Order);
        Assert.Equal(new DateTime(2026, 12, 7, 12, 0, 0, 123, DateTimeKind.Utc), record["at"]);
        Assert.Equal(new DateTime(2026, 12, 7, 12, 0, 0, 123, DateTimeKind.Utc).AddTicks(4560), record["at_us"]);
        Assert.Equal(new DateTime(2026, 12, 7), record["day"]);
        Assert.Equal("-1234.50", ((AvroDecimal)record["price"]).ToString());
        Assert.Equal(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), record["order_id"]);
        Assert.Equal("PAID", ((GenericEnum)record["state"]).Value);
        Assert.Equal(new byte[] { 0, 1, 255 }, record["blob"]);
        Assert.Equal("12.34", ((AvroDecimal)record["fee"]).ToString()); // the default: 0x04D2 = 1234 units of 0.01

        var decoded = schema.Decode(frame.AsSpan(5));
        Assert.Equal("2026-12-07T12:00:00.123Z", decoded.Attributes["at"]);
        Assert.Equal("2026-12-07T12:00:00.123456Z", decoded.Attributes["at_us"]); // UTC
        Assert.Equal("2026-12-07", decoded.Attributes["day"]);
        Assert.Equal("-1234.50", decoded.Attributes["price"]); // scale digits
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", decoded.Attributes["order_id"]); // lowercase
        Assert.Equal("PAID", decoded.Attributes["state"]);
        Assert.Equal("AAH/", decoded.Attributes["blob"]);
        Assert.Equal("12.34", decoded.Attributes["fee"]);
        var values = decoded.Typed!.Values;
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 12, 0, 0, 123, TimeSpan.Zero).ToUnixTimeMilliseconds(), values[0].Integer);
        Assert.Equal(values[0].Integer * 1000 + 456, values[1].Integer);
        Assert.Equal(new DateOnly(2026, 12, 7).DayNumber - new DateOnly(1970, 1, 1).DayNumber, values[2].Integer);
        Assert.Equal(1, values[5].Integer); // the symbol's index
        Assert.Equal(new byte[] { 0, 1, 255 }, values[6].Binary);
        Assert.Equal(new System.Numerics.BigInteger(-123450).ToByteArray(isUnsigned: false, isBigEndian: true), values[3].Binary);
    }

    [Fact]
    public void Epoch_numbers_are_taken_for_timestamps_and_dates()
    {
        var attributes = Good();
        attributes["at"] = "0";
        attributes["at_us"] = "-1";
        attributes["day"] = "-1";
        var decoded = Compiled().Decode(Compiled().TryEncodeFramed(Event(attributes)).AsSpan(5));
        Assert.Equal("1970-01-01T00:00:00.000Z", decoded.Attributes["at"]);
        Assert.Equal("1969-12-31T23:59:59.999999Z", decoded.Attributes["at_us"]);
        Assert.Equal("1969-12-31", decoded.Attributes["day"]);
    }

    [Theory]
    [InlineData("at", "2026-12-07T12:00:00", "field 'at' must be a timestamp-millis, got \"2026-12-07T12:00:00\" (an ISO-8601 time with an offset")] // no offset: ambiguous
    [InlineData("at", "2026-12-07T12:00:00.1234Z", "field 'at' must be a timestamp-millis")] // finer than milliseconds: not rounded
    [InlineData("at", "yesterday", "field 'at' must be a timestamp-millis")]
    [InlineData("at", "999999999999999999", "field 'at' must be a timestamp-millis")] // beyond year 9999
    [InlineData("at_us", "2026-12-07 12:00:00Z", "field 'at_us' must be a timestamp-micros or null")]
    [InlineData("day", "2026-13-01", "field 'day' must be a date, got \"2026-13-01\" (YYYY-MM-DD)")]
    [InlineData("day", "07/12/2026", "field 'day' must be a date")]
    [InlineData("price", "12345678.5", "field 'price' must be a decimal(9,2), got \"12345678.5\" (at most 7 digits before the point and 2 after)")]
    [InlineData("price", "1.234", "field 'price' must be a decimal(9,2)")] // more scale digits: never rounded
    [InlineData("price", "1e3", "field 'price' must be a decimal(9,2)")]
    [InlineData("price", "12.", "field 'price' must be a decimal(9,2)")]
    [InlineData("order_id", "0f8fad5b-d9cb-469f-a165", "field 'order_id' must be a uuid, got \"0f8fad5b-d9cb-469f-a165\" (8-4-4-4-12 hex digits)")]
    [InlineData("order_id", "{0f8fad5b-d9cb-469f-a165-70867728950e}", "field 'order_id' must be a uuid")]
    [InlineData("state", "paid", "field 'state' must be an enum {NEW, PAID, SHIPPED}, got \"paid\"")]
    [InlineData("blob", "not base64!", "field 'blob' must be a bytes or null, got \"not base64!\" (base64)")]
    public void Validate_names_the_field_the_expected_type_and_the_form_it_takes(string field, string value, string expected)
    {
        var schema = Compiled();
        var attributes = Good();
        attributes[field] = value;

        var problem = schema.Validate(Event(attributes));

        Assert.StartsWith(expected, problem?.Message);
        Assert.Equal(field, problem?.Field);
        Assert.Null(schema.TryEncodeFramed(Event(attributes)));
    }

    [Theory]
    [InlineData("1234567.5", "1234567.50")] // 9 digits with the scale's
    [InlineData("99999.99", "99999.99")]
    [InlineData("-0.5", "-0.50")]
    [InlineData("0012.10", "12.10")]
    [InlineData(".5", "0.50")]
    [InlineData("+7", "7.00")]
    public void A_decimal_is_taken_within_its_precision_and_scale_and_read_back_exact(string value, string expected)
    {
        var schema = Compiled();
        var attributes = Good();
        attributes["price"] = value;
        Assert.Equal(expected, schema.Decode(schema.TryEncodeFramed(Event(attributes)).AsSpan(5)).Attributes["price"]);
    }

    [Theory]
    [InlineData("""{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}}""", "'decimal' requires")] // Apache.Avro's own check
    [InlineData("""{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1},"default":"1.5"}""", "default \"1.5\" is not a decimal(4,1)")] // not Avro's encoding: 0x31 0x2E 0x35 is beyond 4 digits
    [InlineData("""{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"default":"2026-12-07T12:00:00Z"}""", "default \"2026-12-07T12:00:00Z\" is not a timestamp-millis")]
    [InlineData("""{"name":"s","type":{"type":"enum","name":"S","symbols":["A"]},"default":"B"}""", "default \"B\" is not an enum {A}")]
    [InlineData("""{"name":"u","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}}""", "'uuid' can only be")]
    public void Wrap_refuses_logical_fields_it_cannot_take(string field, string expected)
    {
        var e = Assert.Throws<TypedSchemaException>(() => TypedLogSchema.Wrap("orders", $$"""{"type":"record","name":"O","fields":[{{field}}]}"""));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_record_another_writer_made_beyond_the_decimals_precision_is_malformed()
    {
        var wrapped = (RecordSchema)Schema.Parse(TypedLogSchema.Wrap("orders", """{"type":"record","name":"O","fields":[{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":3,"scale":0}}]}"""));
        var schema = TypedLogSchema.TryCompile(Id + 1, wrapped.ToString(), out var why) ?? throw new InvalidOperationException(why);
        var good = schema.TryEncodeFramed(Event(new() { ["p"] = "999" }))!;
        Assert.Equal("999", schema.Decode(good.AsSpan(5)).Attributes["p"]);
        // The same record with 1000 (0x03E8) in place of 999 (0x03E7): the last byte of the frame.
        var bad = (byte[])good.Clone();
        bad[^1] = 0xE8;
        Assert.Contains("more than 3 digits", Assert.Throws<MalformedRecordException>(() => schema.Decode(bad.AsSpan(5))).Message);
    }
}
