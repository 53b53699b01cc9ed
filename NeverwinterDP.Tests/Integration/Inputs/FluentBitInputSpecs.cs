using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.Protocol.FluentBitChunks;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>
/// Fluent Bit's <c>http</c> output, every format, posted as it posts them (its Content-Type per format, its
/// User-Agent, gzip as <c>compress gzip</c> does) to <c>/v1/fluent-bit</c>: every record lands once in the files sink.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class FluentBitInputSpecs
{
    private static HttpRequestMessage FluentBitPost(string uri, byte[] body, string contentType, bool gzip = false)
    {
        if (gzip)
        {
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(body);
            body = ms.ToArray();
        }
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (gzip) content.Headers.ContentEncoding.Add("gzip");
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.TryAddWithoutValidation("User-Agent", "Fluent-Bit");
        return request;
    }

    private static string Json(string format, int i) => $$$"""{"date":1700000000.{{{i:D6}}},"log":"{{{format}}}-{{{i}}}","stream":"stdout","kubernetes":{"pod_name":"web-1"}}""";

    [Fact]
    public async Task Every_format_lands_once_in_the_files_sink_with_the_entry_time_and_the_record_as_attributes()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        const string uri = "/v1/fluent-bit?type=fluentbit";
        var record = (string format, int i) => Map(KV("log", $"{format}-{i}"), KV("stream", "stdout"), KV("kubernetes", Map(KV("pod_name", "web-1"))));
        var range = Enumerable.Range(1, 3).ToList();
        var requests = new List<(string Format, HttpRequestMessage Request)>
        {
            ("msgpack", FluentBitPost(uri, Chunk([.. range.Select(i => new Entry(1_700_000_000, (uint)i * 1000, record("msgpack", i)))]), "application/msgpack")),
            ("msgpack-gzip", FluentBitPost(uri, Chunk([.. range.Select(i => new Entry(1_700_000_000, (uint)i * 1000, record("msgpack-gzip", i), V2: false))]), "application/msgpack", gzip: true)),
            ("json", FluentBitPost(uri, Encoding.UTF8.GetBytes("[" + string.Join(",", range.Select(i => Json("json", i))) + "]"), "application/json")),
            ("json_stream", FluentBitPost(uri, Encoding.UTF8.GetBytes(string.Concat(range.Select(i => Json("json_stream", i)))), "application/json")),
            ("json_lines", FluentBitPost(uri, Encoding.UTF8.GetBytes(string.Concat(range.Select(i => Json("json_lines", i) + "\n"))), "application/x-ndjson")),
            ("msgpack on /v1/events", FluentBitPost("/v1/events?type=fluentbit", Chunk([.. range.Select(i => new Entry(1_700_000_000, (uint)i * 1000, record("events", i)))]), "application/msgpack")),
        };
        foreach (var (format, request) in requests)
        {
            using var response = await node.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{format}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("{\"accepted\":3}", await response.Content.ReadAsStringAsync());
        }

        var topic = TopicNames.ForType("fluentbit");
        await Eventually(() => node.PublishedLines(topic).Count >= 18, TimeSpan.FromSeconds(60), () => $"{node.PublishedLines(topic).Count} lines");
        var lines = node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var expected = new[] { "msgpack", "msgpack-gzip", "json", "json_stream", "json_lines", "events" }.SelectMany(f => range.Select(i => $"{f}-{i}")).Order();
        Assert.Equal(expected, lines.Select(l => l.GetProperty("msg").GetString()).Order());
        Assert.All(lines, l =>
        {
            var i = int.Parse(l.GetProperty("msg").GetString()!.Split('-')[^1]);
            Assert.Equal(1_700_000_000_000 + i / 1000, l.GetProperty("ts").GetInt64()); // µs → ms, floored
            Assert.Equal("stdout", l.GetProperty("attributes").GetProperty("stream").GetString());
            Assert.Equal("""{"pod_name":"web-1"}""", l.GetProperty("attributes").GetProperty("kubernetes").GetString());
        });
    }

    [Fact]
    public async Task A_malformed_chunk_is_refused_whole_with_the_entry_named_and_nothing_lands()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var chunk = Chunk(
            new Entry(1_700_000_000, 0, Map(KV("log", "fine"))),
            new Entry(1_700_000_000, 0, Map(KV("log", "fine too"))),
            new Entry(1_700_000_000, 0, Map(KV("stream", "stdout"))));

        using var refused = await node.Client.SendAsync(FluentBitPost("/v1/fluent-bit?type=fbbad", chunk, "application/msgpack"));
        var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal((3, "missing 'msg' (or 'message', 'log')"), (body.GetProperty("line").GetInt32(), body.GetProperty("error").GetString()));

        using var cut = await node.Client.SendAsync(FluentBitPost("/v1/fluent-bit?type=fbbad", chunk[..^2], "application/msgpack"));
        Assert.Equal(HttpStatusCode.BadRequest, cut.StatusCode);
        Assert.Contains("not valid MessagePack", await cut.Content.ReadAsStringAsync());

        // A request after them lands; it is the only one in the topic.
        using var fine = await node.Client.SendAsync(FluentBitPost("/v1/fluent-bit?type=fbbad", Chunk(new Entry(1_700_000_000, 0, Map(KV("log", "after")))), "application/msgpack"));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        var topic = TopicNames.ForType("fbbad");
        await Eventually(() => node.PublishedLines(topic).Count >= 1, TimeSpan.FromSeconds(60));
        Assert.Equal(["after"], node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()));
    }
}
