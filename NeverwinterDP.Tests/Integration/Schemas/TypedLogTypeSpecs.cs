using System.Net;
using System.Text;
using System.Text.Json;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Integration.Processes;
using NeverwinterDP.Tests.Sinks.Elasticsearch;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Schemas;

/// <summary>
/// A typed log type through a real node (its own process: one registry per process, as in production): registered
/// with <c>nwdp schema set --type</c>, validated at ingress (400 naming field and line, nothing of the request on the
/// bus), written under its own schema id (read by Confluent's own Avro deserializer against our registry), evolved
/// through the admin API (an incompatible change refused with the registry's 409), and stored by the files sink as
/// strings, by the Elasticsearch sink (against its fake) as typed JSON values under an explicit mapping, and by the
/// Hive sink as typed Parquet columns (read back by DuckDB) with their DDL.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class TypedLogTypeSpecs
{
    private const string Type = "typedweb";

    private const string Web = """
        {"type":"record","name":"Web","fields":[
          {"name":"status","type":"int"},
          {"name":"bytes","type":"long"},
          {"name":"latency_ms","type":"double"},
          {"name":"user","type":["null","string"],"default":null}
        ]}
        """;

    [Fact]
    public async Task A_typed_log_type_is_validated_at_ingress_written_typed_under_its_own_id_and_evolved_by_the_registrys_rules()
    {
        using var dir = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var es = await FakeElasticsearch.StartAsync();
        var hive = Path.Combine(dir.Path, "hive");
        await using var node = await NodeProcess.StartAsync("typed", dir.Path,
            settings: [.. NodeProcess.FastPump, "nwdp.sinks.es.kind=elasticsearch", $"nwdp.sinks.es.urls={es.Url}", "nwdp.sinks.hive.kind=hive", $"nwdp.sinks.hive.directory={hive}"]);
        var registry = new Uri(node.Http, "/schemas").ToString();

        // The CLI: a schema a log type cannot have is a usage error naming the flag; the good one is registered.
        var unsupported = Path.Combine(dir.Path, "bad.avsc");
        await File.WriteAllTextAsync(unsupported, """{"type":"record","name":"Web","fields":[{"name":"tags","type":{"type":"array","items":{"type":"array","items":"string"}}}]}""");
        var refusedFile = await Nwdp.RunAsync("schema", "set", "--type", Type, unsupported, "--registry", registry);
        Assert.True(refusedFile.ExitCode == 2, refusedFile.ToString());
        Assert.Contains("'--type'", refusedFile.Stderr);
        Assert.Contains("field 'tags'", refusedFile.Stderr);
        var file = Path.Combine(dir.Path, "web.avsc");
        await File.WriteAllTextAsync(file, Web);
        var set = await Nwdp.RunAsync("schema", "set", "--type", Type, file, "--registry", registry, "--json");
        Assert.True(set.ExitCode == 0, set.ToString());
        var id = JsonDocument.Parse(set.Stdout).RootElement.GetProperty("id").GetInt32();

        using var http = Ingress.NewClient();
        var node1 = node.Child.Describe;
        string Line(string msg, string fields) => $"{{\"msg\":\"{run}-{msg}\",\"host\":\"web-1\",{fields}}}";
        async Task<(HttpStatusCode Status, string Body)> PostAsync(params string[] lines)
        {
            using var response = await Ingress.PostAsync(http, node.Http, Type, lines);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        // Typed events: numbers as JSON numbers or strings, an optional field absent, an unknown key kept as a string.
        var ok = await PostAsync(
            Line("a", "\"status\":200,\"bytes\":1534,\"latency_ms\":12.5,\"user\":\"ann\",\"path\":\"/a\""),
            Line("b", "\"status\":\"204\",\"bytes\":0,\"latency_ms\":1"));
        Assert.True(ok.Status == HttpStatusCode.OK, $"{ok}. {node1()}");

        // A wrong type: 400 naming field, line (blank lines count) and expected type; the request's good line is not kept.
        var bad = await PostAsync(Line("c", "\"status\":200,\"bytes\":1,\"latency_ms\":1"), "", Line("d", "\"status\":\"abc\",\"bytes\":1,\"latency_ms\":1"));
        Assert.True(bad.Status == HttpStatusCode.BadRequest, $"{bad}. {node1()}");
        using (var error = JsonDocument.Parse(bad.Body))
        {
            Assert.Equal(3, error.RootElement.GetProperty("line").GetInt32());
            Assert.Contains("field 'status' must be an int, got \"abc\"", error.RootElement.GetProperty("error").GetString());
            Assert.Equal("status", error.RootElement.GetProperty("field").GetString());
            Assert.Equal("int", error.RootElement.GetProperty("expected").GetString());
        }

        // Evolution through the admin API: an incompatible change refused with the registry's error, a compatible one taken.
        using var admin = node.AdminClient();
        using (var incompatible = await admin.PutAsync($"/v1/types/{Type}/schema", new StringContent(Web.Replace("\"int\"", "\"string\""), Encoding.UTF8, "application/json")))
        {
            var body = await incompatible.Content.ReadAsStringAsync();
            Assert.True(incompatible.StatusCode == HttpStatusCode.Conflict, body);
            Assert.Equal(409, JsonDocument.Parse(body).RootElement.GetProperty("error_code").GetInt32());
            Assert.Contains("status", body);
        }
        var v2 = Web.Replace("""{"name":"user",""", """{"name":"region","type":["null","string"],"default":null},{"name":"user",""");
        using (var evolved = await admin.PutAsync($"/v1/types/{Type}/schema", new StringContent(v2, Encoding.UTF8, "application/json")))
        {
            var body = await evolved.Content.ReadAsStringAsync();
            Assert.True(evolved.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(2, JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt32());
        }
        var after = await PostAsync(Line("e", "\"status\":500,\"bytes\":2,\"latency_ms\":3.25,\"region\":\"eu\""));
        Assert.True(after.Status == HttpStatusCode.OK, $"{after}. {node1()}");

        // Confluent's own deserializer reads the typed records with our registry alone.
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry });
        var deserializer = new AvroDeserializer<GenericRecord>(client);
        var records = new Dictionary<string, GenericRecord>();
        foreach (var value in Read(node.Kafka, TopicNames.ForType(Type), 3))
        {
            var record = await deserializer.DeserializeAsync(value, false, new SerializationContext(MessageComponentType.Value, TopicNames.ForType(Type)));
            records[((string)record["message"])[(run.Length + 1)..]] = record;
        }
        Assert.Equal(["a", "b", "e"], records.Keys.Order());
        var a = records["a"];
        Assert.Equal("neverwinterdp.logs.typedweb", a.Schema.Fullname);
        Assert.Equal(200, a["status"]);
        Assert.Equal(1534L, a["bytes"]);
        Assert.Equal(12.5, a["latency_ms"]);
        Assert.Equal("ann", a["user"]);
        Assert.Equal("/a", ((IDictionary<string, object>)a["attributes"])["path"]);
        Assert.False(((IDictionary<string, object>)a["attributes"]).ContainsKey("status"));
        Assert.Null(records["b"]["user"]);
        Assert.Equal("eu", records["e"]["region"]); // written with version 2 once registered

        // The files sink (no typed columns) stores the typed values as strings; the refused request's events never arrive.
        await Poll.UntilAsync(() => Task.FromResult(PublishedFiles.Messages(node.FilesDir, Type).Count >= 3), Limits.PumpCatchUp,
            () => $"the files sink did not publish 3 events of {Type}. {node1()}");
        Assert.Equal([$"{run}-a", $"{run}-b", $"{run}-e"], PublishedFiles.Messages(node.FilesDir, Type).Order());
        var lineA = PublishedFiles.Files(node.FilesDir, Type).SelectMany(File.ReadLines).Single(l => l.Contains($"{run}-a"));
        using (var stored = JsonDocument.Parse(lineA))
        {
            var attributes = stored.RootElement.GetProperty("attributes");
            Assert.Equal("200", attributes.GetProperty("status").GetString());
            Assert.Equal("12.5", attributes.GetProperty("latency_ms").GetString());
            Assert.Equal("/a", attributes.GetProperty("path").GetString());
        }
        // The Elasticsearch sink writes the typed values as JSON numbers under their explicit mapping (data stream on 8+).
        await Poll.UntilAsync(() => Task.FromResult(es.Documents().Count(d => d.Source.GetProperty("msg").GetString()!.StartsWith(run, StringComparison.Ordinal)) >= 3),
            Limits.PumpCatchUp, () => $"the elasticsearch sink did not write 3 events of {Type}. {node1()}");
        JsonElement Doc(string msg) => es.Documents().Single(d => d.Source.GetProperty("msg").GetString() == $"{run}-{msg}").Source.GetProperty("attributes");
        Assert.Equal(JsonValueKind.Number, Doc("a").GetProperty("status").ValueKind);
        Assert.Equal(200, Doc("a").GetProperty("status").GetInt32());
        Assert.Equal(12.5, Doc("a").GetProperty("latency_ms").GetDouble());
        Assert.Equal("/a", Doc("a").GetProperty("path").GetString());
        Assert.Equal(204, Doc("b").GetProperty("status").GetInt32());
        Assert.False(Doc("b").TryGetProperty("user", out _));
        Assert.Equal("eu", Doc("e").GetProperty("region").GetString());
        var index = es.Documents().First(d => d.Source.GetProperty("msg").GetString() == $"{run}-a").Index;
        Assert.Equal("integer", es.MappedType(index, "attributes.status"));
        Assert.Equal("long", es.MappedType(index, "attributes.bytes"));
        Assert.Equal("double", es.MappedType(index, "attributes.latency_ms"));
        Assert.Equal("keyword", es.MappedType(index, "attributes.region"));

        // The Hive sink writes typed Parquet columns (DuckDB reads them back), version 2's region in a new file, and its DDL line.
        var parquet = $"read_parquet({DuckDb.Literal(Path.Combine(hive, "**", "*.parquet"))}, union_by_name = true)";
        List<object?[]> HiveRows() => Directory.Exists(hive) && Directory.EnumerateFiles(hive, "*.parquet", SearchOption.AllDirectories).Any()
            ? DuckDb.Query($"SELECT message, status, bytes, latency_ms, \"user\", region, typeof(status), typeof(bytes), typeof(latency_ms) FROM {parquet} WHERE message LIKE '{run}-%' ORDER BY message")
            : [];
        await Poll.UntilAsync(() => Task.FromResult(HiveRows().Count >= 3), Limits.PumpCatchUp, () => $"the hive sink did not publish 3 events of {Type}. {node1()}");
        var hiveRows = HiveRows();
        Assert.Equal([$"{run}-a", 200, 1534L, 12.5, "ann", null, "INTEGER", "BIGINT", "DOUBLE"], hiveRows[0]);
        Assert.Equal([$"{run}-b", 204, 0L, 1.0, null, null], hiveRows[1][..6]);
        Assert.Equal([$"{run}-e", 500, 2L, 3.25, null, "eu"], hiveRows[2][..6]);
        var ddl = await File.ReadAllTextAsync(Path.Combine(hive, "nwdp_logs_" + Type, "_ddl", "create_table.sql"));
        Assert.Contains("  `status` INT,\n  `bytes` BIGINT,\n  `latency_ms` DOUBLE,\n  `user` STRING\n)", ddl);
        Assert.Contains($"ALTER TABLE `nwdp_logs_{Type}` ADD COLUMNS (`region` STRING) CASCADE;", ddl);

        Assert.Equal(id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Read(node.Kafka, TopicNames.ForType(Type), 1)[0].AsSpan(1, 4)));
    }

    [Fact]
    public async Task Logical_types_are_checked_at_ingress_in_their_text_forms_and_confluents_deserializer_reads_them_typed()
    {
        const string type = "typedorder";
        using var dir = new TempDir();
        await using var node = await NodeProcess.StartAsync("typed-order", dir.Path, settings: NodeProcess.FastPump);
        using var admin = node.AdminClient();
        using (var put = await admin.PutAsync($"/v1/types/{type}/schema", new StringContent(NeverwinterDP.Tests.Sinks.TypedWebSchemas.Logical, Encoding.UTF8, "application/json")))
        {
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        }
        using var http = Ingress.NewClient();
        const string good = """{"msg":"order-1","host":"shop-1","at":"2026-12-07T13:00:00.123+01:00","at_us":1796644800123456,"day":"2026-12-07","price":-1234.5,"order_id":"0F8FAD5B-D9CB-469F-A165-70867728950E","state":"PAID","blob":"AAH/Ig=="}""";

        // A uuid that does not parse: 400 naming the field, the line and the type, nothing of the request kept.
        using (var response = await Ingress.PostAsync(http, node.Http, type, [good, good.Replace("0F8FAD5B-D9CB", "0F8FAD5B-XXXX", StringComparison.Ordinal)]))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            using var error = JsonDocument.Parse(body);
            Assert.Equal(2, error.RootElement.GetProperty("line").GetInt32());
            Assert.Equal("order_id", error.RootElement.GetProperty("field").GetString());
            Assert.Equal("uuid", error.RootElement.GetProperty("expected").GetString());
            Assert.Contains("(8-4-4-4-12 hex digits)", error.RootElement.GetProperty("error").GetString());
        }
        using (var response = await Ingress.PostAsync(http, node.Http, type, [good.Replace("\"price\":-1234.5", "\"price\":-1234.567", StringComparison.Ordinal)]))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            Assert.Equal("decimal(9,2)", JsonDocument.Parse(body).RootElement.GetProperty("expected").GetString());
        }
        using (var response = await Ingress.PostAsync(http, node.Http, type, [good]))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = new Uri(node.Http, "/schemas").ToString() });
        var record = await new AvroDeserializer<GenericRecord>(client).DeserializeAsync(
            Assert.Single(Read(node.Kafka, TopicNames.ForType(type), 1)), false, new SerializationContext(MessageComponentType.Value, TopicNames.ForType(type)));
        Assert.Equal("order-1", record["message"]);
        Assert.Equal(NeverwinterDP.Tests.Sinks.TypedWebSchemas.At, record["at"]);
        Assert.Equal(NeverwinterDP.Tests.Sinks.TypedWebSchemas.AtMicros, record["at_us"]);
        Assert.Equal(new DateTime(2026, 12, 7), record["day"]);
        Assert.Equal("-1234.50", ((Avro.AvroDecimal)record["price"]).ToString());
        Assert.Equal(Guid.Parse(NeverwinterDP.Tests.Sinks.TypedWebSchemas.OrderId), record["order_id"]);
        Assert.Equal("PAID", ((GenericEnum)record["state"]).Value);
        Assert.Equal(NeverwinterDP.Tests.Sinks.TypedWebSchemas.Blob, record["blob"]);
    }

    private static List<byte[]> Read(string bootstrap, string topic, int count)
    {
        Librdkafka.EnsureLoaded();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "typed-proof-" + Guid.NewGuid(), AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var values = new List<byte[]>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (values.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200))?.Message?.Value is { } value) values.Add(value);
        }
        consumer.Close();
        return values.Count >= count ? values : throw new TimeoutException($"{values.Count} of {count} records on {topic}");
    }
}
