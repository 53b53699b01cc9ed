using NeverwinterDP.Protocol;
using Xunit;
using AvroSchema = Avro.Schema;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>Avro schema resolution as the registry checks it: can a reader with one schema decode what a writer wrote with another.</summary>
public sealed class AvroCompatibilityTests
{
    private static AvroSchema Record(string fields, string name = "Order") =>
        AvroSchema.Parse($$"""{"type":"record","name":"{{name}}","namespace":"shop","fields":[{{fields}}]}""");

    private static readonly AvroSchema V1 = Record("""{"name":"id","type":"long"},{"name":"note","type":"string"}""");

    [Fact]
    public void A_field_added_with_a_default_is_backward_compatible_and_without_one_it_is_not()
    {
        var withDefault = Record("""{"name":"id","type":"long"},{"name":"note","type":"string"},{"name":"qty","type":"int","default":1}""");
        var withoutDefault = Record("""{"name":"id","type":"long"},{"name":"note","type":"string"},{"name":"qty","type":"int"}""");

        Assert.True(AvroCompatibility.CanRead(withDefault, V1));
        var problems = AvroCompatibility.ReadProblems(withoutDefault, V1);
        Assert.Equal(["/qty: the reader's field 'qty' is missing from the writer's shop.Order and has no default"], problems);
        // Old readers skip the new field either way: forward compatible.
        Assert.True(AvroCompatibility.CanRead(V1, withoutDefault));
    }

    [Fact]
    public void A_removed_field_is_backward_compatible_and_forward_only_if_the_old_reader_had_a_default()
    {
        var removed = Record("""{"name":"id","type":"long"}""");
        Assert.True(AvroCompatibility.CanRead(removed, V1));
        Assert.Contains("/note", Assert.Single(AvroCompatibility.ReadProblems(V1, removed)));

        var oldWithDefault = Record("""{"name":"id","type":"long"},{"name":"note","type":"string","default":""}""");
        Assert.True(AvroCompatibility.CanRead(oldWithDefault, removed));
    }

    [Theory]
    [InlineData("int", "long", true)]
    [InlineData("int", "float", true)]
    [InlineData("int", "double", true)]
    [InlineData("long", "float", true)]
    [InlineData("long", "double", true)]
    [InlineData("float", "double", true)]
    [InlineData("string", "bytes", true)]
    [InlineData("bytes", "string", true)]
    [InlineData("long", "int", false)]
    [InlineData("double", "float", false)]
    [InlineData("float", "long", false)]
    [InlineData("int", "string", false)]
    [InlineData("boolean", "int", false)]
    public void Primitive_promotions_follow_the_specification(string writer, string reader, bool readable) =>
        Assert.Equal(readable, AvroCompatibility.CanRead(AvroSchema.Parse($"\"{reader}\""), AvroSchema.Parse($"\"{writer}\"")));

    [Fact]
    public void Enum_symbols_may_be_added_for_readers_and_removed_only_when_the_reader_has_a_default()
    {
        var ab = AvroSchema.Parse("""{"type":"enum","name":"Level","symbols":["A","B"]}""");
        var abc = AvroSchema.Parse("""{"type":"enum","name":"Level","symbols":["A","B","C"]}""");
        var abWithDefault = AvroSchema.Parse("""{"type":"enum","name":"Level","symbols":["A","B"],"default":"A"}""");

        Assert.True(AvroCompatibility.CanRead(abc, ab));
        Assert.Contains("lacks the writer's symbols C", Assert.Single(AvroCompatibility.ReadProblems(ab, abc)));
        Assert.True(AvroCompatibility.CanRead(abWithDefault, abc));
    }

    [Fact]
    public void Unions_match_branch_by_branch()
    {
        var nullableString = AvroSchema.Parse("""["null","string"]""");
        var str = AvroSchema.Parse("\"string\"");
        var nullableLong = AvroSchema.Parse("""["null","long"]""");
        var nullableInt = AvroSchema.Parse("""["null","int"]""");

        Assert.True(AvroCompatibility.CanRead(nullableString, str));    // a value becomes a union branch
        Assert.False(AvroCompatibility.CanRead(str, nullableString));   // the writer's null has nowhere to go
        Assert.True(AvroCompatibility.CanRead(nullableLong, nullableInt)); // int promoted to the long branch
        Assert.False(AvroCompatibility.CanRead(nullableInt, nullableLong));
    }

    [Fact]
    public void Nested_records_arrays_and_maps_are_checked_inside_with_the_path_named()
    {
        AvroSchema Outer(string lineType) => AvroSchema.Parse("""
            {"type":"record","name":"Order","fields":[
              {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"qty","type":"T"}]}}},
              {"name":"tags","type":{"type":"map","values":"T"}}]}
            """.Replace("\"T\"", $"\"{lineType}\"", StringComparison.Ordinal));

        Assert.True(AvroCompatibility.CanRead(Outer("long"), Outer("int")));
        var problems = AvroCompatibility.ReadProblems(Outer("int"), Outer("long"));
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("/lines/items/qty:", problems[0]);
        Assert.StartsWith("/tags/values:", problems[1]);
    }

    [Fact]
    public void A_record_of_another_name_is_not_readable_and_a_renamed_field_is_found_by_its_alias()
    {
        Assert.False(AvroCompatibility.CanRead(Record("""{"name":"id","type":"long"}""", "Invoice"), Record("""{"name":"id","type":"long"}""")));
        var renamed = Record("""{"name":"order_id","type":"long","aliases":["id"]},{"name":"note","type":"string"}""");
        Assert.True(AvroCompatibility.CanRead(renamed, V1));
    }

    [Fact]
    public void A_recursive_record_is_checked_without_looping()
    {
        var node = AvroSchema.Parse("""{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}""");
        var wider = AvroSchema.Parse("""{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]}]}""");
        Assert.True(AvroCompatibility.CanRead(wider, node));
        Assert.False(AvroCompatibility.CanRead(node, wider));
    }

    [Fact]
    public void Levels_check_the_latest_or_every_version_in_the_direction_they_name()
    {
        var v1 = Record("""{"name":"id","type":"long"}""");
        var v2 = Record("""{"name":"id","type":"long"},{"name":"note","type":"string","default":""}""");
        // Reads v2 (drops note) but not v1: note has no default here.
        var v3 = Record("""{"name":"id","type":"long"},{"name":"note","type":"string"}""");

        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Backward, v3, [v1, v2]));
        Assert.Single(AvroCompatibility.Check(CompatibilityLevel.BackwardTransitive, v3, [v1, v2]));
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Forward, v3, [v1, v2]));
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Full, v3, [v1, v2]));
        Assert.Single(AvroCompatibility.Check(CompatibilityLevel.FullTransitive, v3, [v1, v2]));
        var narrower = Record("""{"name":"id","type":"int"}""");
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.Forward, narrower, [v1]));
        Assert.Single(AvroCompatibility.Check(CompatibilityLevel.Backward, narrower, [v1]));
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.None, AvroSchema.Parse("\"string\""), [v1]));
    }

    [Theory]
    [InlineData("backward", CompatibilityLevel.Backward)]
    [InlineData("FULL_TRANSITIVE", CompatibilityLevel.FullTransitive)]
    [InlineData("NONE", CompatibilityLevel.None)]
    public void Levels_parse_from_Confluent_names(string text, CompatibilityLevel level)
    {
        Assert.True(AvroCompatibility.TryParseLevel(text, out var parsed));
        Assert.Equal(level, parsed);
        Assert.Equal(text.ToUpperInvariant(), parsed.Name());
        Assert.False(AvroCompatibility.TryParseLevel("SIDEWAYS", out _));
    }
}
