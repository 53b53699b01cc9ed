using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Elasticsearch.EsTestKit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// <c>typed-component-template</c>: the sink keeps the typed fields' mappings in a component template of its own, which an
/// operator's index template composes, so a data stream's rollover index is mapped from its start; the operator's
/// templates are never written, nor a component template of that name the sink did not make.
/// </summary>
public sealed class ElasticsearchTypedTemplateTests
{
    private const string Stream = "logs-web-2025.11.28";
    private const string Template = "nwdp-typed@mappings";

    private static SinkRecord TypedRecord(TypedLogSchema schema, long offset, Dictionary<string, string> attributes) =>
        TypedWebSchemas.Record(schema, Topic, offset, Event(offset) with { Attributes = attributes });

    private static Dictionary<string, string> Values(string status) => new() { ["status"] = status, ["bytes"] = "1", ["latency_ms"] = "2", ["ratio"] = "3" };

    private static async Task PutAsync(FakeElasticsearch fake, string path, string json)
    {
        using var http = new HttpClient();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        (await http.PutAsync(new Uri(fake.Url, path), content)).EnsureSuccessStatusCode();
    }

    private static async Task RolloverAsync(FakeElasticsearch fake)
    {
        using var http = new HttpClient();
        (await http.PostAsync(new Uri(fake.Url, $"/{Stream}/_rollover"), null)).EnsureSuccessStatusCode();
    }

    // The operator's own index template for the stream, composing the sink's component template.
    private const string OperatorTemplate = """{"index_patterns":["logs-web-*"],"data_stream":{},"priority":200,"composed_of":["nwdp-typed@mappings"],"_meta":{"owner":"ops"}}""";

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // without the option a rollover index has no typed mappings: what the test above it proves is the template's doing
    public async Task A_rollover_index_gets_the_typed_mappings_from_the_sinks_component_template_and_the_operators_template_is_untouched(bool withTemplate)
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);
        await PutAsync(fake, "/_index_template/ops-logs-web", OperatorTemplate);
        await using var sink = Sink(fake, o => withTemplate ? o with { TypedComponentTemplate = Template } : o);
        await sink.OpenAsync(CancellationToken.None);
        var v1 = TypedWebSchemas.Compile(TypedWebSchemas.V1);
        await WriteAllDelivered(sink, [TypedRecord(v1, 1, Values("200"))]);
        Assert.Equal("integer", fake.MappedType(Stream, "attributes.status")); // the index's own mapping, as before

        await RolloverAsync(fake);
        Assert.Equal(2, fake.Generation(Stream));
        Assert.Equal(withTemplate ? "integer" : null, fake.MappedType(Stream, "attributes.status"));
        Assert.Equal(withTemplate ? "double" : null, fake.MappedType(Stream, "attributes.latency_ms"));
        Assert.Equal(OperatorTemplate, fake.IndexTemplate("ops-logs-web"));
        if (!withTemplate)
        {
            Assert.Null(fake.ComponentTemplate(Template));
            return;
        }

        // Version 2 (status promoted to long, region added): the template gets them for the next index; the sink
        // maps the running index as before (status stays integer there).
        var v2 = TypedWebSchemas.Compile(TypedWebSchemas.V2);
        await WriteAllDelivered(sink, [TypedRecord(v2, 2, new(Values("201")) { ["region"] = "eu" })]);
        var template = JsonDocument.Parse(fake.ComponentTemplate(Template)!).RootElement;
        Assert.Equal("neverwinterdp", template.GetProperty("_meta").GetProperty("managed_by").GetString());
        var properties = template.GetProperty("template").GetProperty("mappings").GetProperty("properties").GetProperty("attributes").GetProperty("properties");
        Assert.Equal("long", properties.GetProperty("status").GetProperty("type").GetString());
        Assert.Equal("keyword", properties.GetProperty("region").GetProperty("type").GetString());
        Assert.Equal("boolean", properties.GetProperty("cached").GetProperty("type").GetString());
        Assert.Equal("integer", fake.MappedType(Stream, "attributes.status"));
        await RolloverAsync(fake);
        Assert.Equal("long", fake.MappedType(Stream, "attributes.status"));
        Assert.Equal("keyword", fake.MappedType(Stream, "attributes.region"));
        Assert.Equal(OperatorTemplate, fake.IndexTemplate("ops-logs-web"));

        // A restart with fields the template maps already reads it and puts nothing: a later schema of another type merges in.
        var before = fake.ComponentTemplate(Template);
        await using (var again = Sink(fake, o => o with { TypedComponentTemplate = Template }))
        {
            await again.OpenAsync(CancellationToken.None);
            await WriteAllDelivered(again, [TypedRecord(v2, 3, Values("202"))]);
        }
        Assert.Equal(before, fake.ComponentTemplate(Template));
    }

    [Fact]
    public async Task A_component_template_of_that_name_the_sink_did_not_make_is_not_overwritten_and_the_records_wait_with_the_reason()
    {
        await using var fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);
        const string theirs = """{"template":{"settings":{"number_of_replicas":2}}}""";
        await PutAsync(fake, "/_component_template/" + Template, theirs);
        await using var sink = Sink(fake, o => o with { TypedComponentTemplate = Template });
        await sink.OpenAsync(CancellationToken.None);
        var result = await sink.WriteAsync([TypedRecord(TypedWebSchemas.Compile(TypedWebSchemas.V1), 1, Values("200"))], CancellationToken.None);
        Assert.Equal(SinkOutcome.Errored, Assert.Single(result.Outcomes));
        Assert.Contains($"component template '{Template}' exists and was not made by a NeverwinterDP sink", result.Reasons![0], StringComparison.Ordinal);
        Assert.Equal(theirs, fake.ComponentTemplate(Template));
    }

    [Theory]
    [InlineData("_nwdp")]
    [InlineData("a b")]
    [InlineData("x/y")]
    public void A_bad_template_name_is_refused_naming_the_key(string name)
    {
        var e = Assert.Throws<SinkConfigException>(() => ElasticsearchSinkOptions.FromSection(
            SinkSection.Parse("es", $$"""urls = ["http://127.0.0.1:9200"], typed-component-template = "{{name}}" """)));
        Assert.Equal("nwdp.sinks.es.typed-component-template", e.Key);
    }
}
