using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>
/// Elasticsearch's <c>_bulk</c> on a node: Elastic's own .NET client as the sender, every document once in the
/// files sink with the index → type rule and ECS fields mapped; per-item answers; the probes shippers make.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class BulkInputSpecs
{
    /// <summary>A document as Filebeat writes one (ECS).</summary>
    public sealed record Doc(
        [property: JsonPropertyName("@timestamp")] string Timestamp,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("host")] DocHost Host,
        [property: JsonPropertyName("log")] DocLog Log,
        [property: JsonPropertyName("service")] DocService Service);

    public sealed record DocHost([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("os")] Dictionary<string, string> Os);

    public sealed record DocLog([property: JsonPropertyName("level")] string Level, [property: JsonPropertyName("file")] Dictionary<string, string> File);

    public sealed record DocService([property: JsonPropertyName("name")] string Name);

    private static Doc Document(int i) => new($"2025-01-02T03:04:05.{i:D3}Z", $"bulk-{i}", new DocHost("web-3", new() { ["family"] = "debian" }),
        new DocLog(i % 2 == 0 ? "info" : "error", new() { ["path"] = "/var/log/app.log" }), new DocService("shop"));

    [Fact]
    public async Task Documents_sent_with_the_Elasticsearch_client_land_once_with_the_index_as_type_and_ECS_fields_mapped()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var client = new ElasticsearchClient(new ElasticsearchClientSettings(node.Http));
        const int count = 20;
        var operations = new BulkOperationsCollection();
        for (var i = 0; i < count; i++)
            operations.Add(i % 2 == 0 ? new BulkCreateOperation<Doc>(Document(i)) { Index = "logs-shop.web-default" } : new BulkIndexOperation<Doc>(Document(i)) { Index = "filebeat-8.17.0-2025.01.02-000001", Id = $"doc-{i}" });

        var response = await client.BulkAsync(new BulkRequest { Operations = operations });

        Assert.True(response.IsValidResponse, response.DebugInformation);
        Assert.False(response.Errors);
        Assert.Equal(count, response.Items.Count);
        Assert.All(response.Items, item => Assert.Equal((201, "created"), (item.Status, item.Result)));
        Assert.Equal("doc-1", response.Items.ElementAt(1).Id);
        Assert.Equal(20, response.Items.First().Id!.Length);

        var web = TopicNames.ForType("shop.web");
        var filebeat = TopicNames.ForType("filebeat");
        await Eventually(() => node.PublishedLines(web).Count + node.PublishedLines(filebeat).Count >= count, TimeSpan.FromSeconds(60));
        var lines = node.PublishedLines(web).Concat(node.PublishedLines(filebeat)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"bulk-{i}").Order(), lines.Select(l => l.GetProperty("msg").GetString()).Order());
        Assert.All(lines, l =>
        {
            var i = int.Parse(l.GetProperty("msg").GetString()!["bulk-".Length..]);
            Assert.Equal(i % 2 == 0 ? "shop.web" : "filebeat", l.GetProperty("type").GetString());
            Assert.Equal(DateTimeOffset.Parse("2025-01-02T03:04:05Z").ToUnixTimeMilliseconds() + i, l.GetProperty("ts").GetInt64());
            Assert.Equal(("web-3", "shop", i % 2 == 0 ? "info" : "error"), (l.GetProperty("host").GetString(), l.GetProperty("process").GetString(), l.GetProperty("level").GetString()));
            Assert.Equal("debian", JsonDocument.Parse(l.GetProperty("attributes").GetProperty("host.os").GetString()!).RootElement.GetProperty("family").GetString());
            Assert.Equal("""{"path":"/var/log/app.log"}""", l.GetProperty("attributes").GetProperty("log.file").GetString());
        });
    }

    [Fact]
    public async Task Delete_update_and_bad_documents_are_answered_per_item_and_a_broken_body_is_refused_whole()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var body = string.Join("\n",
            """{"index":{"_id":"1"}}""", """{"message":"kept"}""",
            """{"delete":{"_id":"2"}}""",
            """{"update":{"_id":"3"}}""", """{"doc":{"message":"x"}}""",
            """{"create":{}}""", """{"no_message":true}""",
            """{"create":{}}""", """not json""") + "\n";

        using var response = await node.Client.PostAsync("/app-2025.01.02/_bulk", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Elasticsearch", response.Headers.GetValues("X-elastic-product").Single());
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(answer.GetProperty("errors").GetBoolean());
        var items = answer.GetProperty("items").EnumerateArray().Select(i => i.EnumerateObject().Single()).ToList();
        Assert.Equal(["index", "delete", "update", "create", "create"], items.Select(i => i.Name));
        Assert.Equal([201, 400, 400, 400, 400], items.Select(i => i.Value.GetProperty("status").GetInt32()));
        Assert.Equal("app-2025.01.02", items[0].Value.GetProperty("_index").GetString());
        Assert.Equal("illegal_argument_exception", items[1].Value.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("missing 'msg'", items[3].Value.GetProperty("error").GetProperty("reason").GetString());
        Assert.Equal("document_parsing_exception", items[4].Value.GetProperty("error").GetProperty("type").GetString());

        using var broken = await node.Client.PostAsync("/_bulk", new StringContent("""{"index":{"_index":"app"}}""" + "\n", Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        var error = JsonDocument.Parse(await broken.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("no source line", error.GetProperty("error").GetProperty("reason").GetString());
        Assert.Equal(400, error.GetProperty("status").GetInt32());

        var topic = TopicNames.ForType("app");
        await Eventually(() => node.PublishedLines(topic).Count >= 1, TimeSpan.FromSeconds(60));
        Assert.Equal(["kept"], node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()));
    }

    [Fact]
    public async Task The_probes_shippers_make_are_answered_as_Elasticsearch_answers_them()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        var client = new ElasticsearchClient(new ElasticsearchClientSettings(node.Http));

        var info = await client.InfoAsync();
        Assert.True(info.IsValidResponse, info.DebugInformation);
        Assert.Equal("8.19.0", info.Version.Number);

        var banner = JsonDocument.Parse(await node.Client.GetStringAsync("/")).RootElement;
        Assert.Equal("You Know, for Search", banner.GetProperty("tagline").GetString());
        Assert.Equal("active", JsonDocument.Parse(await node.Client.GetStringAsync("/_license")).RootElement.GetProperty("license").GetProperty("status").GetString());
        using (var head = await node.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/_index_template/filebeat-8.17.0"))) Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        using (var put = await node.Client.PutAsync("/_index_template/filebeat-8.17.0", new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.Equal("""{"acknowledged":true}""", await put.Content.ReadAsStringAsync());
        var nodes = JsonDocument.Parse(await node.Client.GetStringAsync("/_nodes/http")).RootElement;
        Assert.Equal(1, nodes.GetProperty("_nodes").GetProperty("total").GetInt32());
    }
}
