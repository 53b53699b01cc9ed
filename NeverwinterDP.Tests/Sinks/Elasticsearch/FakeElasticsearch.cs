using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>Which server the fake plays: version numbers, the product header, the shape of _bulk items and errors.</summary>
public enum FakeFlavor
{
    /// <summary>7.10.2: before the product header (known by tagline); items carry <c>_type: _doc</c>.</summary>
    Elasticsearch7Legacy,

    /// <summary>7.17: <c>X-Elastic-Product</c> on every response; items carry <c>_type: _doc</c>.</summary>
    Elasticsearch7,

    /// <summary>8.x: no <c>_type</c>; mapping errors are <c>document_parsing_exception</c>.</summary>
    Elasticsearch8,

    /// <summary>9.x: as 8.</summary>
    Elasticsearch9,

    /// <summary>OpenSearch 2.x: no product header, <c>version.distribution: opensearch</c>, mapper_parsing_exception.</summary>
    OpenSearch,
}

/// <summary>When a dropped connection happens.</summary>
public enum FakeAbort
{
    /// <summary>After the first bytes of the body, while the client is still sending.</summary>
    WhileReading,

    /// <summary>After reading the request, before storing anything.</summary>
    BeforeStoring,

    /// <summary>After storing the documents, before answering (the client cannot know they were written).</summary>
    AfterStoring,
}

/// <summary>A stored document.</summary>
public sealed record FakeDocument(string Index, string Id, long Version, long SeqNo, JsonElement Source);

/// <summary>One <c>PUT /{index}/_mapping</c> as the fake received it.</summary>
public sealed record FakeMappingRequest(string Index, string Body);

/// <summary>One _bulk request as the fake received it.</summary>
public sealed record FakeBulkRequest(int Items, long BodyBytes, long WireBytes, string? ContentEncoding, string? ContentType);

/// <summary>
/// An in-memory Elasticsearch/OpenSearch speaking the documented REST API on Kestrel (127.0.0.1, port 0):
/// <c>GET /</c>, <c>GET /_cluster/health</c>, <c>POST|PUT /_bulk</c> and <c>/{index}/_bulk</c> (create, index,
/// delete; gzip/deflate bodies), <c>PUT /{index}</c> (mappings), <c>GET /{index}/_doc/{id}</c>,
/// <c>GET /{index}/_count</c>, <c>PUT /{index}/_mapping</c>, <c>PUT /_data_stream/{name}</c>. Indices are created on first write with dynamic mapping: a field's first value
/// fixes its type (number, text, date, boolean, object), and a later value that type cannot hold is answered
/// per item with 400 <c>mapper_parsing_exception</c> (<c>document_parsing_exception</c> on 8/9), as the real
/// server does. On 8 and 9 an auto-created <c>logs-*-*</c> name is a data stream, as the built-in <c>logs</c>
/// template makes it: only <c>create</c>, <c>@timestamp</c> required, strings mapped as keyword and the ECS fields
/// <c>ip</c>, <c>*.ip</c>, <c>*_ip</c> as ip (a value that is no IP address is refused). Failures on demand: the next N _bulk requests answered 429/503/..., dropped connections,
/// per-document item errors, required authentication, a red cluster.
/// </summary>
public sealed partial class FakeElasticsearch : IAsyncDisposable
{
    private static readonly Regex DateLike = new(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$", RegexOptions.Compiled);
    private static readonly HashSet<string> NumericTypes = ["long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"];

    private WebApplication _app;
    private readonly object _gate = new();
    private readonly Dictionary<string, FakeIndex> _indices = new(StringComparer.Ordinal);
    private readonly List<FakeBulkRequest> _bulkRequests = new();
    private readonly List<FakeMappingRequest> _mappingRequests = new();
    private readonly Dictionary<string, ItemFailure> _itemFailures = new(StringComparer.Ordinal);
    private readonly Queue<int> _failNext = new();
    private readonly Queue<int> _failNextMapping = new();
    private readonly Queue<FakeAbort> _abortNext = new();
    private string? _requiredAuthorization;
    private long _requests;

    private FakeElasticsearch(WebApplication app, FakeFlavor flavor)
    {
        _app = app;
        Flavor = flavor;
    }

    public FakeFlavor Flavor { get; }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary><c>green</c>, <c>yellow</c> or <c>red</c>: what <c>GET /_cluster/health</c> says.</summary>
    public string ClusterStatus { get; set; } = "green";

    /// <summary>The server's <c>http.max_content_length</c> (decoded body): larger requests get 413.</summary>
    public long MaxContentLength { get; set; } = 100L * 1024 * 1024;

    /// <summary>False: keep only ids and versions (benchmarks with millions of documents).</summary>
    public bool KeepSources { get; set; } = true;

    public string Version => Flavor switch
    {
        FakeFlavor.Elasticsearch7Legacy => "7.10.2",
        FakeFlavor.Elasticsearch7 => "7.17.25",
        FakeFlavor.Elasticsearch8 => "8.15.3",
        FakeFlavor.Elasticsearch9 => "9.0.0",
        _ => "2.17.1",
    };

    private bool SendsProductHeader => Flavor is FakeFlavor.Elasticsearch7 or FakeFlavor.Elasticsearch8 or FakeFlavor.Elasticsearch9;

    private bool HasTypes => Flavor is FakeFlavor.Elasticsearch7Legacy or FakeFlavor.Elasticsearch7;

    private string ParsingException => Flavor is FakeFlavor.Elasticsearch8 or FakeFlavor.Elasticsearch9 ? "document_parsing_exception" : "mapper_parsing_exception";

    /// <summary>Every HTTP request answered or dropped.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    public IReadOnlyList<FakeBulkRequest> BulkRequests
    {
        get { lock (_gate) return _bulkRequests.ToList(); }
    }

    public static async Task<FakeElasticsearch> StartAsync(FakeFlavor flavor = FakeFlavor.Elasticsearch8)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var fake = new FakeElasticsearch(app, flavor);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.Url = new Uri(app.Urls.Single() + "/");
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private bool _stopped;

    /// <summary>Stops the server (connections refused from now on); the documents are kept for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Starts the server again on the same port, with the same documents (an outage that ends).</summary>
    public async Task RestartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Url.Port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        _stopped = false;
    }

    // ---- failures on demand -------------------------------------------------------------------------------

    /// <summary>The next <paramref name="count"/> _bulk requests are answered <paramref name="status"/> (429, 502, 503, 504, ...) and store nothing.</summary>
    public void FailNextBulkRequests(int count, int status)
    {
        lock (_gate) for (var i = 0; i < count; i++) _failNext.Enqueue(status);
    }

    /// <summary>The next <paramref name="count"/> <c>PUT /{index}/_mapping</c> requests are answered <paramref name="status"/> (429, 503, ...) and change nothing.</summary>
    public void FailNextMappingRequests(int count, int status)
    {
        lock (_gate) for (var i = 0; i < count; i++) _failNextMapping.Enqueue(status);
    }

    /// <summary>The next <paramref name="count"/> _bulk requests lose their connection (no response at all).</summary>
    public void AbortNextBulkRequests(int count, FakeAbort when)
    {
        lock (_gate) for (var i = 0; i < count; i++) _abortNext.Enqueue(when);
    }

    /// <summary>
    /// The document <paramref name="id"/> gets an item error with <paramref name="status"/> the next
    /// <paramref name="times"/> times it is written (429 es_rejected_execution_exception, 503
    /// unavailable_shards_exception, 400 illegal_argument_exception unless <paramref name="type"/> says otherwise).
    /// </summary>
    public void FailItem(string id, int status, int times = int.MaxValue, string? type = null)
    {
        lock (_gate) _itemFailures[id] = new ItemFailure(status, times, type);
    }

    /// <summary>Every request must carry HTTP basic credentials (401 security_exception otherwise).</summary>
    public void RequireBasicAuth(string username, string password) =>
        _requiredAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));

    /// <summary>Every request must carry <c>Authorization: ApiKey &lt;encoded&gt;</c>.</summary>
    public void RequireApiKey(string encoded) => _requiredAuthorization = "ApiKey " + encoded;

    // ---- reading the store (tests) ---------------------------------------------------------------------------

    public IReadOnlyList<FakeDocument> Documents()
    {
        lock (_gate)
        {
            return _indices.Values.SelectMany(i => i.Docs.Values.Select(d => new FakeDocument(i.Name, d.Id, d.Version, d.SeqNo, d.Source)))
                .OrderBy(d => d.Index, StringComparer.Ordinal).ThenBy(d => d.SeqNo).ToList();
        }
    }

    public IReadOnlyList<string> IndexNames()
    {
        lock (_gate) return _indices.Keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every <c>PUT /{index}/_mapping</c> received, in order.</summary>
    public IReadOnlyList<FakeMappingRequest> MappingRequests
    {
        get { lock (_gate) return _mappingRequests.ToList(); }
    }

    /// <summary>The mapped type of a dotted field path in an index (null when unmapped).</summary>
    public string? MappedType(string index, string path)
    {
        lock (_gate) return _indices.TryGetValue(index, out var i) && i.Mapping.TryGetValue(path, out var t) ? t : null;
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var request = context.Request;
        var response = context.Response;
        if (SendsProductHeader) response.Headers["X-elastic-product"] = "Elasticsearch";

        if (_requiredAuthorization is { } required && request.Headers.Authorization.ToString() != required)
        {
            var missing = request.Headers.Authorization.Count == 0;
            response.Headers.WWWAuthenticate = new[] { "Basic realm=\"security\" charset=\"UTF-8\"", "ApiKey" };
            var reason = missing
                ? $"missing authentication credentials for REST request [{request.Path}]"
                : $"unable to authenticate with provided credentials for REST request [{request.Path}]";
            await WriteErrorAsync(context, 401, "security_exception", reason);
            return;
        }

        var segments = request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var method = request.Method;
        switch (segments)
        {
            case [] when method is "GET" or "HEAD":
                await WriteJsonAsync(context, 200, Info);
                return;
            case ["_cluster", "health"] when method == "GET":
                await WriteJsonAsync(context, 200, Health);
                return;
            case ["_component_template", var name] when method is "PUT" or "GET":
                await ComponentTemplateAsync(context, name);
                return;
            case ["_index_template", var name] when method == "PUT":
                await PutIndexTemplateAsync(context, name);
                return;
            case [var stream, "_rollover"] when method == "POST":
                await RolloverAsync(context, stream);
                return;
            case ["_bulk"] when method is "POST" or "PUT":
                await BulkAsync(context, null);
                return;
            case [var index, "_bulk"] when method is "POST" or "PUT":
                await BulkAsync(context, index);
                return;
            case [var index, "_mapping"] when method is "PUT" or "POST" && !index.StartsWith('_'):
                await PutMappingAsync(context, index);
                return;
            case ["_data_stream", var name] when method == "PUT":
                await CreateDataStreamAsync(context, name);
                return;
            case [var index] when method == "PUT" && !index.StartsWith('_'):
                await CreateIndexAsync(context, index);
                return;
            case [var index, "_doc", var id] when method == "GET":
                await GetDocAsync(context, index, id);
                return;
            case [var index, "_count"] when method is "GET" or "POST":
                await CountAsync(context, index);
                return;
            case ["_search"] when method is "GET" or "POST":
                await SearchAsync(context, "_all");
                return;
            case [var index, "_search"] when method is "GET" or "POST":
                await SearchAsync(context, index);
                return;
            default:
                await WriteJsonAsync(context, 400, w =>
                {
                    w.WriteString("error", $"no handler found for uri [{request.Path}{request.QueryString}] and method [{method}]");
                    w.WriteNumber("status", 400);
                });
                return;
        }
    }

    private void Info(Utf8JsonWriter w)
    {
        w.WriteString("name", "fake-node-1");
        w.WriteString("cluster_name", Flavor == FakeFlavor.OpenSearch ? "opensearch-cluster" : "docker-cluster");
        w.WriteString("cluster_uuid", "H3pT1dq5Sb6m7vXqPq3mJQ");
        w.WriteStartObject("version");
        if (Flavor == FakeFlavor.OpenSearch) w.WriteString("distribution", "opensearch");
        w.WriteString("number", Version);
        if (Flavor != FakeFlavor.OpenSearch) w.WriteString("build_flavor", "default");
        w.WriteString("build_type", "docker");
        w.WriteString("build_hash", "0000000000000000000000000000000000000000");
        w.WriteString("build_date", "2024-10-01T00:00:00.000000000Z");
        w.WriteBoolean("build_snapshot", false);
        w.WriteString("lucene_version", Flavor switch
        {
            FakeFlavor.Elasticsearch7Legacy => "8.7.0",
            FakeFlavor.Elasticsearch7 => "8.11.3",
            FakeFlavor.Elasticsearch8 => "9.11.1",
            FakeFlavor.Elasticsearch9 => "10.1.0",
            _ => "9.11.1",
        });
        w.WriteString("minimum_wire_compatibility_version", Flavor switch
        {
            FakeFlavor.Elasticsearch7Legacy or FakeFlavor.Elasticsearch7 => "6.8.0",
            FakeFlavor.Elasticsearch8 => "7.17.0",
            FakeFlavor.Elasticsearch9 => "8.18.0",
            _ => "7.10.0",
        });
        w.WriteString("minimum_index_compatibility_version", Flavor switch
        {
            FakeFlavor.Elasticsearch7Legacy or FakeFlavor.Elasticsearch7 => "6.0.0-beta1",
            FakeFlavor.Elasticsearch8 => "7.0.0",
            FakeFlavor.Elasticsearch9 => "8.0.0",
            _ => "7.0.0",
        });
        w.WriteEndObject();
        w.WriteString("tagline", Flavor == FakeFlavor.OpenSearch ? "The OpenSearch Project: https://opensearch.org/" : "You Know, for Search");
    }

    private void Health(Utf8JsonWriter w)
    {
        int indices;
        lock (_gate) indices = _indices.Count;
        w.WriteString("cluster_name", Flavor == FakeFlavor.OpenSearch ? "opensearch-cluster" : "docker-cluster");
        w.WriteString("status", ClusterStatus);
        w.WriteBoolean("timed_out", false);
        w.WriteNumber("number_of_nodes", 1);
        w.WriteNumber("number_of_data_nodes", 1);
        w.WriteNumber("active_primary_shards", ClusterStatus == "red" ? 0 : indices);
        w.WriteNumber("active_shards", ClusterStatus == "red" ? 0 : indices);
        w.WriteNumber("relocating_shards", 0);
        w.WriteNumber("initializing_shards", 0);
        w.WriteNumber("unassigned_shards", ClusterStatus == "green" ? 0 : indices);
        w.WriteNumber("delayed_unassigned_shards", 0);
        w.WriteNumber("number_of_pending_tasks", 0);
        w.WriteNumber("number_of_in_flight_fetch", 0);
        w.WriteNumber("task_max_waiting_in_queue_millis", 0);
        w.WriteNumber("active_shards_percent_as_number", ClusterStatus == "green" ? 100.0 : 50.0);
    }

    /// <summary>Reads a request body, decoding Content-Encoding; null (and an answer sent) when the headers are refused.</summary>
    private async Task<(byte[] Body, long Wire)?> ReadBodyAsync(HttpContext context)
    {
        var request = context.Request;
        var contentType = request.ContentType;
        var mediaType = contentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType is null)
        {
            await WriteJsonAsync(context, 406, w =>
            {
                w.WriteString("error", "Content-Type header is missing");
                w.WriteNumber("status", 406);
            });
            return null;
        }
        if (mediaType is not ("application/json" or "application/x-ndjson" or "application/vnd.elasticsearch+json" or "application/vnd.elasticsearch+x-ndjson"))
        {
            await WriteJsonAsync(context, 406, w =>
            {
                w.WriteString("error", $"Content-Type header [{contentType}] is not supported");
                w.WriteNumber("status", 406);
            });
            return null;
        }
        using var raw = new MemoryStream();
        await request.Body.CopyToAsync(raw);
        var wire = raw.Length;
        raw.Position = 0;
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream decoded = encoding switch
        {
            "" or "identity" => raw,
            "gzip" => new GZipStream(raw, CompressionMode.Decompress),
            "deflate" => new ZLibStream(raw, CompressionMode.Decompress),
            _ => Stream.Null,
        };
        if (decoded == Stream.Null)
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception", $"Unsupported Content-Encoding [{encoding}]");
            return null;
        }
        using var body = new MemoryStream();
        try
        {
            await decoded.CopyToAsync(body);
        }
        catch (InvalidDataException e)
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception", $"failed to decompress the request body: {e.Message}");
            return null;
        }
        return (body.ToArray(), wire);
    }

    private async Task BulkAsync(HttpContext context, string? pathIndex)
    {
        var watch = Stopwatch.StartNew();
        int? failStatus = null;
        FakeAbort? abort = null;
        lock (_gate)
        {
            if (_abortNext.Count > 0) abort = _abortNext.Dequeue();
            else if (_failNext.Count > 0) failStatus = _failNext.Dequeue();
        }
        if (abort == FakeAbort.WhileReading)
        {
            var some = new byte[16];
            _ = await context.Request.Body.ReadAsync(some);
            context.Abort();
            return;
        }
        var read = await ReadBodyAsync(context);
        if (read is not var (body, wire)) return;
        if (abort == FakeAbort.BeforeStoring)
        {
            context.Abort();
            return;
        }
        if (failStatus is { } status)
        {
            await WriteWholeRequestFailureAsync(context, status);
            return;
        }
        if (body.Length > MaxContentLength)
        {
            // What Netty answers before Elasticsearch sees the request: no JSON body.
            context.Response.StatusCode = 413;
            return;
        }

        // Parse the NDJSON: action line, then (except delete) a source line.
        if (body.Length == 0)
        {
            await WriteErrorAsync(context, 400, "action_request_validation_exception", "Validation Failed: 1: no requests added;");
            return;
        }
        if (body[^1] != (byte)'\n')
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");
            return;
        }
        var operations = new List<BulkOperation>();
        var lines = SplitLines(body);
        var validation = new List<string>();
        for (var l = 0; l < lines.Count; l++)
        {
            var line = lines[l];
            if (line.Length == 0) continue;
            string action;
            string? index = pathIndex, id = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var props = doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.EnumerateObject().ToList() : [];
                if (props.Count != 1 || props[0].Value.ValueKind != JsonValueKind.Object)
                {
                    await WriteErrorAsync(context, 400, "illegal_argument_exception", $"Malformed action/metadata line [{l + 1}], expected START_OBJECT or END_OBJECT but found [{doc.RootElement.ValueKind}]");
                    return;
                }
                action = props[0].Name;
                if (action is not ("create" or "index" or "delete" or "update"))
                {
                    await WriteErrorAsync(context, 400, "illegal_argument_exception", $"Malformed action/metadata line [{l + 1}], expected one of [create, delete, index, update] but found [{action}]");
                    return;
                }
                foreach (var meta in props[0].Value.EnumerateObject())
                {
                    switch (meta.Name)
                    {
                        case "_index": index = meta.Value.GetString(); break;
                        case "_id": id = meta.Value.GetString(); break;
                        case "_type" when !HasTypes:
                            await WriteErrorAsync(context, 400, "illegal_argument_exception", $"Action/metadata line [{l + 1}] contains an unknown parameter [_type]");
                            return;
                    }
                }
            }
            catch (JsonException e)
            {
                await WriteErrorAsync(context, 400, "x_content_parse_exception", $"[{l + 1}:1] {e.Message}");
                return;
            }
            if (action == "update")
            {
                await WriteErrorAsync(context, 400, "illegal_argument_exception", "the fake does not implement update");
                return;
            }
            byte[]? source = null;
            if (action != "delete")
            {
                if (++l >= lines.Count)
                {
                    await WriteErrorAsync(context, 400, "illegal_argument_exception", $"The bulk request must be terminated by a newline [\\n]");
                    return;
                }
                source = lines[l];
            }
            var n = operations.Count + 1;
            if (string.IsNullOrEmpty(index)) validation.Add($"{n}: index is missing;");
            if (id is not null && Encoding.UTF8.GetByteCount(id) > 512) validation.Add($"{n}: id [{id}] is too long, must be no longer than 512 bytes but was: {Encoding.UTF8.GetByteCount(id)};");
            if (action == "delete" && id is null) validation.Add($"{n}: id is missing;");
            operations.Add(new BulkOperation(action, index ?? "", id, source));
        }
        if (validation.Count > 0)
        {
            await WriteErrorAsync(context, 400, "action_request_validation_exception", "Validation Failed: " + string.Join(" ", validation));
            return;
        }
        if (operations.Count == 0)
        {
            await WriteErrorAsync(context, 400, "action_request_validation_exception", "Validation Failed: 1: no requests added;");
            return;
        }

        var results = new List<ItemResult>(operations.Count);
        lock (_gate)
        {
            _bulkRequests.Add(new FakeBulkRequest(operations.Count, body.Length, wire, context.Request.Headers.ContentEncoding.ToString() is { Length: > 0 } e ? e : null, context.Request.ContentType));
            foreach (var op in operations) results.Add(Apply(op));
        }
        if (abort == FakeAbort.AfterStoring)
        {
            context.Abort();
            return;
        }
        var took = watch.ElapsedMilliseconds;
        await WriteJsonAsync(context, 200, w =>
        {
            w.WriteNumber("took", took);
            w.WriteBoolean("errors", results.Any(r => r.Error is not null));
            w.WriteStartArray("items");
            foreach (var r in results) WriteItem(w, r);
            w.WriteEndArray();
        });
    }

    private ItemResult Apply(BulkOperation op)
    {
        var id = op.Id ?? NewId();
        if (_itemFailures.TryGetValue(id, out var failure) && failure.Times > 0)
        {
            _itemFailures[id] = failure with { Times = failure.Times - 1 };
            var (type, reason) = failure.Status switch
            {
                429 => ("es_rejected_execution_exception", "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=512, max_coordinating_and_primary_bytes=107374182] on EsThreadPoolExecutor[name = fake-node-1/write, queue capacity = 10000]"),
                503 => ("unavailable_shards_exception", $"[{op.Index}][0] primary shard is not active Timeout: [1m]"),
                _ => ("illegal_argument_exception", "failure injected by the test"),
            };
            return ItemResult.Failed(op, id, failure.Status, failure.Type ?? type, reason);
        }
        if (InvalidIndexName(op.Index) is { } invalid)
            return ItemResult.Failed(op, id, 400, "invalid_index_name_exception", $"Invalid index name [{op.Index}], {invalid}");

        if (!_indices.TryGetValue(op.Index, out var index))
        {
            if (op.Action == "delete") return new ItemResult(op, id, 404, "not_found", 1, 0, null, null);
            _indices[op.Index] = index = new FakeIndex(op.Index) { DataStream = MakesDataStream(op.Index) };
        }
        var exists = index.Docs.TryGetValue(id, out var existing);
        if (op.Action == "delete")
        {
            if (!exists) return new ItemResult(op, id, 404, "not_found", 1, index.NextSeqNo++, null, null);
            index.Docs.Remove(id);
            return new ItemResult(op, id, 200, "deleted", existing!.Version + 1, index.NextSeqNo++, null, null);
        }
        if (index.DataStream && op.Action != "create")
            return ItemResult.Failed(op, id, 400, "illegal_argument_exception", $"only write ops with an op_type of create are allowed in data streams", index);
        if (op.Action == "create" && exists)
        {
            return ItemResult.Failed(op, id, 409, "version_conflict_engine_exception",
                $"[{id}]: version conflict, document already exists (current version [{existing!.Version}])", index);
        }

        JsonElement source;
        try
        {
            using var doc = JsonDocument.Parse(op.Source);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return ItemResult.Failed(op, id, 400, ParsingException, "failed to parse", causedBy: ("not_x_content_exception", "Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes"));
            source = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return ItemResult.Failed(op, id, 400, ParsingException, "failed to parse", causedBy: ("json_parse_exception", e.Message));
        }
        if (index.DataStream && !source.TryGetProperty("@timestamp", out _))
            return ItemResult.Failed(op, id, 400, ParsingException, "data stream timestamp field [@timestamp] is missing", index);
        var added = new Dictionary<string, string>(StringComparer.Ordinal);
        if (MapObject(index, "", source, added, id) is { } mappingError)
            return ItemResult.Failed(op, id, 400, ParsingException, mappingError.Reason, index, mappingError.Cause);
        foreach (var (path, type) in added) index.Mapping[path] = type;

        var version = exists ? existing!.Version + 1 : 1;
        var seqNo = index.NextSeqNo++;
        index.Docs[id] = new StoredDoc(id, version, seqNo, KeepSources ? source : default);
        return new ItemResult(op, id, exists ? 200 : 201, exists ? "updated" : "created", version, seqNo, null, index);
    }

    /// <summary>Checks a document against the index's mapping, collecting the dynamic mappings its new fields add.</summary>
    private MappingError? MapObject(FakeIndex index, string prefix, JsonElement obj, Dictionary<string, string> added, string id)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (property.Name.Length == 0 || property.Name.Trim('.').Length == 0)
                return new MappingError($"field name cannot be an empty string", null);
            // Dots in a field name are object paths ({"a.b": 1} is {"a": {"b": 1}}).
            var path = prefix;
            var segments = property.Name.Split('.');
            for (var s = 0; s < segments.Length - 1; s++)
            {
                path = path.Length == 0 ? segments[s] : path + "." + segments[s];
                var type = Mapped(index, added, path);
                if (type is null) added[path] = "object";
                else if (type != "object") return ConcreteAsObject(path);
            }
            path = path.Length == 0 ? segments[^1] : path + "." + segments[^1];
            if (MapValue(index, path, property.Value, added, id) is { } error) return error;
        }
        return null;
    }

    private MappingError? MapValue(FakeIndex index, string path, JsonElement value, Dictionary<string, string> added, string id)
    {
        var mapped = Mapped(index, added, path);
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                    if (MapValue(index, path, item, added, id) is { } error) return error;
                return null;
            case JsonValueKind.Object when mapped is "flattened" or "flat_object":
                return null; // one field for every key: nothing mapped per key
            case JsonValueKind.Object:
                if (mapped is null) added[path] = "object";
                else if (mapped != "object") return new MappingError($"failed to parse field [{path}] of type [{mapped}] in document with id '{id}'. Preview of field's value: '{Preview(value)}'", ("illegal_state_exception", $"Can't get text on a START_OBJECT"));
                return MapObject(index, path, value, added, id);
        }
        if (mapped == "object") return new MappingError($"object mapping for [{path}] tried to parse field [{path.Split('.')[^1]}] as object, but found a concrete value", null);
        if (mapped is null)
        {
            var type = value.ValueKind switch
            {
                JsonValueKind.Number => value.TryGetInt64(out _) ? "long" : "float",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                // logs@mappings + ecs@mappings of a logs-*-* data stream: no date detection, ECS dynamic templates.
                _ when index.DataStream => path == "@timestamp" ? "date"
                    : path == "ip" || path.EndsWith(".ip", StringComparison.Ordinal) || path.EndsWith("_ip", StringComparison.Ordinal) ? "ip"
                    : "keyword",
                _ => DateLike.IsMatch(value.GetString()!) ? "date" : "text",
            };
            added[path] = type;
            if (type != "ip") return null;
            mapped = type; // the new mapping applies to this very value
        }
        var ok = mapped switch
        {
            "integer" when value.ValueKind == JsonValueKind.Number => value.TryGetInt32(out _),
            _ when NumericTypes.Contains(mapped) => value.ValueKind == JsonValueKind.Number
                || (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)), // coerce
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False || (value.ValueKind == JsonValueKind.String && value.GetString() is "true" or "false" or ""),
            "ip" => value.ValueKind == JsonValueKind.String && IsIpLiteral(value.GetString()!),
            "date" => value.ValueKind == JsonValueKind.Number || (value.ValueKind == JsonValueKind.String && DateLike.IsMatch(value.GetString()!)),
            // Nanoseconds since the epoch in a long: 1970 to 2262 only.
            "date_nanos" => value.ValueKind == JsonValueKind.String && DateLike.IsMatch(value.GetString()!) && string.CompareOrdinal(value.GetString(), "1970") >= 0 && string.CompareOrdinal(value.GetString(), "2262") < 0,
            "binary" => value.ValueKind == JsonValueKind.String && Convert.TryFromBase64String(value.GetString()!, new byte[value.GetString()!.Length], out _),
            _ => true, // text, keyword, ...: any scalar as text
        };
        if (ok) return null;
        var cause = mapped == "ip" ? ("illegal_argument_exception", $"'{Preview(value)}' is not an IP string literal.")
            : NumericTypes.Contains(mapped)
            ? ("illegal_argument_exception", $"For input string: \"{Preview(value)}\"")
            : mapped == "boolean"
                ? ("illegal_argument_exception", $"Failed to parse value [{Preview(value)}] as only [true] or [false] are allowed.")
                : ("illegal_argument_exception", $"failed to parse date field [{Preview(value)}] with format [strict_date_optional_time||epoch_millis]");
        return new MappingError($"failed to parse field [{path}] of type [{mapped}] in document with id '{id}'. Preview of field's value: '{Preview(value)}'", cause);
    }

    /// <summary>What InetAddresses.forString takes: dotted-quad IPv4 or IPv6 text (not "1" or "0x7f.1").</summary>
    private static bool IsIpLiteral(string text) =>
        System.Net.IPAddress.TryParse(text, out _) && (text.Contains(':') || (text.Split('.').Length == 4 && text.All(c => char.IsAsciiDigit(c) || c == '.')));

    /// <summary>Elasticsearch 8+ installs the index template <c>logs</c> (pattern <c>logs-*-*</c>, data_stream: {}): auto-created names that match become data streams.</summary>
    private bool MakesDataStream(string name) =>
        Flavor is FakeFlavor.Elasticsearch8 or FakeFlavor.Elasticsearch9 && name.StartsWith("logs-", StringComparison.Ordinal) && name.IndexOf('-', 5) > 5;

    private static string? Mapped(FakeIndex index, Dictionary<string, string> added, string path) =>
        added.TryGetValue(path, out var t) ? t : index.Mapping.GetValueOrDefault(path);

    private static MappingError ConcreteAsObject(string path) =>
        new($"Could not dynamically add mapping for field [{path}.x]. Existing mapping for [{path}] must be of type object but found [text].", null);

    private static string Preview(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string? InvalidIndexName(string name)
    {
        if (name != name.ToLowerInvariant()) return "must be lowercase";
        if (name.IndexOfAny("\\/*?\"<>| ,#:".ToCharArray()) >= 0) return "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, :]";
        if (name[0] is '_' or '-' or '+') return "must not start with '_', '-', or '+'";
        if (name is "." or "..") return "must not be '.' or '..'";
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > 255) return $"index name is too long, ({bytes} > 255)";
        return null;
    }

    private static string NewId() => Convert.ToBase64String(Guid.NewGuid().ToByteArray()[..15]).Replace('+', '-').Replace('/', '_');

    private void WriteItem(Utf8JsonWriter w, ItemResult r)
    {
        w.WriteStartObject();
        w.WriteStartObject(r.Op.Action);
        // A data stream answers with the backing index the document went to.
        w.WriteString("_index", r.Index is { DataStream: true } ds ? ds.BackingIndex : r.Op.Index);
        if (HasTypes) w.WriteString("_type", "_doc");
        w.WriteString("_id", r.Id);
        if (r.Error is { } error)
        {
            w.WriteNumber("status", r.Status);
            w.WriteStartObject("error");
            w.WriteString("type", error.Type);
            w.WriteString("reason", error.Reason);
            if (error.CausedBy is var (causeType, causeReason))
            {
                w.WriteStartObject("caused_by");
                w.WriteString("type", causeType);
                w.WriteString("reason", causeReason);
                w.WriteEndObject();
            }
            if (r.Status is 409 or 404)
            {
                w.WriteString("index_uuid", "aQ3bYcT9Q0mZ2lW6nJ8kRg");
                w.WriteString("shard", "0");
                w.WriteString("index", r.Op.Index);
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteNumber("_version", r.Version);
            w.WriteString("result", r.Result);
            w.WriteStartObject("_shards");
            w.WriteNumber("total", 2);
            w.WriteNumber("successful", 1);
            w.WriteNumber("failed", 0);
            w.WriteEndObject();
            w.WriteNumber("_seq_no", r.SeqNo);
            w.WriteNumber("_primary_term", 1);
            w.WriteNumber("status", r.Status);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private async Task WriteWholeRequestFailureAsync(HttpContext context, int status)
    {
        switch (status)
        {
            case 429:
                await WriteErrorAsync(context, 429, "es_rejected_execution_exception",
                    "rejected execution of coordinating operation [coordinating_and_primary_bytes=107374182, replica_bytes=0, all_bytes=107374182, coordinating_operation_bytes=2048, max_coordinating_and_primary_bytes=107374182]");
                break;
            case 503:
                await WriteErrorAsync(context, 503, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];");
                break;
            case 502 or 504:
                // A load balancer in front of the cluster answers these, with its own HTML page.
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync($"<html><body><h1>{status} {(status == 502 ? "Bad Gateway" : "Gateway Time-out")}</h1></body></html>\n");
                break;
            default:
                await WriteErrorAsync(context, status, "exception", $"failure injected by the test ({status})");
                break;
        }
    }

    private async Task CreateIndexAsync(HttpContext context, string name)
    {
        if (MakesDataStream(name))
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception",
                $"cannot create index with name [{name}], because it matches with template [logs] that creates data streams only, use create data stream api instead");
            return;
        }
        if (InvalidIndexName(name) is { } invalid)
        {
            await WriteErrorAsync(context, 400, "invalid_index_name_exception", $"Invalid index name [{name}], {invalid}");
            return;
        }
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var read = await ReadBodyAsync(context);
            if (read is not var (body, _)) return;
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("mappings", out var mappings) && mappings.TryGetProperty("properties", out var properties))
                    ReadProperties(properties, "", mapping);
            }
            catch (JsonException e)
            {
                await WriteErrorAsync(context, 400, "x_content_parse_exception", e.Message);
                return;
            }
            if (UnknownType(mapping) is { } unknown)
            {
                await WriteErrorAsync(context, 400, "mapper_parsing_exception", unknown);
                return;
            }
        }
        lock (_gate)
        {
            if (_indices.ContainsKey(name))
            {
                // Answered outside the lock below.
                mapping = null!;
            }
            else
            {
                var index = new FakeIndex(name);
                foreach (var (path, type) in mapping) index.Mapping[path] = type;
                _indices[name] = index;
            }
        }
        if (mapping is null)
        {
            await WriteErrorAsync(context, 400, "resource_already_exists_exception", $"index [{name}/aQ3bYcT9Q0mZ2lW6nJ8kRg] already exists");
            return;
        }
        await WriteJsonAsync(context, 200, w =>
        {
            w.WriteBoolean("acknowledged", true);
            w.WriteBoolean("shards_acknowledged", true);
            w.WriteString("index", name);
        });
    }

    /// <summary>
    /// <c>PUT /{index}/_mapping</c>: adds fields to an existing index (or data stream). As the real server: all or
    /// nothing, and a field mapped already with another type is refused with 400 illegal_argument_exception
    /// (<c>mapper [x] cannot be changed from type [text] to [integer]</c>).
    /// </summary>
    private async Task PutMappingAsync(HttpContext context, string name)
    {
        var read = await ReadBodyAsync(context);
        if (read is not var (body, _)) return;
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("properties", out var properties)) ReadProperties(properties, "", mapping);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, 400, "x_content_parse_exception", e.Message);
            return;
        }
        if (UnknownType(mapping) is { } unknown)
        {
            lock (_gate) _mappingRequests.Add(new FakeMappingRequest(name, Encoding.UTF8.GetString(body)));
            await WriteErrorAsync(context, 400, "mapper_parsing_exception", unknown);
            return;
        }
        string? conflict = null;
        bool found;
        int? failStatus = null;
        lock (_gate)
        {
            _mappingRequests.Add(new FakeMappingRequest(name, Encoding.UTF8.GetString(body)));
            if (_failNextMapping.Count > 0) failStatus = _failNextMapping.Dequeue();
        }
        if (failStatus is { } status)
        {
            await WriteWholeRequestFailureAsync(context, status);
            return;
        }
        lock (_gate)
        {
            found = _indices.TryGetValue(name, out var index);
            if (found)
            {
                foreach (var (path, type) in mapping)
                {
                    if (index!.Mapping.TryGetValue(path, out var existing) && existing != type)
                    {
                        conflict = type == "object" || existing == "object"
                            ? $"can't merge a non object mapping [{path}] with an object mapping"
                            : $"mapper [{path}] cannot be changed from type [{existing}] to [{type}]";
                        break;
                    }
                }
                if (conflict is null) foreach (var (path, type) in mapping) index!.Mapping[path] = type;
            }
        }
        if (!found) await WriteIndexNotFoundAsync(context, name);
        else if (conflict is not null) await WriteErrorAsync(context, 400, "illegal_argument_exception", conflict);
        else await WriteJsonAsync(context, 200, w => w.WriteBoolean("acknowledged", true));
    }

    /// <summary><c>PUT /_data_stream/{name}</c>: only names an index template makes data streams of (<c>logs-*-*</c> on 8/9).</summary>
    private async Task CreateDataStreamAsync(HttpContext context, string name)
    {
        if (!MakesDataStream(name))
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception", $"no matching index template found for data stream [{name}]");
            return;
        }
        bool exists;
        lock (_gate)
        {
            exists = _indices.ContainsKey(name);
            if (!exists)
            {
                var stream = _indices[name] = new FakeIndex(name) { DataStream = true };
                ApplyTemplates(stream);
            }
        }
        if (exists) await WriteErrorAsync(context, 400, "resource_already_exists_exception", $"data_stream [{name}] already exists");
        else await WriteJsonAsync(context, 200, w => w.WriteBoolean("acknowledged", true));
    }

    /// <summary>A map's field type the product does not have (Elasticsearch's <c>flattened</c>, OpenSearch's <c>flat_object</c>), as the real one refuses it.</summary>
    private string? UnknownType(Dictionary<string, string> mapping)
    {
        var foreign = Flavor == FakeFlavor.OpenSearch ? "flattened" : "flat_object";
        return mapping.FirstOrDefault(m => m.Value == foreign) is { Key: { } path }
            ? $"No handler for type [{foreign}] declared on field [{path.Split('.')[^1]}]"
            : null;
    }

    private static void ReadProperties(JsonElement properties, string prefix, Dictionary<string, string> mapping)
    {
        foreach (var p in properties.EnumerateObject())
        {
            var path = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
            if (p.Value.TryGetProperty("properties", out var inner))
            {
                mapping[path] = "object";
                ReadProperties(inner, path, mapping);
            }
            else
            {
                mapping[path] = p.Value.TryGetProperty("type", out var t) ? t.GetString()! : "object";
            }
        }
    }

    private async Task GetDocAsync(HttpContext context, string indexName, string id)
    {
        StoredDoc? doc = null;
        bool indexExists;
        lock (_gate)
        {
            indexExists = _indices.TryGetValue(indexName, out var index);
            if (indexExists) index!.Docs.TryGetValue(id, out doc);
        }
        if (!indexExists)
        {
            await WriteIndexNotFoundAsync(context, indexName);
            return;
        }
        await WriteJsonAsync(context, doc is null ? 404 : 200, w =>
        {
            w.WriteString("_index", indexName);
            if (HasTypes) w.WriteString("_type", "_doc");
            w.WriteString("_id", id);
            if (doc is null)
            {
                w.WriteBoolean("found", false);
                return;
            }
            w.WriteNumber("_version", doc.Version);
            w.WriteNumber("_seq_no", doc.SeqNo);
            w.WriteNumber("_primary_term", 1);
            w.WriteBoolean("found", true);
            if (doc.Source.ValueKind == JsonValueKind.Object)
            {
                w.WritePropertyName("_source");
                doc.Source.WriteTo(w);
            }
        });
    }

    private async Task CountAsync(HttpContext context, string pattern)
    {
        long count = 0;
        var missing = new List<string>();
        lock (_gate)
        {
            foreach (var part in pattern.Split(','))
            {
                if (part.Contains('*'))
                {
                    var regex = new Regex("^" + Regex.Escape(part).Replace("\\*", ".*") + "$");
                    count += _indices.Values.Where(i => regex.IsMatch(i.Name)).Sum(i => (long)i.Docs.Count);
                }
                else if (_indices.TryGetValue(part, out var index)) count += index.Docs.Count;
                else missing.Add(part);
            }
        }
        if (missing.Count > 0)
        {
            await WriteIndexNotFoundAsync(context, missing[0]);
            return;
        }
        await WriteJsonAsync(context, 200, w =>
        {
            w.WriteNumber("count", count);
            w.WriteStartObject("_shards");
            w.WriteNumber("total", 1);
            w.WriteNumber("successful", 1);
            w.WriteNumber("skipped", 0);
            w.WriteNumber("failed", 0);
            w.WriteEndObject();
        });
    }

    private Task WriteIndexNotFoundAsync(HttpContext context, string index) =>
        WriteJsonAsync(context, 404, w =>
        {
            w.WriteStartObject("error");
            w.WriteStartArray("root_cause");
            WriteIndexNotFound(w, index);
            w.WriteEndArray();
            w.WritePropertyName("type");
            w.WriteStringValue("index_not_found_exception");
            w.WriteString("reason", $"no such index [{index}]");
            w.WriteString("resource.type", "index_or_alias");
            w.WriteString("resource.id", index);
            w.WriteString("index_uuid", "_na_");
            w.WriteString("index", index);
            w.WriteEndObject();
            w.WriteNumber("status", 404);
        });

    private static void WriteIndexNotFound(Utf8JsonWriter w, string index)
    {
        w.WriteStartObject();
        w.WriteString("type", "index_not_found_exception");
        w.WriteString("reason", $"no such index [{index}]");
        w.WriteString("resource.type", "index_or_alias");
        w.WriteString("resource.id", index);
        w.WriteString("index_uuid", "_na_");
        w.WriteString("index", index);
        w.WriteEndObject();
    }

    /// <summary>The documented error body: <c>{"error":{"root_cause":[{type,reason}],"type","reason"},"status"}</c>.</summary>
    private Task WriteErrorAsync(HttpContext context, int status, string type, string reason) =>
        WriteJsonAsync(context, status, w =>
        {
            w.WriteStartObject("error");
            w.WriteStartArray("root_cause");
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteString("reason", reason);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("type", type);
            w.WriteString("reason", reason);
            w.WriteEndObject();
            w.WriteNumber("status", status);
        });

    private async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = Flavor is FakeFlavor.Elasticsearch8 or FakeFlavor.Elasticsearch9 ? "application/json" : "application/json; charset=UTF-8";
        context.Response.ContentLength = buffer.WrittenCount;
        if (context.Request.Method != "HEAD") await context.Response.Body.WriteAsync(buffer.WrittenMemory);
    }

    private static List<byte[]> SplitLines(byte[] body)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)'\n') continue;
            var end = i > start && body[i - 1] == (byte)'\r' ? i - 1 : i;
            lines.Add(body[start..end]);
            start = i + 1;
        }
        return lines;
    }

    private sealed class FakeIndex(string name)
    {
        public string Name { get; } = name;

        public Dictionary<string, StoredDoc> Docs { get; } = new(StringComparer.Ordinal);

        /// <summary>Dotted field path → type (long, float, text, keyword, date, boolean, object, ...).</summary>
        public Dictionary<string, string> Mapping { get; } = new(StringComparer.Ordinal);

        public long NextSeqNo { get; set; }

        /// <summary>A data stream (create only, @timestamp required, ECS dynamic mappings); its documents live in one backing index here.</summary>
        public bool DataStream { get; init; }

        /// <summary>The data stream's backing index generation (a rollover adds one).</summary>
        public int Generation { get; set; } = 1;

        public string BackingIndex => $".ds-{Name}-{Created:yyyy.MM.dd}-{Generation:D6}";

        private DateTime Created { get; } = DateTime.UtcNow;
    }

    private sealed record StoredDoc(string Id, long Version, long SeqNo, JsonElement Source);

    private sealed record BulkOperation(string Action, string Index, string? Id, byte[]? Source);

    private sealed record ItemFailure(int Status, int Times, string? Type);

    private sealed record MappingError(string Reason, (string Type, string Reason)? Cause);

    private sealed record ItemError(string Type, string Reason, (string Type, string Reason)? CausedBy);

    private sealed record ItemResult(BulkOperation Op, string Id, int Status, string? Result, long Version, long SeqNo, ItemError? Error, FakeIndex? Index)
    {
        public static ItemResult Failed(BulkOperation op, string id, int status, string type, string reason, FakeIndex? index = null, (string, string)? causedBy = null) =>
            new(op, id, status, null, 0, 0, new ItemError(type, reason, causedBy), index);
    }
}
