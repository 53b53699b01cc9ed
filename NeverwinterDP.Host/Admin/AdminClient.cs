using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Admin;

/// <summary>The node could not be reached or refused the call: one line naming the node; the verb exits 1.</summary>
public sealed class AdminCallException(string message) : Exception(message);

/// <summary>An answer of the admin API: the JSON text as the node sent it, and the same parsed.</summary>
public sealed record AdminReply<T>(string Json, T Value);

/// <summary>
/// The one HTTP client of the ops verbs: talks to a node's admin API (<c>--node HOST:PORT</c>, bearer
/// <c>--token</c> / <c>NWDP_ADMIN_TOKEN</c>) and turns every failure into an <see cref="AdminCallException"/>
/// naming the node.
/// </summary>
public sealed class AdminClient : IDisposable
{
    public const string DefaultNode = AdminApi.DefaultEndpoint;

    /// <summary>How long a plain call may take (the tail stream has no limit once connected).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http;

    public AdminClient(string node, string? token)
    {
        Node = node;
        var (host, port) = NeverwinterDP.Host.Configuration.NodeConfig.ParseEndpoint(node, "flag '--node'");
        if (port == 0) throw new ArgumentException($"flag '--node' needs the admin API's port, got '{node}'");
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = new UriBuilder("http", host, port).Uri,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>HOST:PORT of the node's admin API, as given.</summary>
    public string Node { get; }

    public Task<AdminReply<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellation) =>
        SendAsync(HttpMethod.Get, path, type, cancellation);

    public Task<AdminReply<T>> PostAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellation, TimeSpan? callTimeout = null) =>
        SendAsync(HttpMethod.Post, path, type, cancellation, callTimeout: callTimeout);

    public Task<AdminReply<T>> DeleteAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellation) =>
        SendAsync(HttpMethod.Delete, path, type, cancellation);

    /// <summary>A POST with a JSON body; <paramref name="callTimeout"/> for calls that run long (a dead-letter replay).</summary>
    public Task<AdminReply<T>> PostJsonAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken cancellation,
        TimeSpan? callTimeout = null) =>
        SendAsync(HttpMethod.Post, path, type, cancellation, JsonContent.Create(body, bodyType), callTimeout);

    private async Task<AdminReply<T>> SendAsync<T>(HttpMethod method, string path, JsonTypeInfo<T> type, CancellationToken cancellation,
        HttpContent? content = null, TimeSpan? callTimeout = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(callTimeout ?? CallTimeout);
        try
        {
            using var response = await _http.SendAsync(new HttpRequestMessage(method, path) { Content = content }, timeout.Token);
            var json = await response.Content.ReadAsStringAsync(timeout.Token);
            if (!response.IsSuccessStatusCode) throw Refused(response.StatusCode, json);
            try
            {
                return new AdminReply<T>(json, JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null"));
            }
            catch (JsonException e)
            {
                throw new AdminCallException($"node {Node} answered {path} with something that is not the expected JSON ({e.Message}): {Shorten(json)}");
            }
        }
        catch (Exception e) when (Unreachable(e, cancellation) is { } message)
        {
            throw new AdminCallException(message);
        }
    }

    /// <summary>Opens a streaming GET (NDJSON) and returns its body; the caller reads it line by line.</summary>
    public async Task<(HttpResponseMessage Response, Stream Body)> OpenStreamAsync(string path, CancellationToken cancellation)
    {
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        connect.CancelAfter(CallTimeout);
        try
        {
            var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, connect.Token);
            if (!response.IsSuccessStatusCode)
            {
                using (response) throw Refused(response.StatusCode, await response.Content.ReadAsStringAsync(connect.Token));
            }
            return (response, await response.Content.ReadAsStreamAsync(cancellation));
        }
        catch (Exception e) when (Unreachable(e, cancellation) is { } message)
        {
            throw new AdminCallException(message);
        }
    }

    /// <summary>A failure while connecting or waiting, as one line naming the node; null for anything else.</summary>
    public string? Unreachable(Exception e, CancellationToken cancellation) => e switch
    {
        HttpRequestException { InnerException: SocketException s } =>
            $"cannot reach node {Node}: {s.SocketErrorCode switch { SocketError.ConnectionRefused => "connection refused", SocketError.HostNotFound => "host not found", _ => s.Message }} " +
            "(is 'nwdp run' running there, with its admin API on that address? see --node)",
        HttpRequestException h => $"cannot reach node {Node}: {h.Message}",
        OperationCanceledException when !cancellation.IsCancellationRequested => $"node {Node} did not answer within {CallTimeout.TotalSeconds:0} s",
        IOException io => $"lost the connection to node {Node}: {io.Message}",
        _ => null,
    };

    private AdminCallException Refused(HttpStatusCode status, string body)
    {
        string error;
        try
        {
            error = JsonSerializer.Deserialize(body, AdminJson.Default.ErrorResponse)?.Error ?? Shorten(body);
        }
        catch (JsonException)
        {
            error = Shorten(body);
        }
        return new AdminCallException($"node {Node} answered {(int)status} {status}: {error}");
    }

    private static string Shorten(string s) => s.Length > 300 ? s[..300] + "..." : s;

    public void Dispose() => _http.Dispose();
}
