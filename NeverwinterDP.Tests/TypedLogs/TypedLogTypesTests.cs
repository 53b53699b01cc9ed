using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.TypedLogs;

/// <summary>Which log types ingress writes typed: the latest typed schema of each log type's subject, as the store holds it.</summary>
public class TypedLogTypesTests
{
    private const string V1 = """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"}]}""";
    private const string V2 = """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"},{"name":"bytes","type":"long","default":0}]}""";

    private static void Register(SchemaStore store, string subject, int version, int id, string schema)
    {
        var offset = store.Position;
        store.Apply(offset, SchemaRecords.SchemaKey(subject, version), SchemaRecords.SchemaValue(subject, version, id, SchemaStore.Canonical(schema), offset));
    }

    private static LogEvent Event(string type, params (string Key, string Value)[] attributes) =>
        new() { Type = type, Host = "h", Message = "m", Attributes = attributes.ToDictionary(a => a.Key, a => a.Value) };

    [Fact]
    public void A_type_is_typed_from_its_first_registered_schema_on_and_follows_its_latest_version()
    {
        var store = new SchemaStore(CompatibilityLevel.Backward);
        var types = new TypedLogTypes(store);
        Assert.Null(types.ForTopic("nwdp.logs.web"));

        Register(store, "nwdp.logs.web-value", 1, 1_500_000_201, TypedLogSchema.Wrap("web", V1));
        Assert.Equal(1_500_000_201, types.ForTopic("nwdp.logs.web")?.Id);
        Assert.Null(types.ForTopic("nwdp.logs.other"));

        Register(store, "nwdp.logs.web-value", 2, 1_500_000_202, TypedLogSchema.Wrap("web", V2));
        Assert.Equal(["status", "bytes"], types.ForTopic("nwdp.logs.web")!.Fields.Select(f => f.Name));
    }

    [Fact]
    public void Another_kind_of_schema_under_a_log_types_subject_leaves_the_type_untyped_with_a_warning()
    {
        var store = new SchemaStore(CompatibilityLevel.Backward);
        var warnings = new List<string>();
        var types = new TypedLogTypes(store, warnings.Add);

        Register(store, "nwdp.logs.orders-value", 1, 1_500_000_203, """{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}""");

        Assert.Null(types.ForTopic("nwdp.logs.orders"));
        Assert.Contains(warnings, w => w.Contains("1500000203") && w.Contains("untyped"));
    }

    [Fact]
    public void FirstInvalid_gives_the_index_of_the_first_event_whose_typed_field_does_not_fit_and_ignores_untyped_types()
    {
        var store = new SchemaStore(CompatibilityLevel.Backward);
        var types = new TypedLogTypes(store);
        Register(store, "nwdp.logs.web-value", 1, 1_500_000_204, TypedLogSchema.Wrap("web", V1));

        Assert.Null(types.FirstInvalid([Event("web", ("status", "200")), Event("other", ("status", "abc"))]));
        var invalid = types.FirstInvalid([Event("web", ("status", "200")), Event("other", ("status", "abc")), Event("web", ("status", "abc"), ("path", "/"))]);

        Assert.Equal(2, invalid?.Index);
        Assert.Equal("status", invalid?.Problem.Field);
        Assert.Equal("int", invalid?.Problem.Expected);
        Assert.Contains("field 'status' must be an int, got \"abc\"", invalid?.Problem.Message);
        Assert.Contains("log type 'web'", invalid?.Problem.Message);
    }
}
