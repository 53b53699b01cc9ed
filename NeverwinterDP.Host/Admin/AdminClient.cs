using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Admin;

/// <summary>The node could not be reached or refused the call: one line naming the node; the verb exits 1.</summary>
public sealed class AdminCallException(string message) : Exception(message);

/// <summary>An answer of the admin API: the JSON text as the node sent it, and the same parsed.</summary>
public sealed record AdminReply<T>(string Json, T Value);

/// <summary>
/// How the ops verbs reach an admin API over HTTPS: the CA certificates its certificate must chain to (null = the
/// system's trust store; the host name is checked either way, validation is never turned off) and the client
/// certificate to present when it asks for one (<c>nwdp.admin.tls.client-ca-file</c>).
/// </summary>
public sealed record AdminTls(X509Certificate2Collection? Cas, X509Certificate2? ClientCertificate);

/// <summary>
/// The one HTTP client of the ops verbs: talks to a node's admin API (<c>--node [http(s)://]HOST:PORT</c>, bearer
/// <c>--token</c> / <c>NWDP_ADMIN_TOKEN</c>, <see cref="AdminTls"/> for https) and turns every failure into an
/// <see cref="AdminCallException"/> naming the node.
/// </summary>
public sealed class AdminClient : IDisposable
{
    public const string DefaultNode = AdminApi.DefaultEndpoint;

    /// <summary>How long a plain call may take (the tail stream has no limit once connected).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http;

    /// <param name="node"><c>HOST:PORT</c> (https when <paramref name="tls"/> is given, else http) or a URL <c>http(s)://HOST:PORT</c>.</param>
    /// <exception cref="ArgumentException">A node that is not an address, or http with <paramref name="tls"/>.</exception>
    public AdminClient(string node, string? token, AdminTls? tls = null)
    {
        Node = node;
        var address = Address(node, tls is not null);
        if (address.Scheme == "http" && tls is not null)
            throw new ArgumentException($"flag '--node' {node} is plain http: --ca and --client-cert are for an https admin API (--node https://HOST:PORT)");
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) };
        if (tls is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // A CA of our own replaces the system's store for this node only; the name is checked either way.
                CertificateChainPolicy = tls.Cas is null ? null : ChainPolicy(tls.Cas),
                ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
            };
        }
        _http = new HttpClient(handler) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    private static X509ChainPolicy ChainPolicy(X509Certificate2Collection cas)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(cas);
        return policy;
    }

    /// <summary>
    /// The base address of <c>--node</c>: <c>http(s)://HOST:PORT</c> as given, or <c>HOST:PORT</c> with https when
    /// <paramref name="tls"/> (a CA or client certificate was given), else http.
    /// </summary>
    /// <exception cref="ArgumentException">Not an address with a port.</exception>
    public static Uri Address(string node, bool tls)
    {
        string scheme;
        string hostPort;
        if (node.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) (scheme, hostPort) = ("https", node[8..]);
        else if (node.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) (scheme, hostPort) = ("http", node[7..]);
        else (scheme, hostPort) = (tls ? "https" : "http", node);
        var (host, port) = NeverwinterDP.Host.Configuration.NodeConfig.ParseEndpoint(hostPort.TrimEnd('/'), "flag '--node'");
        if (port == 0) throw new ArgumentException($"flag '--node' needs the admin API's port, got '{node}'");
        return new UriBuilder(scheme, host, port).Uri;
    }

    /// <summary>The node's admin API, as given (<c>HOST:PORT</c> or a URL).</summary>
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
        HttpRequestException { InnerException: AuthenticationException a } =>
            $"cannot reach node {Node} over TLS: {a.Message} (trust its certificate's issuer with --ca FILE or NWDP_ADMIN_CA; " +
            "a node that asks for client certificates needs --client-cert/--client-key)",
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
