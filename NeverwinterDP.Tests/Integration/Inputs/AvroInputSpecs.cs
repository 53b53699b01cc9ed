using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Integration.Processes;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>
/// The Avro inputs of <c>/v1/events</c> on a real node (its own process: one registry per process): records framed by
/// Confluent's own <c>AvroSerializer</c> against our registry (a typed log type's schema and the LogEvent's), and
/// REST Proxy v2 records by schema id, reach the files sink; a refused request (a value that does not fit, an unknown
/// schema id) is answered with the record and field at fault and none of its records arrive.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class AvroInputSpecs
{
    private const string Type = "avroin";

    [Fact]
    public async Task Confluent_framed_and_REST_Proxy_records_are_validated_against_the_registry_and_reach_the_sinks()
    {
        using var dir = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var node = await NodeProcess.StartAsync("avro", dir.Path, settings: [.. NodeProcess.FastPump]);
        Func<string> describe = () => node.Child.Describe();
        var registry = new Uri(node.Http, "/schemas").ToString();

        // The log type's typed attributes, through the admin API.
        using var admin = node.AdminClient();
        int typedId;
        using (var set = await admin.PutAsync($"/v1/types/{Type}/schema",
                   new StringContent("""{"type":"record","name":"W","fields":[{"name":"status","type":"int"}]}""", Encoding.UTF8, "application/json")))
        {
            var body = await set.Content.ReadAsStringAsync();
            Assert.True(set.StatusCode == HttpStatusCode.OK, body);
            typedId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
        }

        // Confluent's own serializer frames a typed record (subject nwdp.logs.avroin-value, looked up, not registered)
        // and a LogEvent (subject neverwinterdp.LogEvent, the record's name): the body is their frames back to back.
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry });
        var typedSchema = (RecordSchema)Avro.Schema.Parse((await client.GetSchemaAsync(typedId)).SchemaString);
        var logEventSchema = (RecordSchema)Avro.Schema.Parse(NeverwinterDP.Protocol.Schemas.LogEvent);
        GenericRecord Envelope(RecordSchema schema, string message, string? status = null)
        {
            var lineageSchema = (RecordSchema)schema["lineage"].Schema;
            var lineage = new GenericRecord(lineageSchema);
            lineage.Add("ingress_node", "");
            lineage.Add("source_seq", 0L);
            lineage.Add("sender", null);
            var record = new GenericRecord(schema);
            foreach (var (name, value) in new (string, object?)[]
                     {
                         ("ts", 1_700_000_000_000L), ("system_ts", 0L), ("host", "h1"), ("ip", ""), ("process", "p"), ("type", Type), ("version", ""),
                         ("level", "info"), ("message", $"{run}-{message}"), ("attributes", status is null ? new Dictionary<string, object> { ["path"] = "/x" } : new Dictionary<string, object> { ["path"] = "/x", ["status"] = status }), ("lineage", lineage),
                     })
                record.Add(name, value);
            return record;
        }
        var typed = Envelope(typedSchema, "framed-typed");
        typed.Add("status", 201);
        var context = new SerializationContext(MessageComponentType.Value, TopicNames.ForType(Type));
        var typedFrame = await new AvroSerializer<GenericRecord>(client, new AvroSerializerConfig { AutoRegisterSchemas = false, UseLatestVersion = false })
            .SerializeAsync(typed, context);
        var plainFrame = await new AvroSerializer<GenericRecord>(client,
                new AvroSerializerConfig { AutoRegisterSchemas = false, SubjectNameStrategy = SubjectNameStrategy.Record })
            .SerializeAsync(Envelope(logEventSchema, "framed-plain", status: "199"), context); // a plain LogEvent of a typed type: its typed field as an attribute
        Assert.Equal(typedId, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(typedFrame.AsSpan(1)));
        Assert.Equal(SchemaIds.LogEvent, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(plainFrame.AsSpan(1)));

        using var http = Ingress.NewClient();
        async Task<(HttpStatusCode Status, string Body)> PostAsync(byte[] body, string contentType)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var response = await http.PostAsync(new Uri(node.Http, "/v1/events"), content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var framed = await PostAsync([.. typedFrame, .. plainFrame], "application/vnd.confluent.avro");
        Assert.True(framed.Status == HttpStatusCode.OK, $"{framed}. {describe()}");
        Assert.Equal(2, JsonDocument.Parse(framed.Body).RootElement.GetProperty("accepted").GetInt32());

        // An unknown schema id refuses the whole body, naming the record; its first (good) record does not arrive.
        var unknown = (byte[])plainFrame.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(unknown.AsSpan(1), 987654);
        var refusedFrames = await PostAsync([.. Encode(Envelope(logEventSchema, "refused-framed", status: "1")), .. unknown], "application/vnd.confluent.avro");
        Assert.True(refusedFrames.Status == HttpStatusCode.UnprocessableEntity, $"{refusedFrames}. {describe()}");
        Assert.Contains("record 2: schema id 987654 is not known", refusedFrames.Body);

        // A plain LogEvent of the typed type without its typed field is refused as an NDJSON line would be.
        var untyped = await PostAsync(Encode(Envelope(logEventSchema, "no-status")), "application/vnd.confluent.avro");
        Assert.True(untyped.Status == HttpStatusCode.BadRequest, $"{untyped}. {describe()}");
        Assert.Contains("field 'status' is required", JsonDocument.Parse(untyped.Body).RootElement.GetProperty("error").GetString());

        // REST Proxy v2 records by schema id; the typed value's union-free int, the key as the partition key.
        string Value(string message, string status) =>
            $$"""{"ts":1700000000000,"system_ts":0,"host":"h2","ip":"","type":"{{Type}}","message":"{{run}}-{{message}}","attributes":{},"lineage":{"ingress_node":"","source_seq":0},"status":{{status}}}""";
        var rest = await PostAsync(Encoding.UTF8.GetBytes($$"""{"value_schema_id":{{typedId}},"records":[{"value":{{Value("rest", "202")}},"key":"k-1"}]}"""),
            "application/vnd.kafka.avro.v2+json");
        Assert.True(rest.Status == HttpStatusCode.OK, $"{rest}. {describe()}");
        using (var answer = JsonDocument.Parse(rest.Body))
        {
            Assert.Equal(1, answer.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(typedId, answer.RootElement.GetProperty("value_schema_id").GetInt32());
        }

        var refusedRest = await PostAsync(
            Encoding.UTF8.GetBytes($$"""{"value_schema_id":{{typedId}},"records":[{"value":{{Value("refused-rest", "1")}}},{"value":{{Value("bad", "\"abc\"")}}}]}"""),
            "application/vnd.kafka.avro.v2+json");
        Assert.True(refusedRest.Status == HttpStatusCode.UnprocessableEntity, $"{refusedRest}. {describe()}");
        using (var error = JsonDocument.Parse(refusedRest.Body))
        {
            Assert.Equal(42203, error.RootElement.GetProperty("error_code").GetInt32());
            Assert.Equal(1, error.RootElement.GetProperty("record").GetInt32());
            Assert.Equal("status", error.RootElement.GetProperty("field").GetString());
        }

        // The files sink holds the three accepted records (typed values as strings), none of the refused requests'.
        var messages = await PublishedFiles.WaitForAsync(node.FilesDir, Type, m => m.Count >= 3, m => string.Join(", ", m), Limits.PumpCatchUp, describe);
        Assert.Equal([$"{run}-framed-plain", $"{run}-framed-typed", $"{run}-rest"], messages.Order());
        var lines = PublishedFiles.Files(node.FilesDir, Type).SelectMany(File.ReadLines).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        JsonElement Stored(string message) => lines.Single(l => l.GetProperty("msg").GetString() == $"{run}-{message}");
        Assert.Equal("201", Stored("framed-typed").GetProperty("attributes").GetProperty("status").GetString());
        Assert.Equal("/x", Stored("framed-plain").GetProperty("attributes").GetProperty("path").GetString());
        Assert.Equal("199", Stored("framed-plain").GetProperty("attributes").GetProperty("status").GetString());
        Assert.Equal("202", Stored("rest").GetProperty("attributes").GetProperty("status").GetString());
        Assert.Equal("k-1", Stored("rest").GetProperty("attributes").GetProperty("key").GetString());
    }

    /// <summary>A LogEvent record framed by hand (schema id of version 2), as a second, independent encoder.</summary>
    private static byte[] Encode(GenericRecord record)
    {
        using var stream = new MemoryStream();
        stream.WriteByte(0);
        var id = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(id, SchemaIds.LogEvent);
        stream.Write(id);
        new GenericDatumWriter<GenericRecord>(record.Schema).Write(record, new Avro.IO.BinaryEncoder(stream));
        return stream.ToArray();
    }
}
