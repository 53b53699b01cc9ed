using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.HBase;

/// <summary>
/// Writes log events to an HBase table through the HBase REST server ("Stargate"): one row per event, one cell
/// per field (see <see cref="HBaseRowEncoder"/>), batched as <c>PUT /&lt;table&gt;/&lt;any-row&gt;</c> with a JSON
/// <c>CellSet</c> of up to <c>max-rows-per-request</c> rows.
/// <para>
/// Idempotent: a record always makes the same row key (from the <c>row-key</c> template) and the same cells
/// with the same explicit cell timestamp (the event's <c>ts</c>). In HBase a cell is addressed by
/// (row, family:qualifier, timestamp); a put to an address that exists replaces that version rather than
/// adding one, so a replay rewrites identical versions: no new row, no extra version, nothing a reader sees changes.
/// </para>
/// <para>
/// Outcomes: a connection failure, a timeout, 5xx (503 is the REST server's answer when a region is not
/// serving) or 404 (the table is gone; it is looked up again, and created if allowed, before the next write)
/// leave the records <see cref="SinkOutcome.Errored"/> for the framework to retry. A 400 means HBase refused a
/// row (the REST server maps the client's IllegalArgumentException, e.g. "KeyValue size too large", to 400);
/// since a batched PUT succeeds or fails as a whole, the batch is bisected until the refused rows stand
/// alone, and those are <see cref="SinkOutcome.Rejected"/> with the server's message (a 413, a request too
/// large for a proxy in front of the server, is bisected the same way). Rows that can be known
/// to fail (a cell over <c>max-cell-size</c>, a row key over 32767 bytes, a negative ts) are rejected before sending.
/// </para>
/// </summary>
public sealed class HBaseSink : ISink
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(5);

    private readonly HBaseSinkOptions _options;
    private readonly HttpClient _http;
    private readonly HBaseRowEncoder _encoder;
    private readonly Uri _schemaUri;
    private readonly Uri _rowsUri;
    private bool _tableReady;

    public HBaseSink(HBaseSinkOptions options, string name = "hbase", HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Name = name;
        _encoder = new HBaseRowEncoder(options);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.RequestTimeout,
        })
        {
            // Each request has its own timeout (request-timeout, or the health check's shorter one).
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var table = Uri.EscapeDataString(options.QualifiedTable);
        var baseUri = options.Url.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
        _schemaUri = new Uri(baseUri, table + "/schema");
        // The REST server takes the row keys from the CellSet; the row in the path is a placeholder
        // ("fakerow" in the HBase reference guide) used only for a Row without a key, which we never send.
        _rowsUri = new Uri(baseUri, table + "/nwdp-batch");
        HealthUri = new Uri(baseUri, "version/cluster");
    }

    public string Name { get; }

    /// <summary><c>GET /version/cluster</c>: answers only when the REST server reaches the cluster.</summary>
    public Uri HealthUri { get; }

    /// <summary>
    /// Nothing to open: the table is checked (and created, with <c>create-table</c>) before the first write, so a
    /// cluster that is down when the node starts only delays delivery, it does not stop the pump.
    /// </summary>
    public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        var outcomes = new SinkOutcome[batch.Count];
        var reasons = new string?[batch.Count];
        if (batch.Count == 0) return new SinkWriteResult(outcomes, reasons);

        if (!_tableReady)
        {
            var problem = await EnsureTableAsync(cancellation).ConfigureAwait(false);
            if (problem is not null)
            {
                Array.Fill(outcomes, SinkOutcome.Errored);
                Array.Fill(reasons, problem);
                return new SinkWriteResult(outcomes, reasons);
            }
        }

        var rows = _encoder.Encode(batch);
        // The records to send, by batch index; refused ones are settled here and never sent.
        var sendable = new List<int>(batch.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Rejection is { } rejection)
            {
                outcomes[i] = SinkOutcome.Rejected;
                reasons[i] = rejection;
            }
            else
            {
                sendable.Add(i);
            }
        }

        var context = new WriteContext(rows, sendable, outcomes, reasons);
        for (var from = 0; from < sendable.Count; from += _options.MaxRowsPerRequest)
        {
            var to = Math.Min(sendable.Count, from + _options.MaxRowsPerRequest);
            if (context.Failure is not null)
            {
                // The server is unreachable or failing: do not wait out a timeout for every request left.
                context.Settle(from, to, SinkOutcome.Errored, context.Failure);
                continue;
            }
            await PutAsync(context, from, to, cancellation).ConfigureAwait(false);
        }
        return new SinkWriteResult(outcomes, reasons);
    }

    /// <summary>Sends rows [from, to) of the sendable ones in one PUT; on a 400 (or 413), bisects to find the refused rows.</summary>
    private Task PutAsync(WriteContext context, int from, int to, CancellationToken cancellation) =>
        BatchBisection.RunAsync(from, to, (f, t) => TryPutAsync(context, f, t, cancellation), context.Settle);

    private async Task<RangeAttempt> TryPutAsync(WriteContext context, int from, int to, CancellationToken cancellation)
    {
        var (status, body, failure) = await SendAsync(context, from, to, cancellation).ConfigureAwait(false);
        if (failure is not null)
        {
            context.Failure = failure;
            return RangeAttempt.Failed(failure);
        }
        if ((int)status is >= 200 and < 300) return RangeAttempt.Delivered;
        // 413: a proxy (or a REST server with a request size limit) refused the request's size; halves fit.
        if (status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)
            return RangeAttempt.Refused($"HBase REST refused the row ({(int)status}): {Describe(body)}");
        var reason = $"HBase REST answered {(int)status} {status}: {Describe(body)}";
        if (status == HttpStatusCode.NotFound)
        {
            // The table (or its column family) went away: look it up again before the next write.
            _tableReady = false;
        }
        context.Failure = reason;
        return RangeAttempt.Failed(reason);
    }

    private async Task<(HttpStatusCode Status, string Body, string? Failure)> SendAsync(WriteContext context, int from, int to, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, _rowsUri) { Content = new CellSetContent(_encoder.Buffer, context, from, to) };
        request.Headers.Accept.ParseAdd("application/json");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            var body = response.IsSuccessStatusCode ? "" : await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return (response.StatusCode, body, null);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException)
        {
            return (0, "", e is OperationCanceledException
                ? $"HBase REST did not answer within request-timeout {_options.RequestTimeout.TotalSeconds:0.###}s"
                : $"HBase REST unreachable at {_options.Url}: {e.GetBaseException().Message}");
        }
    }

    /// <summary>
    /// Looks the table up (<c>GET /&lt;table&gt;/schema</c>) and, on a 404 with <c>create-table</c>, creates it with the
    /// column family (<c>PUT /&lt;table&gt;/schema</c>). Returns null when it is usable, else why not.
    /// </summary>
    private async Task<string?> EnsureTableAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.RequestTimeout);
        var table = _options.QualifiedTable;
        try
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, _schemaUri);
            get.Headers.Accept.ParseAdd("application/json");
            using var response = await _http.SendAsync(get, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                if (!HasFamily(body, _options.ColumnFamily))
                    return $"table {table} has no column family '{_options.ColumnFamily}' (column-family): add it, or name one the table has";
                _tableReady = true;
                return null;
            }
            if (response.StatusCode != HttpStatusCode.NotFound)
                return $"GET {_schemaUri} answered {(int)response.StatusCode}: {Describe(body)}";
            if (!_options.CreateTable)
                return $"table {table} does not exist and create-table is off: create it with column family '{_options.ColumnFamily}'";

            // TableSchema in JSON, as the REST server reads it; HBase keeps 1 version per cell by default.
            var schema = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["name"] = table,
                ["ColumnSchema"] = new[] { new Dictionary<string, string> { ["name"] = _options.ColumnFamily, ["VERSIONS"] = "1" } },
            });
            using var put = new HttpRequestMessage(HttpMethod.Put, _schemaUri) { Content = new StringContent(schema, Encoding.UTF8) };
            put.Content.Headers.ContentType = Json;
            put.Headers.Accept.ParseAdd("application/json");
            using var created = await _http.SendAsync(put, timeout.Token).ConfigureAwait(false);
            if (!created.IsSuccessStatusCode)
                return $"PUT {_schemaUri} (create table {table}) answered {(int)created.StatusCode}: {Describe(await created.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false))}";
            _tableReady = true;
            return null;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException)
        {
            return e is OperationCanceledException
                ? $"HBase REST did not answer within request-timeout {_options.RequestTimeout.TotalSeconds:0.###}s"
                : $"HBase REST unreachable at {_options.Url}: {e.GetBaseException().Message}";
        }
    }

    private static bool HasFamily(string schemaJson, string family)
    {
        try
        {
            using var doc = JsonDocument.Parse(schemaJson);
            return doc.RootElement.TryGetProperty("ColumnSchema", out var columns)
                && columns.ValueKind == JsonValueKind.Array
                && columns.EnumerateArray().Any(c => c.TryGetProperty("name", out var n) && n.GetString() == family);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Nothing to do: the REST server answers a row PUT with 200 only after <c>Table.put</c> returned, that is
    /// after the region servers wrote the edits to their write-ahead log and memstore, where reads see them.
    /// This sink buffers nothing between <see cref="WriteAsync"/> and here.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

    /// <summary><c>GET /version/cluster</c> with a short timeout: the REST server must be up and reach the cluster.</summary>
    public async Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(HealthTimeout < _options.RequestTimeout ? HealthTimeout : _options.RequestTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, HealthUri);
            request.Headers.Accept.ParseAdd("text/plain");
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? new SinkHealth(true, $"HBase {body.Trim()} via REST at {_options.Url}, table {_options.QualifiedTable}")
                : new SinkHealth(false, $"GET {HealthUri} answered {(int)response.StatusCode}: {Describe(body)}");
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException)
        {
            return new SinkHealth(false, e is OperationCanceledException
                ? $"HBase REST at {_options.Url} did not answer GET /version/cluster in time"
                : $"HBase REST unreachable at {_options.Url}: {e.GetBaseException().Message}");
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    // The REST server answers errors in text/plain ("Bad request\r\n<exception message>\r\n"): one line, bounded.
    private static string Describe(string body)
    {
        var text = string.Join(" ", body.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (text.Length == 0) return "(no body)";
        return text.Length <= 500 ? text : text[..500] + "...";
    }

    /// <summary>One WriteAsync's state: the encoded rows, which are sent, and the outcomes being filled in.</summary>
    private sealed class WriteContext(
        IReadOnlyList<(int Start, int Length, string? Rejection)> rows,
        List<int> sendable,
        SinkOutcome[] outcomes,
        string?[] reasons)
    {
        public IReadOnlyList<(int Start, int Length, string? Rejection)> Rows { get; } = rows;

        public List<int> Sendable { get; } = sendable;

        /// <summary>Set once a request failed in a way that is not the rows' fault; later requests are skipped.</summary>
        public string? Failure { get; set; }

        public void Settle(int from, int to, SinkOutcome outcome, string? reason)
        {
            for (var k = from; k < to; k++)
            {
                outcomes[Sendable[k]] = outcome;
                reasons[Sendable[k]] = reason;
            }
        }
    }

    /// <summary>The body <c>{"Row":[row,row,...]}</c> of rows [from, to), written from the encoded buffer without copying.</summary>
    private sealed class CellSetContent : HttpContent
    {
        private static readonly byte[] Prefix = "{\"Row\":["u8.ToArray();
        private static readonly byte[] Suffix = "]}"u8.ToArray();
        private static readonly byte[] Comma = ","u8.ToArray();

        private readonly ReadOnlyMemory<byte> _buffer;
        private readonly WriteContext _context;
        private readonly int _from;
        private readonly int _to;

        public CellSetContent(ReadOnlyMemory<byte> buffer, WriteContext context, int from, int to)
        {
            _buffer = buffer;
            _context = context;
            _from = from;
            _to = to;
            Headers.ContentType = Json;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(Prefix, cancellationToken).ConfigureAwait(false);
            for (var k = _from; k < _to; k++)
            {
                if (k > _from) await stream.WriteAsync(Comma, cancellationToken).ConfigureAwait(false);
                var (start, length, _) = _context.Rows[_context.Sendable[k]];
                await stream.WriteAsync(_buffer.Slice(start, length), cancellationToken).ConfigureAwait(false);
            }
            await stream.WriteAsync(Suffix, cancellationToken).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Prefix.Length + Suffix.Length + Math.Max(0, _to - _from - 1);
            for (var k = _from; k < _to; k++) length += _context.Rows[_context.Sendable[k]].Length;
            return true;
        }
    }
}
