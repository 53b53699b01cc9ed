using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.ClickHouse;

/// <summary>
/// Inserts records into a ClickHouse table over the HTTP interface (<c>INSERT INTO t FORMAT JSONEachRow</c>, the
/// batch as the body; no driver). The table (<c>ENGINE = ReplacingMergeTree ORDER BY (topic, partition, offset)</c>)
/// is created if missing. Idempotence: a replayed record has the same sorting key, so merges keep one row;
/// until they have run, readers ask for <c>SELECT ... FINAL</c>. Outcomes: a connection failure, a timeout or
/// a server error that is not about the data (too many parts, memory, a missing table, authentication)
/// errors the batch (retried); a data error (a value the server cannot parse) is narrowed down by bisecting
/// the batch, and only the rows the server refuses alone are rejected, with its message. A typed log type's typed
/// fields have columns of their own (<see cref="SqlTypedLayout.DecideAsync"/>, as the SQL sinks: added when the sink
/// first meets the schema, or its records rejected with the reason); JSONEachRow lets every row name its own
/// columns, so typed and plain rows share one INSERT and plain rows are written as before.
/// </summary>
/// <remarks>Works with ClickHouse 18.16 (Debian 12's) and current releases: only types and syntax both know.</remarks>
public sealed partial class ClickHouseSink : ISink
{
    // ClickHouse error codes that mean "this data cannot be inserted", whatever is retried (src/Common/ErrorCodes.cpp).
    private static readonly HashSet<int> DataErrors =
    [
        6,   // CANNOT_PARSE_TEXT
        25,  // CANNOT_PARSE_ESCAPE_SEQUENCE
        26,  // CANNOT_PARSE_QUOTED_STRING
        27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  // CANNOT_PARSE_DATE
        41,  // CANNOT_PARSE_DATETIME
        53,  // TYPE_MISMATCH
        69,  // ARGUMENT_OUT_OF_BOUND
        70,  // CANNOT_CONVERT_TYPE
        72,  // CANNOT_PARSE_NUMBER
        117, // INCORRECT_DATA
        131, // TOO_LARGE_STRING_SIZE
        190, // SIZES_OF_ARRAYS_DOESNT_MATCH
        321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        469, // VIOLATED_CONSTRAINT
    ];

    private readonly ClickHouseSinkOptions _options;
    private readonly HttpClient _http;
    private readonly string _insertPath;
    private readonly string _qualifiedTable;
    private bool? _dateTime64; // whether the server has DateTime64; asked once, when a typed schema is first met
    private readonly TypedColumnStore _typedStore;

    // Per typed log type's schema seen: its columns (made when missing) or why its records cannot be stored. Forgotten
    // when a write fails or is refused, so the next batch looks at the table again (a column dropped under us, say).
    private readonly Dictionary<TypedLogSchema, TypedLayout> _layouts = new(ReferenceEqualityComparer.Instance);

    public ClickHouseSink(ClickHouseSinkOptions options, string name = "clickhouse", HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options.Validate();
        _options = options;
        Name = name;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = options.RequestTimeout })
        {
            BaseAddress = options.Url,
            Timeout = options.RequestTimeout,
        };
        if (options.User is not null)
        {
            _http.DefaultRequestHeaders.Add("X-ClickHouse-User", options.User);
            if (options.Password is not null) _http.DefaultRequestHeaders.Add("X-ClickHouse-Key", options.Password);
        }
        _qualifiedTable = $"`{options.Database}`.`{options.Table}`";
        _insertPath = "?query=" + Uri.EscapeDataString($"INSERT INTO {_qualifiedTable} FORMAT JSONEachRow");
        _typedStore = new TypedColumnStore(
            $"{options.Database}.{options.Table}",
            options.CreateTable,
            StringComparer.Ordinal,
            ClickHouseRows.NameProblem,
            AddTypedColumnSql,
            ClickHouseRows.Accepts,
            ColumnTypesAsync,
            async (sql, cancellation) => (await SendAsync("", new StringContent(sql, Encoding.UTF8), cancellation).ConfigureAwait(false))?.Message);
    }

    public string Name { get; }

    public ClickHouseSinkOptions Options => _options;

    /// <summary>The statement <c>create-table = on</c> runs.</summary>
    public string CreateTableSql =>
        $"CREATE TABLE IF NOT EXISTS {_qualifiedTable} ({ClickHouseRows.Columns}) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(`date`) ORDER BY (`topic`, `partition`, `offset`)";

    /// <summary>What gives a table made before <c>lineage_sender</c> existed that column (create-table = on does it at open).</summary>
    public string AddSenderSql => $"ALTER TABLE {_qualifiedTable} ADD COLUMN {ClickHouseRows.SenderColumn}";

    /// <summary>The statement that gives a typed field its column: <c>ALTER TABLE ... ADD COLUMN `status` Nullable(Int32)</c>.</summary>
    /// <remarks>Without <c>IF NOT EXISTS</c>, which 18.16 does not parse: a failed add is fine when the column is there afterwards.</remarks>
    public string AddTypedColumnSql(TypedField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return $"ALTER TABLE {_qualifiedTable} ADD COLUMN `{field.Name}` {ClickHouseRows.TypeOf(field, _dateTime64 == true)}";
    }

    /// <summary>
    /// Creates the table if missing (create-table = on), and gives a table an earlier version made the
    /// <c>lineage_sender</c> column: with create-table = off a table without it fails here, naming the statement to
    /// run, since every insert would be refused. A missing table is left to the writes (errored, retried).
    /// </summary>
    public async Task OpenAsync(CancellationToken cancellation)
    {
        if (_options.CreateTable)
        {
            await QueryAsync($"CREATE DATABASE IF NOT EXISTS `{_options.Database}`", cancellation).ConfigureAwait(false);
            await QueryAsync(CreateTableSql, cancellation).ConfigureAwait(false);
        }
        if (await HasSenderAsync(cancellation).ConfigureAwait(false) is not false) return;
        if (!_options.CreateTable)
            throw new InvalidOperationException($"ClickHouse sink '{Name}': table {_qualifiedTable} has no column lineage_sender (added after it was made); set create-table = on, which adds it, or run: {AddSenderSql}");
        try
        {
            await QueryAsync(AddSenderSql, cancellation).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // Fine if another writer of the table added it meanwhile.
            if (await HasSenderAsync(cancellation).ConfigureAwait(false) is not true) throw;
        }
    }

    // True or false when the table exists, null when it does not.
    private async Task<bool?> HasSenderAsync(CancellationToken cancellation)
    {
        var names = (await QueryTextAsync(
                $"SELECT name FROM system.columns WHERE database = '{_options.Database}' AND table = '{_options.Table}' FORMAT TabSeparated", cancellation)
            .ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return names.Length == 0 ? null : names.Contains("lineage_sender");
    }

    public async Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var outcomes = new SinkOutcome[batch.Count];
        var reasons = new string?[batch.Count];
        var typed = await PrepareTypedAsync(batch, cancellation).ConfigureAwait(false);
        var body = new ArrayBufferWriter<byte>(Math.Max(256, batch.Count * 300));
        var rows = new List<(int Index, int Start, int End)>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!ClickHouseRows.CanWrite(batch[i], out var why))
            {
                (outcomes[i], reasons[i]) = (SinkOutcome.Rejected, why);
                continue;
            }
            IReadOnlyList<SqlTypedColumn>? columns = null;
            if (typed && batch[i].Event.Typed is { } values)
            {
                var layout = _layouts[values.Schema];
                if (layout.Refusal(values) is { } refusal)
                {
                    (outcomes[i], reasons[i]) = (SinkOutcome.Rejected, refusal);
                    continue;
                }
                columns = layout.Shared.Columns;
            }
            var start = body.WrittenCount;
            ClickHouseRows.Write(batch[i], body, columns);
            rows.Add((i, start, body.WrittenCount));
        }
        if (rows.Count > 0) await BatchBisection.RunAsync(0, rows.Count, InsertAsync, Settle).ConfigureAwait(false);
        return new SinkWriteResult(outcomes, reasons);

        // Rows [from, to) of `rows`: one INSERT; a data error is refused (bisected until single rows remain).
        async Task<RangeAttempt> InsertAsync(int from, int to)
        {
            var (start, end) = (rows[from].Start, rows[to - 1].End);
            var failure = await SendAsync(_insertPath, new ReadOnlyMemoryContent(body.WrittenMemory[start..end]), cancellation).ConfigureAwait(false);
            if (failure is null) return RangeAttempt.Delivered;
            return failure.Value.IsDataError
                ? RangeAttempt.Refused("ClickHouse refused the row: " + failure.Value.Message)
                : RangeAttempt.Failed(failure.Value.Message);
        }

        void Settle(int from, int to, SinkOutcome outcome, string? reason)
        {
            for (var r = from; r < to; r++) (outcomes[rows[r].Index], reasons[rows[r].Index]) = (outcome, reason);
            if (outcome != SinkOutcome.Delivered && typed) _layouts.Clear();
        }
    }

    /// <summary>
    /// Decides the columns of every typed schema among <paramref name="batch"/> not seen yet (adding them outside the
    /// insert): true when there are typed records. The untyped path costs one null check per record. A failure here (the
    /// server unreachable, an ALTER refused with the column still missing, the table missing) throws: the batch is
    /// errored and retried, as a failed insert is.
    /// </summary>
    private async Task<bool> PrepareTypedAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation)
    {
        if (SqlTypedLayout.Unseen(batch, _layouts, out var typed) is not { } fresh) return typed;
        try
        {
            var present = await ColumnTypesAsync(cancellation).ConfigureAwait(false);
            if (present.Count == 0) throw new HttpRequestException($"ClickHouse sink '{Name}': table {_qualifiedTable} does not exist");
            _dateTime64 ??= await HasDateTime64Async(cancellation).ConfigureAwait(false);
            foreach (var schema in fresh)
            {
                var shared = await SqlTypedLayout.DecideAsync(schema, present, _typedStore, cancellation).ConfigureAwait(false);
                if (shared.Refusal is null && shared.Columns.Any(c => c.LeafKind is TypedKind.TimestampMillis or TypedKind.TimestampMicros))
                {
                    // A column there keeps its type (an Int64 made before an upgrade stays epoch units); one made now is the server's best.
                    shared = SqlTypedLayout.Writable(schema, shared.Columns.Select(c => c with
                    {
                        DateTime64 = present.TryGetValue(c.Name, out var type) ? type.Contains("DateTime64", StringComparison.Ordinal) : _dateTime64 == true,
                    }).ToList());
                }
                // A long field writing into the Int32 column an int field made (a promotion): each value must fit.
                var narrow = shared.Columns.Select(c => c.LeafKind == TypedKind.Long && present.TryGetValue(c.Name, out var type) && ClickHouseRows.IsInt32(type)).ToArray();
                _layouts[schema] = new TypedLayout(shared, narrow, _qualifiedTable);
            }
        }
        catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            // HttpClient's timeout: an error like any other (retried), not the caller's cancellation.
            throw new HttpRequestException($"ClickHouse sink '{Name}': no answer within request-timeout ({_options.RequestTimeout.TotalSeconds:0.###}s) while reading the table's columns", e);
        }
        return true;
    }

    /// <summary>Whether the server has DateTime64 (20.1 on): <c>version()</c>'s major number.</summary>
    private async Task<bool> HasDateTime64Async(CancellationToken cancellation)
    {
        var version = (await QueryTextAsync("SELECT version() FORMAT TabSeparated", cancellation).ConfigureAwait(false)).Trim();
        var dot = version.IndexOf('.', StringComparison.Ordinal);
        return int.TryParse(dot > 0 ? version[..dot] : version, NumberStyles.None, CultureInfo.InvariantCulture, out var major) && major >= 20;
    }

    /// <summary>The table's columns and their types (<c>system.columns</c>; none when the table does not exist).</summary>
    private async Task<Dictionary<string, string>> ColumnTypesAsync(CancellationToken cancellation)
    {
        var text = await QueryTextAsync(
            $"SELECT name, type FROM system.columns WHERE database = '{_options.Database}' AND table = '{_options.Table}' FORMAT TabSeparated", cancellation).ConfigureAwait(false);
        var present = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0) present[line[..tab]] = line[(tab + 1)..];
        }
        return present;
    }

    /// <summary>A typed schema's columns (<see cref="SqlTypedLayout"/>) and which are Int32 columns a long field writes into.</summary>
    private sealed record TypedLayout(SqlTypedLayout Shared, bool[] Narrow, string Table)
    {
        /// <summary>Why this record cannot be written: the schema's refusal, or a value ClickHouse would not store as it is.</summary>
        public string? Refusal(TypedValues values)
        {
            if (Shared.Refusal is { } refusal) return refusal;
            var columns = Shared.Columns;
            for (var c = 0; c < columns.Count; c++)
            {
                var column = columns[c];
                var value = values.Values[column.Field];
                if (!value.HasValue) continue;
                if (column.Kind != TypedKind.Array)
                {
                    if (ValueProblem(column, column.Kind, c, value, "") is { } problem) return problem;
                    continue;
                }
                for (var i = 0; i < value.Items!.Length; i++)
                {
                    if (ValueProblem(column, column.Item!.Value, c, value.Items[i], $" item {i}") is { } problem) return problem;
                }
            }
            return null;
        }

        private string? ValueProblem(SqlTypedColumn column, TypedKind kind, int c, TypedValue value, string item)
        {
            // JSONEachRow has no literal for these (our ingress never writes one; another writer may).
            if (kind is TypedKind.Float or TypedKind.Double && !double.IsFinite(value.Real))
                return $"typed field '{column.Name}'{item} is {value.Real.ToString(CultureInfo.InvariantCulture)}, which ClickHouse's JSON input cannot carry";
            // ClickHouse's Date is a UInt16 of days: it would store others wrapped around.
            if (kind == TypedKind.Date && value.Integer is < 0 or > ClickHouseRows.MaxDateDay)
                return $"typed field '{column.Name}'{item} is {value.Text}, outside the dates ClickHouse's Date holds (1970-01-01 to 2149-06-06)";
            // ClickHouse would store it wrapped around (18.16 does, silently).
            if (Narrow[c] && value.Integer is < int.MinValue or > int.MaxValue)
                return $"typed field '{column.Name}'{item} is {value.Integer.ToString(CultureInfo.InvariantCulture)}, beyond the Int32 column {column.Name} of table {Table}; to take such values: ALTER TABLE {Table} MODIFY COLUMN `{column.Name}` " +
                    (column.Kind == TypedKind.Array ? "Array(Int64)" : "Nullable(Int64)");
            return null;
        }
    }

    /// <summary>Nothing to do: an INSERT that answered 200 is written (ClickHouse writes the part before it answers).</summary>
    public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

    public async Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        try
        {
            var failure = await SendAsync("", new StringContent("SELECT 1", Encoding.UTF8), cancellation).ConfigureAwait(false);
            return failure is null
                ? new SinkHealth(true, $"{_options.Url} answers")
                : new SinkHealth(false, $"{_options.Url}: {failure.Value.Message}");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return new SinkHealth(false, $"{_options.Url}: no answer before the health check was cancelled");
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs a statement; throws with the server's message when it fails.</summary>
    private async Task QueryAsync(string sql, CancellationToken cancellation)
    {
        var failure = await SendAsync("", new StringContent(sql, Encoding.UTF8), cancellation).ConfigureAwait(false);
        if (failure is not null) throw new HttpRequestException($"ClickHouse sink '{Name}': {sql[..Math.Min(sql.Length, 80)]}... failed: {failure.Value.Message}");
    }

    /// <summary>Runs a query and returns what it printed; throws with the server's message when it fails.</summary>
    private async Task<string> QueryTextAsync(string sql, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(sql, Encoding.UTF8) };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellation).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new HttpRequestException($"ClickHouse sink '{Name}': {sql[..Math.Min(sql.Length, 80)]}... failed: HTTP {(int)response.StatusCode}: {Shorten(text.Trim())}");
        return text;
    }

    /// <summary>POSTs to the HTTP interface; null when it answered 200, else why not (never throws but for the caller's cancellation).</summary>
    private async Task<Failure?> SendAsync(string pathAndQuery, HttpContent content, CancellationToken cancellation)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = content };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellation).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK) return null;
            var text = (await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false)).Trim();
            var code = ExceptionCode(response.Headers, text);
            var message = $"HTTP {(int)response.StatusCode}{(code is null ? "" : $", code {code}")}: {Shorten(text)}";
            return new Failure(code is { } c && DataErrors.Contains(c), message);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new Failure(false, $"no answer within request-timeout ({_options.RequestTimeout.TotalSeconds:0.###}s)");
        }
        catch (HttpRequestException e)
        {
            return new Failure(false, $"{_options.Url}: {e.Message}");
        }
    }

    // Current servers send X-ClickHouse-Exception-Code; all, 18.x included, start the body with "Code: N".
    private static int? ExceptionCode(HttpResponseHeaders headers, string body)
    {
        if (headers.TryGetValues("X-ClickHouse-Exception-Code", out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var fromHeader))
        {
            return fromHeader;
        }
        var m = CodeInBody().Match(body);
        return m.Success ? int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }

    private static string Shorten(string text)
    {
        text = text.Replace(", e.what() = DB::Exception", "", StringComparison.Ordinal).ReplaceLineEndings(" ");
        return text.Length <= 600 ? text : text[..600] + "...";
    }

    [GeneratedRegex(@"^Code: (\d+)")]
    private static partial Regex CodeInBody();

    private readonly record struct Failure(bool IsDataError, string Message);
}
