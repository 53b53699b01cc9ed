using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks.Elasticsearch;

namespace NeverwinterDP.Host.Search;

/// <summary>A backend that failed (the store refused or could not be reached): 502 with its message.</summary>
public sealed class SearchBackendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Searches what the Elasticsearch sink wrote: <c>POST /&lt;index pattern&gt;/_search</c> on the sink's nodes in turn
/// (a node that cannot be reached is skipped), with the sink's credentials (<see cref="ElasticsearchQuery"/>).
/// </summary>
public sealed class ElasticsearchSearch : ISearchBackend, IDisposable
{
    private readonly ElasticsearchSinkOptions _sink;
    private readonly HttpClient _http;

    public ElasticsearchSearch(string sink, ElasticsearchSinkOptions options, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sink = sink;
        _sink = options;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            Timeout = timeout,
        };
        _http.DefaultRequestHeaders.Authorization = options.Authorization;
    }

    public string Name => "elasticsearch";

    public string Sink { get; }

    public async Task<IReadOnlyList<BackendRow>> FetchAsync(SearchRequest request, int count, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pattern = ElasticsearchQuery.IndexPattern(ElasticsearchQuery.Template(_sink), request.TypeGlob);
        var body = ElasticsearchQuery.Body(request, count);
        Exception? last = null;
        foreach (var url in _sink.Urls)
        {
            var uri = new Uri(url, "/" + Uri.EscapeDataString(pattern).Replace("%2A", "*", StringComparison.Ordinal) + "/_search?ignore_unavailable=true&allow_no_indices=true");
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            HttpResponseMessage response;
            try
            {
                response = await _http.PostAsync(uri, content, cancellation).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                last = e;
                continue;
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                    throw new SearchBackendException($"Elasticsearch ({url.GetLeftPart(UriPartial.Authority)}) answered {(int)response.StatusCode}: {Reason(text)}");
                return Rows(text);
            }
        }
        throw new SearchBackendException($"no node of sink '{Sink}' could be reached: {last?.Message}", last);
    }

    public void Dispose() => _http.Dispose();

    private static IReadOnlyList<BackendRow> Rows(string text)
    {
        using var document = JsonDocument.Parse(text);
        var rows = new List<BackendRow>();
        if (!document.RootElement.TryGetProperty("hits", out var hits) || !hits.TryGetProperty("hits", out var list)) return rows;
        foreach (var hit in list.EnumerateArray())
        {
            var sort = hit.GetProperty("sort");
            var key = new long[3];
            for (var i = 0; i < 3 && i < sort.GetArrayLength(); i++) key[i] = sort[i].ValueKind == JsonValueKind.Number ? sort[i].GetInt64() : long.MinValue;
            var source = hit.GetProperty("_source");
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            if (source.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object)
                foreach (var p in a.EnumerateObject()) attributes[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            var ts = source.TryGetProperty("ts", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : key[0];
            rows.Add(new BackendRow(new SearchHit(ts, SearchRequest.Rfc3339(ts), Text(source, "type"), Text(source, "host"), Text(source, "process"),
                Text(source, "level"), Text(source, "msg"), attributes), key));
        }
        return rows;
    }

    private static string Text(JsonElement source, string name) =>
        source.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText() : "";

    private static string Reason(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.TryGetProperty("error", out var error))
                return error.ValueKind == JsonValueKind.Object && error.TryGetProperty("reason", out var reason) ? reason.GetString() ?? error.GetRawText() : error.ToString();
        }
        catch (JsonException)
        {
        }
        return text.Length > 300 ? text[..300] : text;
    }
}
