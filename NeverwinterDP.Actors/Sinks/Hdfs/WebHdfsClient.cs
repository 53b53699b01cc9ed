using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>One entry of a <c>LISTSTATUS</c> answer (the fields the sink needs).</summary>
internal sealed record HdfsFileStatus(string PathSuffix, string Type, long Length)
{
    public bool IsDirectory => Type == "DIRECTORY";
}

/// <summary>
/// The WebHDFS REST operations the HDFS sink uses (Apache Hadoop "WebHDFS REST API"): <c>MKDIRS</c>,
/// two-step <c>CREATE</c> (the namenode answers 307 with a datanode's Location, the bytes go there and it
/// answers 201), <c>RENAME</c>, <c>DELETE</c>, <c>LISTSTATUS</c>, <c>GETFILESTATUS</c>. Errors become
/// <see cref="WebHdfsException"/>s carrying the <c>RemoteException</c>. With several namenodes (HA) a request
/// that cannot connect or meets a StandbyException goes to the next one, once round the list; the one that
/// answered is used first from then on. Retrying with backoff is the sink framework's job, not this class's.
/// </summary>
internal sealed class WebHdfsClient : IDisposable
{
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream");

    private readonly IReadOnlyList<Uri> _namenodes;
    private readonly string? _user;
    private readonly string? _delegation;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http;
    private int _active;

    public WebHdfsClient(IReadOnlyList<Uri> namenodes, string? user, string? delegation, TimeSpan timeout)
    {
        _namenodes = namenodes;
        _user = user;
        _delegation = delegation;
        _timeout = timeout;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // CREATE's redirect is followed by hand: the body goes to the datanode only
            ConnectTimeout = timeout < TimeSpan.FromSeconds(10) ? timeout : TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // per request, below
        };
    }

    /// <summary>The namenode tried first (the last one that answered as active).</summary>
    public Uri ActiveNamenode => _namenodes[Volatile.Read(ref _active)];

    public async Task MkdirsAsync(string path, CancellationToken cancellation)
    {
        using var response = await NamenodeAsync(HttpMethod.Put, path, "MKDIRS", null, cancellation).ConfigureAwait(false);
        if (!await ReadBooleanAsync(response, cancellation).ConfigureAwait(false))
        {
            throw new WebHdfsException($"MKDIRS {path} answered false");
        }
    }

    /// <summary>Writes a whole file: CREATE at the namenode (no body), then the bytes to the datanode it redirects to.</summary>
    public async Task CreateAsync(string path, HttpContent content, bool overwrite, CancellationToken cancellation)
    {
        var extra = "&overwrite=" + (overwrite ? "true" : "false");
        Uri location;
        using (var redirect = await NamenodeAsync(HttpMethod.Put, path, "CREATE", extra, cancellation).ConfigureAwait(false))
        {
            if (redirect.StatusCode != HttpStatusCode.TemporaryRedirect || redirect.Headers.Location is null)
            {
                throw new WebHdfsException(
                    $"CREATE {path}: the namenode answered {(int)redirect.StatusCode} instead of 307 Temporary Redirect to a datanode", redirect.StatusCode);
            }
            location = redirect.Headers.Location.IsAbsoluteUri ? redirect.Headers.Location : new Uri(redirect.RequestMessage!.RequestUri!, redirect.Headers.Location);
        }

        content.Headers.ContentType = OctetStream;
        using var request = new HttpRequestMessage(HttpMethod.Put, location) { Content = content };
        using var response = await SendAsync(request, $"CREATE {path} at datanode {location.Authority}", cancellation).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created) await ThrowAsync(response, $"CREATE {path} at datanode {location.Authority}", cancellation).ConfigureAwait(false);
    }

    /// <summary>RENAME; false when HDFS refused without an error (the source is missing or the destination exists).</summary>
    public async Task<bool> RenameAsync(string from, string to, CancellationToken cancellation)
    {
        using var response = await NamenodeAsync(HttpMethod.Put, from, "RENAME", "&destination=" + EscapePath(to), cancellation).ConfigureAwait(false);
        return await ReadBooleanAsync(response, cancellation).ConfigureAwait(false);
    }

    /// <summary>DELETE (not recursive); false when there was nothing to delete.</summary>
    public async Task<bool> DeleteAsync(string path, CancellationToken cancellation)
    {
        using var response = await NamenodeAsync(HttpMethod.Delete, path, "DELETE", "&recursive=false", cancellation).ConfigureAwait(false);
        return await ReadBooleanAsync(response, cancellation).ConfigureAwait(false);
    }

    /// <summary>LISTSTATUS of a directory; null when it does not exist.</summary>
    public async Task<IReadOnlyList<HdfsFileStatus>?> ListStatusAsync(string path, CancellationToken cancellation)
    {
        try
        {
            using var response = await NamenodeAsync(HttpMethod.Get, path, "LISTSTATUS", null, cancellation).ConfigureAwait(false);
            using var json = await ReadJsonAsync(response, cancellation).ConfigureAwait(false);
            var list = new List<HdfsFileStatus>();
            foreach (var status in json.RootElement.GetProperty("FileStatuses").GetProperty("FileStatus").EnumerateArray())
            {
                list.Add(ToStatus(status));
            }
            return list;
        }
        catch (WebHdfsException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>GETFILESTATUS; null when the path does not exist.</summary>
    public async Task<HdfsFileStatus?> GetFileStatusAsync(string path, CancellationToken cancellation)
    {
        try
        {
            using var response = await NamenodeAsync(HttpMethod.Get, path, "GETFILESTATUS", null, cancellation).ConfigureAwait(false);
            using var json = await ReadJsonAsync(response, cancellation).ConfigureAwait(false);
            return ToStatus(json.RootElement.GetProperty("FileStatus"));
        }
        catch (WebHdfsException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    private static HdfsFileStatus ToStatus(JsonElement e) => new(
        e.TryGetProperty("pathSuffix", out var suffix) ? suffix.GetString() ?? "" : "",
        e.GetProperty("type").GetString() ?? "",
        e.TryGetProperty("length", out var length) ? length.GetInt64() : 0);

    /// <summary>Sends to the active namenode, failing over on connection failures and StandbyException; answers a success or a 307.</summary>
    private async Task<HttpResponseMessage> NamenodeAsync(HttpMethod method, string path, string op, string? extra, CancellationToken cancellation)
    {
        var what = $"{op} {path}";
        var first = Volatile.Read(ref _active);
        Exception? last = null;
        for (var i = 0; i < _namenodes.Count; i++)
        {
            var index = (first + i) % _namenodes.Count;
            var uri = new Uri(Url(_namenodes[index], path, op, extra));
            HttpResponseMessage response;
            try
            {
                using var request = new HttpRequestMessage(method, uri);
                response = await SendAsync(request, $"{what} at namenode {uri.Authority}", cancellation).ConfigureAwait(false);
            }
            catch (WebHdfsException e) when (e.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                last = e;
                continue;
            }
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.TemporaryRedirect)
            {
                Volatile.Write(ref _active, index);
                return response;
            }
            try
            {
                await ThrowAsync(response, $"{what} at namenode {uri.Authority}", cancellation).ConfigureAwait(false);
            }
            catch (WebHdfsException e) when (e.IsStandby)
            {
                last = e;
                continue;
            }
            finally
            {
                response.Dispose();
            }
        }
        throw last is WebHdfsException { IsStandby: true } && _namenodes.Count > 1
            ? new WebHdfsException($"{what}: no namenode is active ({string.Join(", ", _namenodes.Select(n => n.Authority))}): {last.Message}", ((WebHdfsException)last).Status, "StandbyException", ((WebHdfsException)last).JavaClassName, last)
            : last!;
    }

    private string Url(Uri namenode, string path, string op, string? extra)
    {
        var url = new StringBuilder(namenode.GetLeftPart(UriPartial.Authority));
        url.Append(namenode.AbsolutePath.TrimEnd('/')).Append("/webhdfs/v1").Append(EscapePath(path)).Append("?op=").Append(op);
        if (_user is not null) url.Append("&user.name=").Append(Uri.EscapeDataString(_user));
        if (_delegation is not null) url.Append("&delegation=").Append(Uri.EscapeDataString(_delegation));
        if (extra is not null) url.Append(extra);
        return url.ToString();
    }

    // Each component percent-encoded, slashes kept.
    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_timeout);
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new WebHdfsException($"{what}: no answer within {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s (request-timeout)");
        }
        catch (HttpRequestException e)
        {
            throw new WebHdfsException($"{what}: {e.Message}", e.StatusCode, inner: e);
        }
    }

    private static async Task<bool> ReadBooleanAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        using var json = await ReadJsonAsync(response, cancellation).ConfigureAwait(false);
        return json.RootElement.GetProperty("boolean").GetBoolean();
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path)}";
        if (!response.IsSuccessStatusCode) await ThrowAsync(response, what, cancellation).ConfigureAwait(false);
        try
        {
            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false), default, cancellation).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new WebHdfsException($"{what}: the answer is not JSON: {e.Message}", response.StatusCode, inner: e);
        }
    }

    /// <summary>Throws the error a response carries: its RemoteException when there is one.</summary>
    private static async Task ThrowAsync(HttpResponseMessage response, string what, CancellationToken cancellation)
    {
        var body = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        var status = response.StatusCode;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("RemoteException", out var remote))
            {
                var exception = remote.TryGetProperty("exception", out var e) ? e.GetString() : null;
                var javaClassName = remote.TryGetProperty("javaClassName", out var j) ? j.GetString() : null;
                var message = remote.TryGetProperty("message", out var m) ? m.GetString() : null;
                throw new WebHdfsException($"{what}: {(int)status} {exception}: {message}", status, exception, javaClassName);
            }
        }
        catch (JsonException)
        {
            // Not from HDFS itself (a proxy, a load balancer): the status and the start of the body tell.
        }
        var snippet = body.Length > 200 ? body[..200] + "..." : body;
        throw new WebHdfsException($"{what}: {(int)status} {response.ReasonPhrase} {snippet}".TrimEnd(), status);
    }
}
