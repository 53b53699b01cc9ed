using System.Buffers;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>
/// Writes records to Elasticsearch 7/8/9 or OpenSearch with the _bulk API (kind <c>elasticsearch</c>): one
/// NDJSON body per batch, cut into requests of at most <c>max-bulk-bytes</c>, gzip-compressed, sent to the
/// configured nodes in turn. Each record becomes the document <c>&lt;topic&gt;-&lt;partition&gt;-&lt;offset&gt;</c>
/// written with <c>create</c>, so a replay is answered 409 per document and counted delivered.
/// <para>
/// Outcomes: a request answered 429/502/503/504 (or any other failing status), a connection error or a
/// timeout (after trying every node once) leaves its records Errored for the framework to retry with backoff;
/// a 200 is read per item: 2xx and the 409 of a replayed create are Delivered, 429 and 5xx Errored,
/// 401/403/404 Errored (security or a missing index: an operator's fix, not the record's fault), and every
/// other 4xx (mapper_parsing_exception, illegal_argument_exception, ...) Rejected with its type and reason.
/// </para>
/// <para>
/// A typed log type's record (<see cref="LogEvent.Typed"/>) has its typed fields written as JSON numbers, booleans
/// and strings, and its index gets their explicit mapping first, once per index and schema version.
/// </para>
/// </summary>
public sealed class ElasticsearchSink : ISink
{
    private const string NdjsonContentType = "application/x-ndjson";

    private readonly ElasticsearchSinkOptions _options;
    private readonly HttpClient _http;
    private readonly BulkBody _body = new();
    private readonly MemoryStream _gzipped = new();
    private readonly HashSet<(string Index, int SchemaId)> _mapped = new();
    private readonly HashSet<int> _templated = new(); // schema ids in the typed component template (this run)
    private Dictionary<(string Index, int SchemaId), string>? _mappingFailures; // this batch's, so a failing put is tried once per batch
    private ProductCheck? _product;
    private int _next;

    /// <summary>How many (index, schema) mappings are remembered as put; beyond it the set starts over (a put again is harmless).</summary>
    internal const int MaxMappedIndices = 10_000;

    public ElasticsearchSink(ElasticsearchSinkOptions options, string name = "elasticsearch", HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Name = name;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            ConnectTimeout = Min(options.RequestTimeout, TimeSpan.FromSeconds(10)),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // DNS changes of a cluster behind a name are seen
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // per request, below: request-timeout
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("NeverwinterDP", "1.0"));
        _http.DefaultRequestHeaders.Authorization = options.Authorization;
    }

    public string Name { get; }

    /// <summary>What the product check found (null before the first node answered).</summary>
    internal ProductCheck? Product => _product;

    private TimeSpan HealthTimeout => Min(_options.RequestTimeout, TimeSpan.FromSeconds(5));

    /// <summary>
    /// Checks that the nodes are Elasticsearch or OpenSearch. A server that is something else stops the sink
    /// here with the reason; nodes that cannot be reached now are checked again before the first write, so a
    /// cluster that is down at start does not keep the node from starting.
    /// </summary>
    public async Task OpenAsync(CancellationToken cancellation)
    {
        var check = await CheckProductAsync(_options.RequestTimeout, cancellation).ConfigureAwait(false);
        if (check.Kind == ProductKind.Refused) throw new InvalidOperationException($"sink {Name}: {check.Detail}");
    }

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var outcomes = new SinkOutcome[batch.Count];
        var reasons = new string?[batch.Count];
        if (_product is not { IsUsable: true })
        {
            var check = await CheckProductAsync(_options.RequestTimeout, cancellation).ConfigureAwait(false);
            // Refused: throwing errors the whole batch; it is retried (and logged) until the urls are fixed.
            if (check.Kind == ProductKind.Refused) throw new InvalidOperationException($"sink {Name}: {check.Detail}");
        }

        _body.Clear();
        _mappingFailures?.Clear();
        for (var i = 0; i < batch.Count; i++)
        {
            var index = _options.Index.Render(batch[i].Event);
            if (string.IsNullOrEmpty(index))
            {
                outcomes[i] = SinkOutcome.Rejected;
                reasons[i] = index is null
                    ? $"ts {batch[i].Event.Ts} is not a date (index '{_options.Index}' needs one)"
                    : $"index '{_options.Index}' gives an empty name for type '{batch[i].Event.Type}'";
                continue;
            }
            if (batch[i].Event.Typed is { } typed && await TypedProblemAsync(index, typed, cancellation).ConfigureAwait(false) is { } problem)
            {
                (outcomes[i], reasons[i]) = problem;
                continue;
            }
            _body.Add(i, batch[i], index);
        }

        foreach (var slice in _body.Slices(_options.MaxBulkBytes))
        {
            // A 413 (the server's http.max_content_length is below max-bulk-bytes) is bisected until the slices fit.
            await BatchBisection.RunAsync(slice.FirstItem, slice.FirstItem + slice.ItemCount,
                (first, end) => SendAsync(_body.Slice(first, end), outcomes, reasons, cancellation),
                (first, end, outcome, reason) => SetAll(_body.Slice(first, end), outcome, reason, outcomes, reasons)).ConfigureAwait(false);
        }
        return new SinkWriteResult(outcomes, reasons);
    }

    /// <summary>
    /// Nothing to do: Elasticsearch answers a _bulk item only after it is written to the translog of the
    /// primary and its in-sync replicas, which is fsynced before the response by default
    /// (<c>index.translog.durability: request</c>), so what was delivered survives a node crash. A
    /// <c>POST /&lt;index&gt;/_refresh</c> would only make it searchable sooner (the refresh interval does that
    /// within a second anyway) at the cost of tiny segments.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

    /// <summary>The product check and <c>GET /_cluster/health</c> on the first node that answers: green and yellow are healthy, red is not.</summary>
    public async Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        var check = await CheckProductAsync(HealthTimeout, cancellation).ConfigureAwait(false);
        if (!check.IsUsable) return new SinkHealth(false, check.Detail);
        var problems = new List<string>();
        foreach (var url in _options.Urls)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(HealthTimeout);
                using var response = await _http.GetAsync(new Uri(url, "/_cluster/health"), timeout.Token).ConfigureAwait(false);
                var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    problems.Add($"{url}: GET /_cluster/health answered {(int)response.StatusCode} {ErrorText(body)}");
                    continue;
                }
                using var doc = JsonDocument.Parse(body);
                var status = doc.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
                var cluster = doc.RootElement.TryGetProperty("cluster_name", out var c) ? c.GetString() : "?";
                return status is "green" or "yellow"
                    ? new SinkHealth(true, $"{check.Detail}: cluster {cluster} is {status}")
                    : new SinkHealth(false, $"{check.Detail}: cluster {cluster} is {status ?? "of unknown status"}");
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellation) || e is JsonException or InvalidOperationException)
            {
                problems.Add($"{url}: {Describe(e)}");
            }
        }
        return new SinkHealth(false, string.Join("; ", problems));
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        _gzipped.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<ProductCheck> CheckProductAsync(TimeSpan timeoutAfter, CancellationToken cancellation)
    {
        var problems = new List<string>();
        foreach (var url in _options.Urls)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(timeoutAfter);
                using var response = await _http.GetAsync(url, timeout.Token).ConfigureAwait(false);
                var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                var header = response.Headers.TryGetValues(ElasticsearchProduct.ProductHeader, out var values) ? values.FirstOrDefault() : null;
                var check = ElasticsearchProduct.Identify(url, response.StatusCode, header, body);
                if (check.Kind is not ProductKind.Unverified) _product = check;
                if (check.Kind is not ProductKind.Unverified || url == _options.Urls[^1]) return check;
                problems.Add(check.Detail);
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellation))
            {
                problems.Add($"{url}: {Describe(e)}");
            }
        }
        return new ProductCheck(ProductKind.Unverified, string.Join("; ", problems));
    }

    /// <summary>Sends one slice (failing over between nodes on connection errors) and fills in its records' outcomes, or says why not.</summary>
    private async Task<RangeAttempt> SendAsync(BulkSlice slice, SinkOutcome[] outcomes, string?[] reasons, CancellationToken cancellation)
    {
        var body = _body.Written.Slice(slice.Start, slice.Length);
        if (_options.Compression) body = Gzip(body);
        var failures = new List<string>();
        // Nothing usable came back from a node: the next one gets the same body (create makes a resend harmless).
        var (answered, attempt) = await OnNodesAsync(async (url, timeout) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "/_bulk"));
            request.Content = new ReadOnlyMemoryContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(NdjsonContentType);
            if (_options.Compression) request.Content.Headers.ContentEncoding.Add("gzip");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(timeout).ConfigureAwait(false);
                using var doc = await JsonDocument.ParseAsync(stream, default, timeout).ConfigureAwait(false);
                ReadItems(slice, doc.RootElement, url, outcomes, reasons);
                return RangeAttempt.Settled;
            }
            var error = ErrorText(await response.Content.ReadAsByteArrayAsync(timeout).ConfigureAwait(false));
            // 429/502/503/504 are the server's "later"; 401/403 and anything else unexpected are errored too,
            // never rejected: a wrong password or a proxy's hiccup must not dead-letter the whole stream.
            return status == 413
                ? RangeAttempt.Refused($"document larger than the server accepts (HTTP 413 from {url}; http.max_content_length)")
                : RangeAttempt.Failed($"HTTP {status} from {url}/_bulk: {error}");
        }, failures, cancellation).ConfigureAwait(false);
        return answered ? attempt : RangeAttempt.Failed("no node answered: " + string.Join("; ", failures));
    }

    /// <summary>
    /// Runs <paramref name="send"/> against the nodes in turn (from the next one), each try under the request timeout,
    /// failing over on connection errors (each recorded in <paramref name="failures"/>); not answered when none answered.
    /// </summary>
    private async Task<(bool Answered, T Value)> OnNodesAsync<T>(Func<Uri, CancellationToken, Task<T>> send, List<string> failures, CancellationToken cancellation)
    {
        for (var attempt = 0; attempt < _options.Urls.Count; attempt++)
        {
            var url = _options.Urls[(int)((uint)_next++ % (uint)_options.Urls.Count)];
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(_options.RequestTimeout);
                return (true, await send(url, timeout.Token).ConfigureAwait(false));
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellation))
            {
                failures.Add($"{url}: {Describe(e)}");
            }
        }
        return (false, default!);
    }

    /// <summary>
    /// Why a typed record is not sent now: a value Elasticsearch cannot store (rejected), or its index's mapping
    /// for the schema could not be put (errored, tried again). The mapping is put once per index and schema
    /// version (a new version's new fields get theirs when its first record comes).
    /// </summary>
    private async ValueTask<(SinkOutcome, string)?> TypedProblemAsync(string index, TypedValues typed, CancellationToken cancellation)
    {
        if (TypedMapping.Unstorable(typed) is { } unstorable) return (SinkOutcome.Rejected, unstorable);
        var key = (index, typed.Schema.Id);
        if (_mapped.Contains(key)) return null;
        if (_mappingFailures is not null && _mappingFailures.TryGetValue(key, out var failed)) return (SinkOutcome.Errored, failed);
        var failure = await PutTypedMappingAsync(index, typed.Schema, cancellation).ConfigureAwait(false);
        if (failure is null && _options.TypedComponentTemplate is { } template && !_templated.Contains(typed.Schema.Id))
        {
            failure = await PutTypedTemplateAsync(template, typed.Schema, cancellation).ConfigureAwait(false);
            if (failure is null) _templated.Add(typed.Schema.Id);
        }
        if (failure is not null)
        {
            (_mappingFailures ??= new())[key] = failure;
            return (SinkOutcome.Errored, failure);
        }
        if (_mapped.Count >= MaxMappedIndices) _mapped.Clear();
        _mapped.Add(key);
        return null;
    }

    /// <summary>
    /// <c>PUT /&lt;index&gt;/_mapping</c> with the schema's fields; a missing index is created with them (a data
    /// stream when an index template says so). A field the index already maps otherwise cannot change (400): the
    /// fields are then put one by one, and the documents decide: those Elasticsearch refuses for the old mapping
    /// come back per item and are dead-lettered with its reason. Null when done; otherwise why not (retried later).
    /// </summary>
    private async Task<string?> PutTypedMappingAsync(string index, TypedLogSchema schema, CancellationToken cancellation)
    {
        var path = "/" + Uri.EscapeDataString(index);
        var openSearch = _product?.Kind == ProductKind.OpenSearch; // its map type is flat_object
        var body = TypedMapping.Body(schema.Fields, openSearch: openSearch);
        var answer = await SendJsonAsync(HttpMethod.Put, path + "/_mapping", body, cancellation).ConfigureAwait(false);
        if (answer.Status == 404 && answer.Type == "index_not_found_exception")
        {
            var created = await SendJsonAsync(HttpMethod.Put, path, TypedMapping.Body(schema.Fields, underMappings: true, openSearch: openSearch), cancellation).ConfigureAwait(false);
            if (created.Type == "illegal_argument_exception" && created.Reason.Contains("data stream", StringComparison.Ordinal))
            {
                // An index template makes data streams of this name (logs-*-* on Elasticsearch 8+): create it, then map.
                created = await SendJsonAsync(HttpMethod.Put, "/_data_stream/" + Uri.EscapeDataString(index), null, cancellation).ConfigureAwait(false);
                if (created.IsSuccess || created.Type == "resource_already_exists_exception")
                    created = await SendJsonAsync(HttpMethod.Put, path + "/_mapping", body, cancellation).ConfigureAwait(false);
            }
            else if (created.Type == "resource_already_exists_exception")
            {
                created = await SendJsonAsync(HttpMethod.Put, path + "/_mapping", body, cancellation).ConfigureAwait(false); // made meanwhile
            }
            if (created.IsSuccess) return null;
            // Any other refusal (an invalid name, ...): the _bulk items are refused with the reason then.
            return created.IsTransient ? created.Describe(index) : null;
        }
        if (answer.IsSuccess) return null;
        if (answer.IsTransient) return answer.Describe(index);
        // A conflict (mapper [attributes.x] cannot be changed from type [text] to [integer]) is all or nothing: put the others.
        foreach (var field in schema.Fields)
        {
            var one = await SendJsonAsync(HttpMethod.Put, path + "/_mapping", TypedMapping.Body([field], openSearch: openSearch), cancellation).ConfigureAwait(false);
            if (one.IsTransient) return one.Describe(index);
        }
        return null;
    }

    /// <summary>
    /// Adds the schema's field mappings to the sink's component template (<see cref="TypedTemplate"/>): read it, and put it
    /// back merged when it lacks them. Null when done; otherwise why not (the schema's records are errored and tried again).
    /// </summary>
    private async Task<string?> PutTypedTemplateAsync(string name, TypedLogSchema schema, CancellationToken cancellation)
    {
        var path = "/_component_template/" + Uri.EscapeDataString(name);
        var failures = new List<string>();
        var (answered, (status, content)) = await OnNodesAsync(async (url, timeout) =>
        {
            using var response = await _http.GetAsync(new Uri(url, path), timeout).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(timeout).ConfigureAwait(false));
        }, failures, cancellation).ConfigureAwait(false);
        if (!answered) return $"component template '{name}' not read: no node answered: {string.Join("; ", failures)}";
        if (status is not (200 or 404))
        {
            var (type, reason) = ErrorOf(content);
            return $"component template '{name}' not read: HTTP {status} from GET {path}: {type}: {reason}";
        }
        byte[]? body;
        try
        {
            body = TypedTemplate.Merge(name, status == 200 ? content : null, TypedMapping.Body(schema.Fields, openSearch: _product?.Kind == ProductKind.OpenSearch), Name);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException)
        {
            return e.Message;
        }
        if (body is null) return null;
        var put = await SendJsonAsync(HttpMethod.Put, path, body, cancellation).ConfigureAwait(false);
        return put.IsSuccess ? null : $"component template '{name}' not put: HTTP {put.Status} from {put.Request}: {put.Type}: {put.Reason}";
    }

    /// <summary>A JSON request to the nodes in turn (failing over on connection errors); status 0 when none answered.</summary>
    private async Task<Answer> SendJsonAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellation)
    {
        var failures = new List<string>();
        var (answered, answer) = await OnNodesAsync(async (url, timeout) =>
        {
            using var request = new HttpRequestMessage(method, new Uri(url, path));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            using var response = await _http.SendAsync(request, timeout).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) return new Answer(status, null, "", $"{method} {path}");
            var (type, reason) = ErrorOf(await response.Content.ReadAsByteArrayAsync(timeout).ConfigureAwait(false));
            return new Answer(status, type, reason, $"{method} {url}{path.TrimStart('/')}");
        }, failures, cancellation).ConfigureAwait(false);
        return answered ? answer : new Answer(0, null, "no node answered: " + string.Join("; ", failures), $"{method} {path}");
    }

    /// <summary>A node's answer to a mapping request: its status and, when it failed, Elasticsearch's error type and reason.</summary>
    private readonly record struct Answer(int Status, string? Type, string Reason, string Request)
    {
        public bool IsSuccess => Status is >= 200 and < 300;

        /// <summary>Not the mapping's fault (no answer, security, throttling, the server's trouble): tried again later.</summary>
        public bool IsTransient => Status is 0 or 401 or 403 or 404 or 408 or 429 or >= 500;

        public string Describe(string index) => Status == 0
            ? $"mapping of typed fields in index '{index}' not put: {Reason}"
            : $"mapping of typed fields in index '{index}' not put: HTTP {Status} from {Request}: {Type}: {Reason}";
    }

    private void ReadItems(BulkSlice slice, JsonElement root, Uri url, SinkOutcome[] outcomes, string?[] reasons)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{url}/_bulk answered 200 without an items array: not an Elasticsearch _bulk response");
        if (items.GetArrayLength() != slice.ItemCount)
            throw new InvalidDataException($"{url}/_bulk answered {items.GetArrayLength()} items for {slice.ItemCount} documents");
        var errors = root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.True;
        if (!errors)
        {
            SetAll(slice, SinkOutcome.Delivered, null, outcomes, reasons);
            return;
        }
        var item = slice.FirstItem;
        foreach (var entry in items.EnumerateArray())
        {
            var record = _body.RecordOf(item++);
            // {"create": {...}} (or "index", ...): one property whose value is the result.
            var result = entry.EnumerateObject().FirstOrDefault().Value;
            var status = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("status", out var s) && s.TryGetInt32(out var n) ? n : 0;
            var (type, reason) = ItemError(result);
            (outcomes[record], reasons[record]) = status switch
            {
                >= 200 and < 300 => (SinkOutcome.Delivered, null),
                409 when type == "version_conflict_engine_exception" => (SinkOutcome.Delivered, null), // a replay: already there
                429 or >= 500 or 401 or 403 or 404 => (SinkOutcome.Errored, $"{status} {type}: {reason}"),
                >= 400 => (SinkOutcome.Rejected, $"{type}: {reason}"),
                _ => (SinkOutcome.Errored, $"unexpected item status {status} from {url}/_bulk"),
            };
        }
    }

    private static (string Type, string Reason) ItemError(JsonElement result)
    {
        if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("error", out var error)) return ("error", "(no error given)");
        if (error.ValueKind == JsonValueKind.String) return ("error", error.GetString() ?? "");
        var type = error.TryGetProperty("type", out var t) ? t.GetString() ?? "error" : "error";
        var reason = error.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";
        if (error.TryGetProperty("caused_by", out var cause) && cause.ValueKind == JsonValueKind.Object)
        {
            var causeType = cause.TryGetProperty("type", out var ct) ? ct.GetString() : null;
            var causeReason = cause.TryGetProperty("reason", out var cr) ? cr.GetString() : null;
            reason += $" (caused by {causeType}: {causeReason})";
        }
        return (type, reason);
    }

    private void SetAll(BulkSlice slice, SinkOutcome outcome, string? reason, SinkOutcome[] outcomes, string?[] reasons)
    {
        for (var item = slice.FirstItem; item < slice.FirstItem + slice.ItemCount; item++)
        {
            var record = _body.RecordOf(item);
            outcomes[record] = outcome;
            reasons[record] = reason;
        }
    }

    private ReadOnlyMemory<byte> Gzip(ReadOnlyMemory<byte> body)
    {
        _gzipped.SetLength(0);
        using (var gzip = new GZipStream(_gzipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(body.Span);
        if (_gzipped.Capacity > 64 * 1024 * 1024 && _gzipped.Length < 1024 * 1024) _gzipped.Capacity = 1024 * 1024;
        return _gzipped.GetBuffer().AsMemory(0, (int)_gzipped.Length);
    }

    /// <summary>The error type and reason of an Elasticsearch error body, or ("error", the start of whatever else came).</summary>
    private static (string? Type, string Reason) ErrorOf(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String) return ("error", error.GetString() ?? "");
                return ItemError(doc.RootElement);
            }
        }
        catch (JsonException)
        {
        }
        return ("error", ErrorText(body));
    }

    /// <summary>The <c>error.type: reason</c> of an Elasticsearch error body, or the start of whatever else came.</summary>
    private static string ErrorText(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String) return error.GetString() ?? "";
                var (type, reason) = ItemError(doc.RootElement);
                return $"{type}: {reason}";
            }
        }
        catch (JsonException)
        {
        }
        var text = Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200))).ReplaceLineEndings(" ");
        return text.Length == 0 ? "(empty body)" : text;
    }

    // A failure of the connection or a timeout (not the caller's cancellation): try another node, or retry later.
    private static bool IsConnectionFailure(Exception e, CancellationToken cancellation) =>
        e is HttpRequestException or IOException
        || (e is OperationCanceledException && !cancellation.IsCancellationRequested);

    private static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "timed out",
        _ => e.GetBaseException().Message,
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
