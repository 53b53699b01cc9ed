using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>A failure the fake produces on demand.</summary>
public enum FakeHdfsFailure
{
    /// <summary>503 Service Unavailable with a plain body, as a proxy or a restarting server answers.</summary>
    ServiceUnavailable,

    /// <summary>403 with a <c>StandbyException</c> RemoteException (the namenode is a standby).</summary>
    Standby,

    /// <summary>403 with a <c>RetriableException</c> RemoteException (e.g. the namenode is still starting).</summary>
    Retriable,

    /// <summary>403 with an <c>AccessControlException</c> RemoteException (permission denied).</summary>
    AccessDenied,

    /// <summary>The connection is closed without an answer; a datanode CREATE first reads half the body.</summary>
    DropConnection,
}

/// <summary>Which of the fake's servers answered.</summary>
public enum FakeHdfsServer
{
    Namenode,
    Datanode,
}

/// <summary>One request as a fake server received it.</summary>
public sealed record FakeHdfsRequest(FakeHdfsServer Server, int Namenode, string Method, string Op, string Path, string? User, string? Delegation, long BodyBytes);

/// <summary>
/// A protocol fake of HDFS's WebHDFS REST API (Apache Hadoop, "WebHDFS REST API") as Kestrel servers on
/// 127.0.0.1 port 0: one or more namenodes (one active, the others standbys answering StandbyException, as in
/// HA) and one datanode, sharing an in-memory file tree. Operations: GETFILESTATUS, LISTSTATUS (GET),
/// MKDIRS, CREATE, RENAME (PUT), DELETE (DELETE). CREATE is two-step as documented: the namenode answers
/// <c>307 Temporary Redirect</c> with a Location at the datanode (or 200 with a <c>Location</c> JSON under
/// <c>noredirect=true</c>) and never stores a body sent to it (it is read and dropped: the file is not created
/// by that step); the datanode creates the file (parents too), takes the bytes and answers <c>201 Created</c>.
/// The file is visible under its name, growing, while it is uploaded, as in HDFS. Errors are RemoteException
/// JSON bodies with the statuses of the docs' table (IOExceptions 403, FileNotFoundException 404, bad
/// arguments 400). RENAME answers false when the source is missing or the destination exists (a destination
/// that is a directory takes the source inside it). Failures on demand: the next N requests fail
/// (<see cref="FakeHdfsFailure"/>), safe mode, the active namenode switched, an upload paused half way.
/// </summary>
public sealed class FakeWebHdfs : IAsyncDisposable
{
    private const string NamenodeRpc = "localhost:8020";

    private readonly object _gate = new();
    private readonly SortedDictionary<string, Node> _tree = new(StringComparer.Ordinal) { ["/"] = new Node(true) };
    private readonly List<FakeHdfsRequest> _requests = [];
    private readonly List<(FakeHdfsFailure Failure, string? Op, FakeHdfsServer? Server)> _failNext = [];
    private readonly List<WebApplication> _apps = [];
    private readonly List<Uri> _namenodes = [];
    private long _clock = 1_700_000_000_000;
    private long _fileIds = 16_385;
    private TaskCompletionSource? _uploadPaused;
    private TaskCompletionSource? _uploadResume;

    private FakeWebHdfs()
    {
    }

    public IReadOnlyList<Uri> NamenodeUrls => _namenodes;

    public Uri DatanodeUrl { get; private set; } = null!;

    /// <summary>The namenode that answers; the others are standbys.</summary>
    public int ActiveNamenode { get; set; }

    /// <summary>The namenode is in safe mode: reads work, changes answer SafeModeException.</summary>
    public bool SafeMode { get; set; }

    /// <summary>Bytes that arrived with a CREATE at a namenode (dropped there, as HDFS does).</summary>
    public long BytesSentToNamenode { get; private set; }

    public IReadOnlyList<FakeHdfsRequest> Requests
    {
        get { lock (_gate) return _requests.ToList(); }
    }

    public static async Task<FakeWebHdfs> StartAsync(int namenodes = 1)
    {
        var fake = new FakeWebHdfs();
        try
        {
            fake.DatanodeUrl = await fake.StartServerAsync(ctx => fake.DatanodeAsync(ctx));
            for (var i = 0; i < namenodes; i++)
            {
                var index = i;
                fake._namenodes.Add(await fake.StartServerAsync(ctx => fake.NamenodeAsync(ctx, index)));
            }
            return fake;
        }
        catch
        {
            await fake.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        ResumeUpload();
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    // ---- failures and hooks on demand --------------------------------------------------------------------

    /// <summary>The next <paramref name="count"/> requests (of <paramref name="op"/> / at <paramref name="server"/> if given) fail so.</summary>
    public void FailNext(int count, FakeHdfsFailure failure, string? op = null, FakeHdfsServer? server = null)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++) _failNext.Add((failure, op, server));
        }
    }

    /// <summary>
    /// The next datanode upload stops after half its body until <see cref="ResumeUpload"/>; the task completes
    /// when it has stopped (the file then exists in the tree, partly written, as in HDFS).
    /// </summary>
    public Task PauseNextUpload()
    {
        lock (_gate)
        {
            _uploadPaused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _uploadResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _uploadPaused.Task;
        }
    }

    public void ResumeUpload()
    {
        lock (_gate)
        {
            _uploadResume?.TrySetResult();
            _uploadResume = null;
        }
    }

    // ---- the tree, for tests ----------------------------------------------------------------------------

    /// <summary>Every file under <paramref name="directory"/>, at any depth, with its bytes (hidden ones too).</summary>
    public IReadOnlyList<(string Path, byte[] Content)> Files(string directory = "/")
    {
        var prefix = directory.TrimEnd('/') + "/";
        lock (_gate)
        {
            return _tree.Where(kv => !kv.Value.IsDirectory && kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(kv => (kv.Key, kv.Value.Content.ToArray())).ToList();
        }
    }

    public bool Exists(string path)
    {
        lock (_gate) return _tree.ContainsKey(Normalize(path));
    }

    /// <summary>Puts a file (and its parents) into the tree, as another writer would have.</summary>
    public void PutFile(string path, byte[] content)
    {
        lock (_gate)
        {
            MakeParents(Normalize(path));
            _tree[Normalize(path)] = new Node(false) { Content = new MemoryStream(content), Modified = ++_clock, Id = ++_fileIds };
        }
    }

    // ---- servers ----------------------------------------------------------------------------------------

    private async Task<Uri> StartServerAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        app.Run(handler);
        _apps.Add(app);
        await app.StartAsync();
        return new Uri(app.Urls.Single());
    }

    private async Task NamenodeAsync(HttpContext ctx, int index)
    {
        if (!TryParse(ctx, out var path, out var op)) return;
        var body = await DrainAsync(ctx.Request.Body); // a CREATE body sent here is dropped, as HDFS does
        Record(FakeHdfsServer.Namenode, index, ctx, op, path, body);
        if (await FailedOnDemandAsync(ctx, FakeHdfsServer.Namenode, op)) return;
        if (index != ActiveNamenode)
        {
            var category = ctx.Request.Method == "GET" ? "READ" : "WRITE";
            await RemoteAsync(ctx, 403, "StandbyException", "org.apache.hadoop.ipc.StandbyException",
                $"Operation category {category} is not supported in state standby. Visit https://s.apache.org/sbnn-error");
            return;
        }

        switch (ctx.Request.Method, op)
        {
            case ("GET", "GETFILESTATUS"):
                await GetFileStatusAsync(ctx, path);
                return;
            case ("GET", "LISTSTATUS"):
                await ListStatusAsync(ctx, path);
                return;
            case ("PUT", "MKDIRS"):
                await MkdirsAsync(ctx, path);
                return;
            case ("PUT", "CREATE"):
                if (body > 0) BytesSentToNamenode += body;
                await RedirectCreateAsync(ctx, path);
                return;
            case ("PUT", "RENAME"):
                await RenameAsync(ctx, path);
                return;
            case ("DELETE", "DELETE"):
                await DeleteAsync(ctx, path);
                return;
            case (_, "GETFILESTATUS" or "LISTSTATUS" or "MKDIRS" or "CREATE" or "RENAME" or "DELETE"):
                await RemoteAsync(ctx, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException",
                    $"Invalid value for webhdfs parameter \"op\": {op} is not a valid {ctx.Request.Method} operation.");
                return;
            default:
                await RemoteAsync(ctx, 400, "UnsupportedOperationException", "java.lang.UnsupportedOperationException",
                    $"op={op} is not implemented by this fake");
                return;
        }
    }

    private async Task DatanodeAsync(HttpContext ctx)
    {
        if (!TryParse(ctx, out var path, out var op)) return;
        if (await FailedOnDemandAsync(ctx, FakeHdfsServer.Datanode, op))
        {
            Record(FakeHdfsServer.Datanode, -1, ctx, op, path, 0);
            return;
        }
        if (ctx.Request.Method != "PUT" || op != "CREATE")
        {
            Record(FakeHdfsServer.Datanode, -1, ctx, op, path, await DrainAsync(ctx.Request.Body));
            await RemoteAsync(ctx, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", $"Invalid operation {ctx.Request.Method} {op} at a datanode");
            return;
        }
        if (string.IsNullOrEmpty(ctx.Request.Query["namenoderpcaddress"]))
        {
            Record(FakeHdfsServer.Datanode, -1, ctx, op, path, await DrainAsync(ctx.Request.Body));
            await RemoteAsync(ctx, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "namenoderpcaddress is not specified.");
            return;
        }
        var overwrite = string.Equals(ctx.Request.Query["overwrite"], "true", StringComparison.OrdinalIgnoreCase);
        Node? file = null;
        Node? existing;
        string? refusal = null;
        TaskCompletionSource? paused;
        TaskCompletionSource? resume;
        lock (_gate)
        {
            _tree.TryGetValue(path, out existing);
            if (SafeMode) refusal = "SafeModeException";
            else if (existing is not null && (existing.IsDirectory || !overwrite)) refusal = "FileAlreadyExistsException";
            else if (ParentFile(path) is { } parentFile) refusal = "ParentNotDirectoryException:" + parentFile;
            else
            {
                MakeParents(path);
                _tree[path] = file = new Node(false) { Modified = ++_clock, Id = ++_fileIds, Owner = ctx.Request.Query["user.name"].ToString() };
            }
            paused = _uploadPaused;
            resume = _uploadResume;
            if (file is not null) _uploadPaused = null; // _uploadResume stays for ResumeUpload
        }
        if (file is null)
        {
            await RefuseCreateAsync(ctx, path, refusal!, existing);
            return;
        }

        // Stream the body into the file; it is visible (and growing) under its name meanwhile.
        var length = ctx.Request.ContentLength;
        var received = 0L;
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            // While a pause is pending, read no further than half the body, so the pause finds exactly half written.
            while ((n = await ctx.Request.Body.ReadAsync(paused is not null && length is > 1 && received < length / 2
                       ? buffer.AsMemory(0, (int)Math.Min(buffer.Length, length.Value / 2 - received))
                       : buffer.AsMemory())) > 0)
            {
                lock (_gate) file.Content.Write(buffer, 0, n);
                received += n;
                if (paused is not null && length is > 0 && received >= length / 2)
                {
                    paused.TrySetResult();
                    await resume!.Task;
                    paused = null;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away: the file stays as far as it got, as an abandoned HDFS file does.
            Record(FakeHdfsServer.Datanode, -1, ctx, op, path, received);
            return;
        }
        Record(FakeHdfsServer.Datanode, -1, ctx, op, path, received);
        ctx.Response.StatusCode = 201;
        ctx.Response.Headers.Location = $"hdfs://{NamenodeRpc}{path}";
        ctx.Response.ContentLength = 0;
    }

    private async Task RefuseCreateAsync(HttpContext ctx, string path, string refusal, Node? existing)
    {
        await DrainAsync(ctx.Request.Body);
        Record(FakeHdfsServer.Datanode, -1, ctx, "CREATE", path, 0);
        switch (refusal)
        {
            case "SafeModeException":
                await RemoteAsync(ctx, 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException",
                    $"Cannot create file{path}. Name node is in safe mode.");
                break;
            case "FileAlreadyExistsException":
                await RemoteAsync(ctx, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException",
                    existing?.IsDirectory == true ? $"{path} already exists as a directory" : $"{path} for client 127.0.0.1 already exists");
                break;
            default:
                await RemoteAsync(ctx, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException",
                    $"{refusal["ParentNotDirectoryException:".Length..]} (is not a directory)");
                break;
        }
    }

    // ---- operations -------------------------------------------------------------------------------------

    private async Task GetFileStatusAsync(HttpContext ctx, string path)
    {
        Dictionary<string, object> status;
        lock (_gate)
        {
            if (!_tree.TryGetValue(path, out var node))
            {
                status = null!;
            }
            else
            {
                status = Status(node, "");
            }
        }
        if (status is null)
        {
            await RemoteAsync(ctx, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File does not exist: {path}");
            return;
        }
        await JsonAsync(ctx, 200, new Dictionary<string, object> { ["FileStatus"] = status });
    }

    private async Task ListStatusAsync(HttpContext ctx, string path)
    {
        List<Dictionary<string, object>>? statuses = null;
        lock (_gate)
        {
            if (_tree.TryGetValue(path, out var node))
            {
                statuses = node.IsDirectory
                    ? Children(path).Select(c => Status(_tree[c], c[(c.LastIndexOf('/') + 1)..])).ToList()
                    : [Status(node, "")];
            }
        }
        if (statuses is null)
        {
            await RemoteAsync(ctx, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File {path} does not exist.");
            return;
        }
        await JsonAsync(ctx, 200, new Dictionary<string, object> { ["FileStatuses"] = new Dictionary<string, object> { ["FileStatus"] = statuses } });
    }

    private async Task MkdirsAsync(HttpContext ctx, string path)
    {
        string? error = null;
        lock (_gate)
        {
            if (SafeMode) error = "safe";
            else if (_tree.TryGetValue(path, out var node) && !node.IsDirectory) error = "file";
            else if (ParentFile(path) is not null) error = "parent";
            else
            {
                MakeParents(path);
                if (!_tree.ContainsKey(path)) _tree[path] = new Node(true) { Modified = ++_clock, Id = ++_fileIds };
            }
        }
        switch (error)
        {
            case "safe":
                await RemoteAsync(ctx, 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException", $"Cannot create directory {path}. Name node is in safe mode.");
                return;
            case "file":
                await RemoteAsync(ctx, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", $"Path is not a directory: {path}");
                return;
            case "parent":
                await RemoteAsync(ctx, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", $"Parent path is not a directory: {path}");
                return;
        }
        await JsonAsync(ctx, 200, new Dictionary<string, object> { ["boolean"] = true });
    }

    private async Task RedirectCreateAsync(HttpContext ctx, string path)
    {
        // The datanode URL carries the request's parameters and the namenode's RPC address, as HDFS builds it.
        var query = ctx.Request.Query.Where(q => q.Key is not ("noredirect"))
            .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}").ToList();
        query.Add("namenoderpcaddress=" + NamenodeRpc);
        if (!ctx.Request.Query.ContainsKey("createparent")) query.Add("createparent=true");
        if (!ctx.Request.Query.ContainsKey("overwrite")) query.Add("overwrite=false");
        var location = $"{DatanodeUrl.GetLeftPart(UriPartial.Authority)}/webhdfs/v1{EscapePath(path)}?{string.Join('&', query)}";
        if (string.Equals(ctx.Request.Query["noredirect"], "true", StringComparison.OrdinalIgnoreCase))
        {
            await JsonAsync(ctx, 200, new Dictionary<string, object> { ["Location"] = location });
            return;
        }
        ctx.Response.StatusCode = 307;
        ctx.Response.Headers.Location = location;
        ctx.Response.ContentLength = 0;
    }

    private async Task RenameAsync(HttpContext ctx, string path)
    {
        var destination = ctx.Request.Query["destination"].ToString();
        if (string.IsNullOrEmpty(destination) || !destination.StartsWith('/'))
        {
            await RemoteAsync(ctx, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", $"Invalid value for webhdfs parameter \"destination\": \"{destination}\" is not an absolute path");
            return;
        }
        destination = Normalize(destination);
        bool? done = null;
        lock (_gate)
        {
            if (!SafeMode) done = Rename(path, destination);
        }
        if (done is null)
        {
            await RemoteAsync(ctx, 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException", $"Cannot rename {path}. Name node is in safe mode.");
            return;
        }
        await JsonAsync(ctx, 200, new Dictionary<string, object> { ["boolean"] = done.Value });
    }

    // FileSystem.rename's semantics (the old, boolean one WebHDFS RENAME calls).
    private bool Rename(string from, string to)
    {
        if (from == "/" || !_tree.TryGetValue(from, out var node)) return false;
        if (_tree.TryGetValue(to, out var target))
        {
            if (!target.IsDirectory) return false;
            to = to.TrimEnd('/') + "/" + from[(from.LastIndexOf('/') + 1)..];
            if (_tree.ContainsKey(to)) return false;
        }
        if (to.StartsWith(from + "/", StringComparison.Ordinal)) return false;
        var parent = Parent(to);
        if (!_tree.TryGetValue(parent, out var p) || !p.IsDirectory) return false;
        var moving = _tree.Keys.Where(k => k == from || k.StartsWith(from + "/", StringComparison.Ordinal)).ToList();
        foreach (var key in moving)
        {
            var moved = _tree[key];
            _tree.Remove(key);
            _tree[to + key[from.Length..]] = moved;
        }
        node.Modified = ++_clock;
        return true;
    }

    private async Task DeleteAsync(HttpContext ctx, string path)
    {
        var recursive = string.Equals(ctx.Request.Query["recursive"], "true", StringComparison.OrdinalIgnoreCase);
        string? error = null;
        var deleted = false;
        lock (_gate)
        {
            if (SafeMode) error = "safe";
            else if (_tree.TryGetValue(path, out var node))
            {
                if (node.IsDirectory && !recursive && Children(path).Any()) error = "nonempty";
                else if (path != "/")
                {
                    foreach (var key in _tree.Keys.Where(k => k == path || k.StartsWith(path + "/", StringComparison.Ordinal)).ToList()) _tree.Remove(key);
                    deleted = true;
                }
            }
        }
        switch (error)
        {
            case "safe":
                await RemoteAsync(ctx, 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException", $"Cannot delete {path}. Name node is in safe mode.");
                return;
            case "nonempty":
                await RemoteAsync(ctx, 403, "PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", $"`{path} is non empty': Directory is not empty");
                return;
        }
        await JsonAsync(ctx, 200, new Dictionary<string, object> { ["boolean"] = deleted });
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private bool TryParse(HttpContext ctx, out string path, out string op)
    {
        op = ctx.Request.Query["op"].ToString().ToUpperInvariant();
        var raw = ctx.Request.Path.Value ?? "";
        if (!raw.StartsWith("/webhdfs/v1", StringComparison.Ordinal))
        {
            path = "";
            ctx.Response.StatusCode = 404;
            return false;
        }
        path = Normalize(Uri.UnescapeDataString(raw["/webhdfs/v1".Length..]));
        return true;
    }

    private void Record(FakeHdfsServer server, int namenode, HttpContext ctx, string op, string path, long body)
    {
        var user = ctx.Request.Query.TryGetValue("user.name", out var u) ? u.ToString() : null;
        var delegation = ctx.Request.Query.TryGetValue("delegation", out var d) ? d.ToString() : null;
        lock (_gate) _requests.Add(new FakeHdfsRequest(server, namenode, ctx.Request.Method, op, path, user, delegation, body));
    }

    private async Task<bool> FailedOnDemandAsync(HttpContext ctx, FakeHdfsServer server, string op)
    {
        FakeHdfsFailure failure;
        lock (_gate)
        {
            var index = _failNext.FindIndex(f => (f.Op is null || f.Op == op) && (f.Server is null || f.Server == server));
            if (index < 0) return false;
            failure = _failNext[index].Failure;
            _failNext.RemoveAt(index);
        }
        switch (failure)
        {
            case FakeHdfsFailure.ServiceUnavailable:
                await DrainAsync(ctx.Request.Body);
                ctx.Response.StatusCode = 503;
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync("Service Unavailable");
                break;
            case FakeHdfsFailure.Standby:
                await DrainAsync(ctx.Request.Body);
                await RemoteAsync(ctx, 403, "StandbyException", "org.apache.hadoop.ipc.StandbyException",
                    "Operation category WRITE is not supported in state standby. Visit https://s.apache.org/sbnn-error");
                break;
            case FakeHdfsFailure.Retriable:
                await DrainAsync(ctx.Request.Body);
                await RemoteAsync(ctx, 403, "RetriableException", "org.apache.hadoop.ipc.RetriableException", "NameNode still not started");
                break;
            case FakeHdfsFailure.AccessDenied:
                await DrainAsync(ctx.Request.Body);
                await RemoteAsync(ctx, 403, "AccessControlException", "org.apache.hadoop.security.AccessControlException",
                    $"Permission denied: user={ctx.Request.Query["user.name"]}, access=WRITE, inode=\"/\":hdfs:supergroup:drwxr-xr-x");
                break;
            case FakeHdfsFailure.DropConnection:
                if (ctx.Request.ContentLength is > 0 and var length)
                {
                    var buffer = new byte[64 * 1024];
                    var read = 0L;
                    int n;
                    while (read < length / 2 && (n = await ctx.Request.Body.ReadAsync(buffer)) > 0) read += n;
                }
                ctx.Abort();
                break;
        }
        return true;
    }

    private static async Task<long> DrainAsync(Stream body)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        int n;
        try
        {
            while ((n = await body.ReadAsync(buffer)) > 0) total += n;
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException)
        {
        }
        return total;
    }

    private static async Task RemoteAsync(HttpContext ctx, int status, string exception, string javaClassName, string message) =>
        await JsonAsync(ctx, status, new Dictionary<string, object>
        {
            ["RemoteException"] = new Dictionary<string, object> { ["exception"] = exception, ["javaClassName"] = javaClassName, ["message"] = message },
        });

    private static async Task JsonAsync(HttpContext ctx, int status, object body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private Dictionary<string, object> Status(Node node, string suffix) => new()
    {
        ["accessTime"] = node.IsDirectory ? 0 : node.Modified,
        ["blockSize"] = node.IsDirectory ? 0 : 134_217_728,
        ["childrenNum"] = node.IsDirectory ? Children(PathOf(node)).Count() : 0,
        ["fileId"] = node.Id,
        ["group"] = "supergroup",
        ["length"] = node.IsDirectory ? 0 : node.Content.Length,
        ["modificationTime"] = node.Modified,
        ["owner"] = string.IsNullOrEmpty(node.Owner) ? "hdfs" : node.Owner,
        ["pathSuffix"] = suffix,
        ["permission"] = node.IsDirectory ? "755" : "644",
        ["replication"] = node.IsDirectory ? 0 : 3,
        ["storagePolicy"] = 0,
        ["type"] = node.IsDirectory ? "DIRECTORY" : "FILE",
    };

    private string PathOf(Node node) => _tree.First(kv => ReferenceEquals(kv.Value, node)).Key;

    private IEnumerable<string> Children(string directory)
    {
        var prefix = directory == "/" ? "/" : directory + "/";
        return _tree.Keys.Where(k => k.Length > prefix.Length && k.StartsWith(prefix, StringComparison.Ordinal) && k.IndexOf('/', prefix.Length) < 0);
    }

    private static string Parent(string path)
    {
        var i = path.LastIndexOf('/');
        return i <= 0 ? "/" : path[..i];
    }

    private string? ParentFile(string path)
    {
        for (var p = Parent(path); p != "/"; p = Parent(p))
        {
            if (_tree.TryGetValue(p, out var node) && !node.IsDirectory) return p;
        }
        return null;
    }

    private void MakeParents(string path)
    {
        for (var p = Parent(path); p != "/" && !_tree.ContainsKey(p); p = Parent(p))
        {
            _tree[p] = new Node(true) { Modified = ++_clock, Id = ++_fileIds };
        }
    }

    private static string Normalize(string path)
    {
        var trimmed = "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        return trimmed;
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private sealed class Node(bool isDirectory)
    {
        public bool IsDirectory { get; } = isDirectory;

        public MemoryStream Content { get; init; } = new();

        public long Modified { get; set; }

        public long Id { get; init; }

        public string? Owner { get; init; }
    }
}
