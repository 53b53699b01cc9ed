using System.Net;
using System.Text;
using System.Text.Json;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Schemas;

/// <summary>
/// The schema registry every node serves, checked from outside: Confluent's own .NET client and Avro deserializer,
/// unmodified, and the REST API's answers and error codes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SchemaRegistrySpecs(ITestOutputHelper output)
{
    private const string OrderV1 = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":"string"}]}""";
    private const string OrderV2 = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":"string"},{"name":"qty","type":"int","default":1}]}""";
    private const string OrderBad = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":"string"},{"name":"qty","type":"int","default":1},{"name":"price","type":"double"}]}""";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Confluent_clients_register_and_evolve_schemas_and_read_our_log_topics_unmodified()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var url = node.App.SchemaRegistryAddress()!.ToString();
        output.WriteLine($"registry at {url}");
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = url });

        var v1 = await client.RegisterSchemaAsync("orders-value", new Schema(OrderV1, SchemaType.Avro));
        var v2 = await client.RegisterSchemaAsync("orders-value", new Schema(OrderV2, SchemaType.Avro));
        Assert.NotEqual(v1, v2);
        Assert.True(v1 > SchemaIds.HourMarker, $"ids of NeverwinterDP's own schemas are kept; got {v1}");
        Assert.Equal(v1, await client.RegisterSchemaAsync("orders-value", new Schema(OrderV1, SchemaType.Avro))); // already there
        var latest = await client.GetLatestSchemaAsync("orders-value");
        Assert.Equal((2, v2), (latest.Version, latest.Id));
        Assert.Equal(["orders-value"], (await client.GetAllSubjectsAsync()).Where(s => s == "orders-value"));

        // A new required field: data written with v2 cannot be read with it under BACKWARD.
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.RegisterSchemaAsync("orders-value", new Schema(OrderBad, SchemaType.Avro)));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal(409, refused.ErrorCode);
        Assert.Contains("/price", refused.Message);
        Assert.False(await client.IsCompatibleAsync("orders-value", new Schema(OrderBad, SchemaType.Avro)));

        // With NONE for this subject the same schema is taken.
        await client.UpdateCompatibilityAsync(Compatibility.None, "orders-value");
        Assert.Equal(Compatibility.None, await client.GetCompatibilityAsync("orders-value"));
        var v3 = await client.RegisterSchemaAsync("orders-value", new Schema(OrderBad, SchemaType.Avro));
        Assert.Equal(v3, (await client.GetRegisteredSchemaAsync("orders-value", 3)).Id);
        Assert.Equal([1, 2, 3], await client.GetSubjectVersionsAsync("orders-value"));

        // A record our ingress wrote, read from its topic with Confluent's Avro deserializer (it fetches schema id 1 from us).
        var run = Guid.NewGuid().ToString("N")[..8];
        var posted = await node.PostNdjsonAsync([$"{{\"host\":\"web-1\",\"process\":\"nginx\",\"msg\":\"{run} GET / 200\",\"status\":\"200\"}}"], type: "schemaproof");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var value = ReadOne(node.Bus.BootstrapServers, TopicNames.ForType("schemaproof"));
        var deserializer = new AvroDeserializer<GenericRecord>(client);
        var record = await deserializer.DeserializeAsync(value, false, new SerializationContext(MessageComponentType.Value, TopicNames.ForType("schemaproof")));
        Assert.Equal("neverwinterdp.LogEvent", record.Schema.Fullname);
        Assert.Equal($"{run} GET / 200", record["message"]);
        Assert.Equal("web-1", record["host"]);
        Assert.Equal("schemaproof", record["type"]);
        Assert.Equal("200", ((IDictionary<string, object>)record["attributes"])["status"]);
        Assert.Equal(node.NodeId, ((GenericRecord)record["lineage"])["ingress_node"]);
    }

    [Fact]
    public async Task The_REST_API_answers_with_Confluent_content_type_and_error_codes()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        using var http = new HttpClient { BaseAddress = new Uri(node.App.SchemaRegistryAddress()!.ToString().TrimEnd('/') + "/") };

        var logEvent = await Get(http, "schemas/ids/1", 200);
        Assert.Equal(Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEventV1), Avro.Schema.Parse(logEvent.GetProperty("schema").GetString()));
        var logEventV2 = await Get(http, $"schemas/ids/{SchemaIds.LogEvent}", 200);
        Assert.Equal(Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEvent), Avro.Schema.Parse(logEventV2.GetProperty("schema").GetString()));
        Assert.Contains("neverwinterdp.LogEvent", (await Get(http, "subjects", 200)).EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(SchemaIds.LogEvent, (await Get(http, "subjects/neverwinterdp.LogEvent/versions/latest", 200)).GetProperty("id").GetInt32());
        Assert.Equal(1, (await Get(http, "subjects/neverwinterdp.LogEvent/versions/1", 200)).GetProperty("id").GetInt32());
        var raw = await http.GetAsync("subjects/neverwinterdp.LogEvent/versions/1/schema");
        Assert.Equal("application/vnd.schemaregistry.v1+json", raw.Content.Headers.ContentType!.MediaType);
        Assert.Equal("LogEvent", JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());

        Assert.Equal(40401, await Code(http.GetAsync("subjects/nope/versions"), 404));
        Assert.Equal(42201, await Code(Post(http, "subjects/t-value/versions", """{"schema":"{\"type\":\"recordd\"}"}"""), 422));
        var id = (await Read(Post(http, "subjects/t-value/versions", Body(OrderV1)), 200)).GetProperty("id").GetInt32();
        Assert.Equal(40402, await Code(http.GetAsync("subjects/t-value/versions/7"), 404));
        Assert.Equal(42202, await Code(http.GetAsync("subjects/t-value/versions/zero"), 422));
        Assert.Equal(40403, await Code(http.GetAsync("schemas/ids/9999"), 404));
        Assert.Equal(40403, await Code(Post(http, "subjects/t-value", Body(OrderV2)), 404));
        var found = await Read(Post(http, "subjects/t-value", Body(OrderV1)), 200);
        Assert.Equal((1, id, "t-value"), (found.GetProperty("version").GetInt32(), found.GetProperty("id").GetInt32(), found.GetProperty("subject").GetString()));
        Assert.Equal([new KeyValuePair<string, int>("t-value", 1)], (await Get(http, $"schemas/ids/{id}/versions", 200)).EnumerateArray()
            .Select(v => new KeyValuePair<string, int>(v.GetProperty("subject").GetString()!, v.GetProperty("version").GetInt32())));

        // Config: global, per subject, and the errors.
        Assert.Equal("BACKWARD", (await Get(http, "config", 200)).GetProperty("compatibilityLevel").GetString());
        Assert.Equal(40408, await Code(http.GetAsync("config/t-value"), 404));
        Assert.Equal("BACKWARD", (await Get(http, "config/t-value?defaultToGlobal=true", 200)).GetProperty("compatibilityLevel").GetString());
        Assert.Equal(42203, await Code(Put(http, "config/t-value", """{"compatibility":"SIDEWAYS"}"""), 422));
        Assert.Equal("FULL_TRANSITIVE", (await Read(Put(http, "config/t-value", """{"compatibility":"FULL_TRANSITIVE"}"""), 200)).GetProperty("compatibility").GetString());
        Assert.Equal("FULL_TRANSITIVE", (await Get(http, "config/t-value", 200)).GetProperty("compatibilityLevel").GetString());

        // Deletes: soft first (the id still answers: records on the bus may carry it), then permanent.
        Assert.Equal(40405, await Code(http.DeleteAsync("subjects/t-value?permanent=true"), 404));
        Assert.Equal([1], (await Read(http.DeleteAsync("subjects/t-value"), 200)).EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(40401, await Code(http.GetAsync("subjects/t-value/versions"), 404));
        Assert.Equal(40404, await Code(http.DeleteAsync("subjects/t-value"), 404));
        Assert.Equal([1], (await Get(http, "subjects/t-value/versions?deleted=true", 200)).EnumerateArray().Select(v => v.GetInt32()));
        await Get(http, $"schemas/ids/{id}", 200);
        Assert.Equal([1], (await Read(http.DeleteAsync("subjects/t-value?permanent=true"), 200)).EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(40403, await Code(http.GetAsync($"schemas/ids/{id}"), 404));
        // Ids are never given twice, even after a permanent delete.
        var next = (await Read(Post(http, "subjects/u-value/versions", Body(OrderV2)), 200)).GetProperty("id").GetInt32();
        Assert.True(next > id);

        // One version: soft, again (40406), permanent; NeverwinterDP's own schemas are not deletable.
        Assert.Equal(1, (await Read(http.DeleteAsync("subjects/u-value/versions/1"), 200)).GetInt32());
        Assert.Equal(40406, await Code(http.DeleteAsync("subjects/u-value/versions/1"), 404));
        Assert.Equal(1, (await Read(http.DeleteAsync("subjects/u-value/versions/1?permanent=true"), 200)).GetInt32());
        Assert.Equal(42205, await Code(http.DeleteAsync("subjects/neverwinterdp.LogEvent"), 422));
    }

    [Fact]
    public async Task Two_nodes_on_one_Kafka_give_the_same_ids_and_a_node_started_later_serves_them()
    {
        using var dir = new TempDir();
        using var kafka = new EmbeddedKafka();
        Dictionary<string, string> Settings() => new() { ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers, ["nwdp.pump.enabled"] = "off" };
        await using var a = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a"), overrides: Settings());
        var byText = new Dictionary<int, int>();
        await using (var b = await InProcessNode.StartAsync(Path.Combine(dir.Path, "b"), overrides: Settings()))
        {
            using var clientA = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = a.App.SchemaRegistryAddress()!.ToString() });
            using var clientB = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = b.App.SchemaRegistryAddress()!.ToString() });

            // Both nodes register at once: different subjects, some schemas in common.
            static string Text(int i) => $$"""{"type":"record","name":"R{{i}}","fields":[{"name":"f","type":"string"}]}""";
            var fromA = Enumerable.Range(0, 6).Select(i => clientA.RegisterSchemaAsync($"a-{i}", new Schema(Text(i), SchemaType.Avro))).ToList();
            var fromB = Enumerable.Range(3, 6).Select(i => clientB.RegisterSchemaAsync($"b-{i}", new Schema(Text(i), SchemaType.Avro))).ToList();
            var idsA = await Task.WhenAll(fromA);
            var idsB = await Task.WhenAll(fromB);
            for (var i = 0; i < 6; i++) byText[i] = idsA[i];
            for (var i = 3; i < 9; i++)
                if (byText.TryGetValue(i, out var known)) Assert.Equal(known, idsB[i - 3]); // the same schema has one id everywhere
                else byText[i] = idsB[i - 3];
            Assert.Equal(9, byText.Values.Distinct().Count());

            using var httpB = new HttpClient();
            foreach (var (i, id) in byText)
            {
                var onA = Avro.Schema.Parse((await clientA.GetSchemaAsync(id)).SchemaString);
                var onB = Avro.Schema.Parse(JsonDocument.Parse(await httpB.GetStringAsync(new Uri(b.App.SchemaRegistryAddress()!, $"{b.Config.Schemas.Path}/schemas/ids/{id}"))).RootElement.GetProperty("schema").GetString());
                Assert.Equal(onA, onB);
                Assert.Equal($"R{i}", ((Avro.NamedSchema)onA).Name);
            }
        }

        // A node that starts after them reads the topic from the start.
        await using var c = await InProcessNode.StartAsync(Path.Combine(dir.Path, "c"), overrides: Settings());
        using var clientC = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = c.App.SchemaRegistryAddress()!.ToString() });
        foreach (var (i, id) in byText)
            Assert.Equal($"R{i}", ((Avro.NamedSchema)Avro.Schema.Parse((await clientC.GetSchemaAsync(id)).SchemaString)).Name);
        Assert.Equal(byText[8], (await clientC.GetLatestSchemaAsync("b-8")).Id);
    }

    [Fact]
    public async Task A_node_given_an_external_registry_serves_none_and_points_clients_there()
    {
        using var dir = new TempDir();
        await using var serving = await InProcessNode.StartAsync(Path.Combine(dir.Path, "a"));
        var url = serving.App.SchemaRegistryAddress()!;
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "b"), overrides: new() { ["nwdp.schemas.url"] = url.ToString() });

        Assert.Equal(url, node.App.SchemaRegistryAddress());
        Assert.Equal(HttpStatusCode.NotFound, (await node.Client.GetAsync("/schemas/subjects")).StatusCode);
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = url.ToString() });
        Assert.Equal(SchemaIds.LogEvent, (await client.GetLatestSchemaAsync("neverwinterdp.LogEvent")).Id);
    }

    private static byte[] ReadOne(string bootstrap, string topic)
    {
        Librdkafka.EnsureLoaded();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "schema-proof-" + Guid.NewGuid(), AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200))?.Message?.Value is { } value)
            {
                consumer.Close();
                return value;
            }
        }
        throw new TimeoutException($"no record on {topic}");
    }

    private static string Body(string schema) => JsonSerializer.Serialize(new { schema });

    private static Task<HttpResponseMessage> Post(HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/vnd.schemaregistry.v1+json"));

    private static Task<HttpResponseMessage> Put(HttpClient http, string path, string json) =>
        http.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/vnd.schemaregistry.v1+json"));

    private static Task<JsonElement> Get(HttpClient http, string path, int status) => Read(http.GetAsync(path), status);

    private static async Task<JsonElement> Read(Task<HttpResponseMessage> request, int status)
    {
        using var response = await request;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/vnd.schemaregistry.v1+json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<int> Code(Task<HttpResponseMessage> request, int status) =>
        (await Read(request, status)).GetProperty("error_code").GetInt32();
}
