using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>One version of a cell: HBase addresses it by (row, column, timestamp).</summary>
public sealed record FakeHBaseCell(long Timestamp, byte[] Value)
{
    public string Text => Encoding.UTF8.GetString(Value);
}

/// <summary>A row as the fake holds it: column ("family:qualifier") to its versions, newest first.</summary>
public sealed record FakeHBaseRow(byte[] Key, IReadOnlyDictionary<string, IReadOnlyList<FakeHBaseCell>> Columns)
{
    public string KeyText => Encoding.UTF8.GetString(Key);

    /// <summary>The newest value of a column as text, or null.</summary>
    public string? Latest(string column) => Columns.TryGetValue(column, out var versions) && versions.Count > 0 ? versions[0].Text : null;
}

/// <summary>
/// An in-memory HBase REST server ("Stargate") on Kestrel, 127.0.0.1 port 0, following the REST chapter of the
/// HBase reference guide, in JSON only (the real one also speaks XML and protobuf):
/// <list type="bullet">
/// <item><c>GET /version/cluster</c> (text/plain or JSON), <c>GET /status/cluster</c> (JSON).</item>
/// <item><c>GET|PUT|POST|DELETE /&lt;table&gt;/schema</c>: a TableSchema <c>{"name":..,"ColumnSchema":[{"name":"e","VERSIONS":"1"}]}</c>;
/// GET of a missing table is 404, PUT/POST create (201), DELETE drops.</item>
/// <item><c>PUT|POST /&lt;table&gt;/&lt;row&gt;</c> with a CellSet <c>{"Row":[{"key":b64,"Cell":[{"column":b64,"timestamp"?,"$":b64}]}]}</c>:
/// every row is checked first and the request applied whole or not at all, like the REST server's one
/// <c>Table.put(List)</c> whose client-side checks fail before anything is sent. A cell at an existing
/// (row, column, timestamp) replaces that version; a family keeps its newest VERSIONS versions.</item>
/// <item><c>GET /&lt;table&gt;/&lt;row&gt;[?v=N]</c>: the row's CellSet, 404 when there is none.</item>
/// </list>
/// Errors as the REST server maps exceptions: text/plain "Not found" 404 (table or column family missing),
/// "Bad request" 400 (the client's IllegalArgumentException: a cell over <see cref="MaxCellSize"/> is
/// "KeyValue size too large", a negative timestamp, a row without cells), "Unavailable" 503. A JSON body
/// that is not JSON is 400, one that is not <c>application/json</c> or <c>text/json</c> is 415.
/// Tests read the store with <see cref="ReadRows"/> and make failures with the Fail*/Drop* methods.
/// </summary>
public sealed class FakeHBaseRest : IAsyncDisposable
{
    public const string Version = "2.5.10";

    private readonly WebApplication _app;
    private readonly object _lock = new();
    private readonly Dictionary<string, FakeTable> _tables = new(StringComparer.Ordinal);
    private readonly List<int> _rowsPerWrite = new();
    private int _failRequests;
    private int _failRequestsStatus;
    private int _failWrites;
    private int _failWritesStatus;
    private int _dropWrites;
    private bool _dropAfterApplying;
    private int _writeRequests;
    private int _schemaCreates;

    private FakeHBaseRest(WebApplication app) => _app = app;

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary><c>hbase.client.keyvalue.maxsize</c> as the REST server's client enforces it (HBase's default 10 MiB).</summary>
    public long MaxCellSize { get; set; } = 10L * 1024 * 1024;

    public static async Task<FakeHBaseRest> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // The REST server (Jetty) puts no cap on a CellSet's size; Kestrel's default is 30 MB.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var fake = new FakeHBaseRest(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.BaseUrl = new Uri(app.Urls.Single().TrimEnd('/') + "/");
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- failures on demand ----

    /// <summary>The next <paramref name="count"/> requests of any kind are answered <paramref name="status"/>.</summary>
    public void FailNextRequests(int count, int status = 503)
    {
        lock (_lock) (_failRequests, _failRequestsStatus) = (count, status);
    }

    /// <summary>The next <paramref name="count"/> row PUT/POSTs are answered <paramref name="status"/> (503: region not serving) and not applied.</summary>
    public void FailNextWrites(int count, int status = 503)
    {
        lock (_lock) (_failWrites, _failWritesStatus) = (count, status);
    }

    /// <summary>The next <paramref name="count"/> row PUT/POSTs have their connection dropped, before or after being applied.</summary>
    public void DropNextWrites(int count, bool afterApplying = false)
    {
        lock (_lock) (_dropWrites, _dropAfterApplying) = (count, afterApplying);
    }

    // ---- test accessors ----

    /// <summary>Row PUT/POST requests received (whatever their answer).</summary>
    public int WriteRequests
    {
        get { lock (_lock) return _writeRequests; }
    }

    /// <summary>The number of rows in each applied row PUT/POST, in order.</summary>
    public IReadOnlyList<int> RowsPerWrite
    {
        get { lock (_lock) return _rowsPerWrite.ToList(); }
    }

    /// <summary>Tables created through <c>PUT|POST /&lt;table&gt;/schema</c>.</summary>
    public int SchemaCreates
    {
        get { lock (_lock) return _schemaCreates; }
    }

    public bool TableExists(string table)
    {
        lock (_lock) return _tables.ContainsKey(table);
    }

    public IReadOnlyList<string> Families(string table)
    {
        lock (_lock) return _tables.TryGetValue(table, out var t) ? t.Families.Keys.ToList() : [];
    }

    /// <summary>Makes a table as an operator would (for tests of an existing table).</summary>
    public void CreateTable(string table, int versions, params string[] families)
    {
        lock (_lock) _tables[table] = new FakeTable(families.ToDictionary(f => f, _ => versions));
    }

    public void DropTable(string table)
    {
        lock (_lock) _tables.Remove(table);
    }

    /// <summary>Every row of a table in HBase's order (row keys as unsigned bytes), as a scan would return them.</summary>
    public IReadOnlyList<FakeHBaseRow> ReadRows(string table)
    {
        lock (_lock)
        {
            if (!_tables.TryGetValue(table, out var t)) return [];
            return t.Rows.Select(r => Snapshot(r.Key, r.Value, int.MaxValue)).ToList();
        }
    }

    // ---- the protocol ----

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        var isWrite = segments.Length == 2 && segments[1] is not ("schema" or "scanner" or "regions")
            && segments[0] is not ("version" or "status" or "namespaces")
            && (HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method));

        bool drop = false, dropAfter = false;
        int? failWith = null;
        lock (_lock)
        {
            if (isWrite) _writeRequests++;
            if (_failRequests > 0)
            {
                _failRequests--;
                failWith = _failRequestsStatus;
            }
            else if (isWrite && _failWrites > 0)
            {
                _failWrites--;
                failWith = _failWritesStatus;
            }
            else if (isWrite && _dropWrites > 0)
            {
                _dropWrites--;
                drop = true;
                dropAfter = _dropAfterApplying;
            }
        }
        if (failWith is { } status)
        {
            await TextAsync(context, status, status == 503 ? "Unavailable\r\norg.apache.hadoop.hbase.NotServingRegionException: region is not online" : "Failed on demand");
            return;
        }
        if (drop && !dropAfter)
        {
            context.Abort();
            return;
        }

        switch (segments)
        {
            case ["version", "cluster"] when HttpMethods.IsGet(request.Method):
                if (request.Headers.Accept.ToString().Contains("json", StringComparison.Ordinal))
                    await JsonAsync(context, 200, new Dictionary<string, string> { ["Version"] = Version });
                else
                    await TextAsync(context, 200, Version);
                return;
            case ["status", "cluster"] when HttpMethods.IsGet(request.Method):
                await JsonAsync(context, 200, ClusterStatus());
                return;
            case [var table, "schema"]:
                await SchemaAsync(context, table);
                return;
            case [var table, var row] when table.Length > 0 && row.Length > 0:
                if (HttpMethods.IsGet(request.Method))
                    await GetRowAsync(context, table, Encoding.UTF8.GetBytes(row));
                else if (HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method))
                    await PutRowsAsync(context, table, Encoding.UTF8.GetBytes(row), dropAfter);
                else
                    await TextAsync(context, 405, "Method not allowed");
                return;
            default:
                await TextAsync(context, 404, "Not found");
                return;
        }
    }

    private object ClusterStatus()
    {
        lock (_lock)
        {
            return new Dictionary<string, object>
            {
                ["regions"] = _tables.Count,
                ["requests"] = _writeRequests,
                ["averageLoad"] = (double)_tables.Count,
                ["LiveNodes"] = new[] { new Dictionary<string, object> { ["name"] = "127.0.0.1:16020", ["startCode"] = 1L, ["requests"] = 0, ["heapSizeMB"] = 128, ["maxHeapSizeMB"] = 1024, ["Region"] = Array.Empty<object>() } },
                ["DeadNodes"] = Array.Empty<string>(),
            };
        }
    }

    private async Task SchemaAsync(HttpContext context, string table)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method))
        {
            object? schema;
            lock (_lock)
            {
                schema = _tables.TryGetValue(table, out var t)
                    ? new Dictionary<string, object>
                    {
                        ["name"] = table,
                        ["ColumnSchema"] = t.Families.Select(f => new Dictionary<string, string> { ["name"] = f.Key, ["VERSIONS"] = f.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToArray(),
                        ["IS_META"] = "false",
                    }
                    : null;
            }
            if (schema is null) await TextAsync(context, 404, $"Not found\r\norg.apache.hadoop.hbase.TableNotFoundException: {table}");
            else await JsonAsync(context, 200, schema);
            return;
        }
        if (HttpMethods.IsDelete(method))
        {
            bool removed;
            lock (_lock) removed = _tables.Remove(table);
            await TextAsync(context, removed ? 200 : 404, removed ? "" : $"Not found\r\norg.apache.hadoop.hbase.TableNotFoundException: {table}");
            return;
        }
        if (!HttpMethods.IsPut(method) && !HttpMethods.IsPost(method))
        {
            await TextAsync(context, 405, "Method not allowed");
            return;
        }
        if (!IsJson(context.Request.ContentType))
        {
            await TextAsync(context, 415, "Unsupported media type");
            return;
        }
        Dictionary<string, int> families;
        try
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            families = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var column in doc.RootElement.GetProperty("ColumnSchema").EnumerateArray())
            {
                var versions = column.TryGetProperty("VERSIONS", out var v) && int.TryParse(v.ToString(), out var n) ? n : 1;
                families[column.GetProperty("name").GetString()!] = versions;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            await TextAsync(context, 400, "Bad request\r\n" + e.Message);
            return;
        }
        lock (_lock)
        {
            // PUT replaces the schema, POST updates it; both create a table that is not there.
            if (_tables.TryGetValue(table, out var existing))
            {
                if (HttpMethods.IsPut(method)) existing.Families.Clear();
                foreach (var (f, v) in families) existing.Families[f] = v;
            }
            else
            {
                _tables[table] = new FakeTable(families);
                _schemaCreates++;
            }
        }
        await TextAsync(context, 201, "");
    }

    private async Task GetRowAsync(HttpContext context, string table, byte[] row)
    {
        var versions = int.TryParse(context.Request.Query["v"], out var v) && v > 0 ? v : 1;
        FakeHBaseRow? found;
        lock (_lock)
        {
            if (!_tables.TryGetValue(table, out var t))
            {
                found = null;
            }
            else
            {
                found = t.Rows.TryGetValue(row, out var columns) ? Snapshot(row, columns, versions) : null;
            }
        }
        if (found is null)
        {
            await TextAsync(context, 404, "Not found");
            return;
        }
        var cells = found.Columns.OrderBy(c => c.Key, StringComparer.Ordinal).SelectMany(c => c.Value.Select(cell => new Dictionary<string, object>
        {
            ["column"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(c.Key)),
            ["timestamp"] = cell.Timestamp,
            ["$"] = Convert.ToBase64String(cell.Value),
        })).ToArray();
        await JsonAsync(context, 200, new Dictionary<string, object>
        {
            ["Row"] = new[] { new Dictionary<string, object> { ["key"] = Convert.ToBase64String(found.Key), ["Cell"] = cells } },
        });
    }

    private async Task PutRowsAsync(HttpContext context, string table, byte[] pathRow, bool dropAfterApplying)
    {
        if (!IsJson(context.Request.ContentType))
        {
            await TextAsync(context, 415, "Unsupported media type");
            return;
        }
        Dictionary<string, int>? families;
        lock (_lock) families = _tables.TryGetValue(table, out var t) ? new Dictionary<string, int>(t.Families) : null;
        if (families is null)
        {
            await TextAsync(context, 404, $"Not found\r\norg.apache.hadoop.hbase.TableNotFoundException: {table}");
            return;
        }

        // Parse and check every row first: the request is applied whole or not at all.
        var puts = new List<(byte[] Row, List<(string Column, long Ts, byte[] Value)> Cells)>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        try
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            foreach (var row in doc.RootElement.GetProperty("Row").EnumerateArray())
            {
                var key = row.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetBytesFromBase64() : pathRow;
                if (key.Length == 0 || key.Length > short.MaxValue) throw new ArgumentException($"Row length {key.Length} is out of range");
                var cells = new List<(string, long, byte[])>();
                foreach (var cell in row.GetProperty("Cell").EnumerateArray())
                {
                    var column = Encoding.UTF8.GetString(cell.GetProperty("column").GetBytesFromBase64());
                    var colon = column.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0) throw new ArgumentException($"Invalid column '{column}': family:qualifier expected");
                    var family = column[..colon];
                    if (!families.ContainsKey(family)) throw new FakeNotFoundException($"org.apache.hadoop.hbase.regionserver.NoSuchColumnFamilyException: Column family {family} does not exist in region {table}");
                    var ts = cell.TryGetProperty("timestamp", out var t) ? t.GetInt64() : now;
                    if (ts < 0) throw new ArgumentException($"Timestamp cannot be negative. ts={ts}");
                    var value = cell.GetProperty("$").GetBytesFromBase64();
                    // KeyValue length as HBase's client checks it against hbase.client.keyvalue.maxsize.
                    var size = 4 + 4 + 2 + key.Length + 1 + Encoding.UTF8.GetByteCount(column) - 1 + 8 + 1 + value.Length;
                    if (size > MaxCellSize) throw new ArgumentException("KeyValue size too large");
                    cells.Add((column, ts, value));
                }
                if (cells.Count == 0) throw new ArgumentException("No columns to insert");
                puts.Add((key, cells));
            }
        }
        catch (FakeNotFoundException e)
        {
            await TextAsync(context, 404, "Not found\r\n" + e.Message);
            return;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            await TextAsync(context, 400, "Bad request\r\n" + (e is ArgumentException ? "java.lang.IllegalArgumentException: " : "") + e.Message);
            return;
        }

        var applied = false;
        lock (_lock)
        {
            if (_tables.TryGetValue(table, out var t))
            {
                applied = true;
                foreach (var (row, cells) in puts)
                {
                    if (!t.Rows.TryGetValue(row, out var columns)) t.Rows[row] = columns = new Dictionary<string, List<FakeHBaseCell>>(StringComparer.Ordinal);
                    foreach (var (column, ts, value) in cells)
                    {
                        var name = t.ColumnNames.TryGetValue(column, out var known) ? known : t.ColumnNames[column] = column;
                        if (!columns.TryGetValue(name, out var versions)) columns[name] = versions = new List<FakeHBaseCell>(1);
                        // Newest first; the same (row, column, timestamp) is the same version: replaced, not added.
                        var at = versions.FindIndex(c => c.Timestamp <= ts);
                        if (at >= 0 && versions[at].Timestamp == ts) versions[at] = new FakeHBaseCell(ts, value);
                        else versions.Insert(at < 0 ? versions.Count : at, new FakeHBaseCell(ts, value));
                        var keep = t.Families[name[..name.IndexOf(':', StringComparison.Ordinal)]];
                        if (versions.Count > keep) versions.RemoveRange(keep, versions.Count - keep);
                    }
                }
                _rowsPerWrite.Add(puts.Count);
            }
        }
        if (!applied)
        {
            await TextAsync(context, 404, $"Not found\r\norg.apache.hadoop.hbase.TableNotFoundException: {table}");
            return;
        }
        if (dropAfterApplying)
        {
            context.Abort();
            return;
        }
        await TextAsync(context, 200, "");
    }

    private static FakeHBaseRow Snapshot(byte[] key, Dictionary<string, List<FakeHBaseCell>> columns, int versions) =>
        new(key, columns.ToDictionary(
            c => c.Key,
            c => (IReadOnlyList<FakeHBaseCell>)c.Value.Take(versions).ToList(),
            StringComparer.Ordinal));

    private static bool IsJson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("text/json", StringComparison.OrdinalIgnoreCase));

    private static Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        if (text.Length == 0) return Task.CompletedTask;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text + "\r\n");
    }

    private static Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private sealed class FakeNotFoundException(string message) : Exception(message);

    /// <summary>A table: its families with their VERSIONS, and rows ordered as HBase orders them (unsigned bytes).</summary>
    private sealed class FakeTable(Dictionary<string, int> families)
    {
        public Dictionary<string, int> Families { get; } = families;

        public SortedDictionary<byte[], Dictionary<string, List<FakeHBaseCell>>> Rows { get; } = new(ByteOrder.Instance);

        /// <summary>One string per column name, shared by all rows (a store of millions of cells stays small).</summary>
        public Dictionary<string, string> ColumnNames { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y.AsSpan());
    }
}
