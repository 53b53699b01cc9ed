using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Search;

/// <summary>The tree a <see cref="DuckDbSearch"/> reads.</summary>
public enum PartTree
{
    /// <summary>The files sink (<c>format = ndjson</c>): <c>&lt;root&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/*.ndjson</c>.</summary>
    FilesNdjson,

    /// <summary>The Hive sink (<c>format = parquet</c>): <c>&lt;root&gt;/&lt;table&gt;/type=T/dt=yyyy-MM-dd/hour=HH/*.parquet</c>.</summary>
    HiveParquet,
}

/// <summary>
/// Searches the published part files of the files or Hive sink on this node with DuckDB (in memory, one connection
/// per search). The directories are pruned first, by type (the topic <c>nwdp.logs.TYPE</c>, or Hive's
/// <c>type=</c>) and by hour (the ingress hour of the directory, widened by <see cref="SearchOptions.TsSlack"/>,
/// since from/to bound the event's own ts); only the files left are handed to DuckDB.
/// </summary>
public sealed class DuckDbSearch(string sink, PartTree tree, string root, SearchOptions options) : ISearchBackend
{
    public string Name => "duckdb";

    public string Sink { get; } = sink;

    public string Root { get; } = root;

    public PartTree Tree { get; } = tree;

    public async Task<IReadOnlyList<BackendRow>> FetchAsync(SearchRequest request, int count, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var files = Files(request);
        if (files.Count == 0) return [];
        if (files.Count > options.MaxFiles)
            throw new SearchRequestException(request.FromMs is null ? "from" : "type",
                $"this search would read {files.Count} files of sink '{Sink}', more than nwdp.search.max-files ({options.MaxFiles}); narrow type or from/to");
        return await Task.Run(() => Query(request, files, count, cancellation), cancellation).ConfigureAwait(false);
    }

    /// <summary>The published files the request may find events in, after pruning by type and hour.</summary>
    public List<string> Files(SearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var files = new List<string>();
        if (!Directory.Exists(Root)) return files;
        var slack = (long)options.TsSlack.TotalMilliseconds;
        bool HourKept(DateTime hour)
        {
            var start = new DateTimeOffset(hour, TimeSpan.Zero).ToUnixTimeMilliseconds();
            return (request.ToMs is not { } to || start - slack < to) && (request.FromMs is not { } from || start + 3_600_000 + slack > from);
        }
        if (Tree == PartTree.FilesNdjson)
        {
            foreach (var topic in Subdirectories(Root))
            {
                var name = Path.GetFileName(topic);
                // nwdp.logs.TYPE holds one type; other topics (custom routing) may hold any and are filtered by column.
                if (name.StartsWith(TopicNames.LogsPrefix, StringComparison.Ordinal) && !request.TypeMatches(name[TopicNames.LogsPrefix.Length..])) continue;
                foreach (var year in Subdirectories(topic))
                foreach (var month in Subdirectories(year))
                foreach (var day in Subdirectories(month))
                foreach (var hour in Subdirectories(day))
                {
                    if (!TryHour(Path.GetFileName(year), Path.GetFileName(month), Path.GetFileName(day), Path.GetFileName(hour), out var at) || !HourKept(at)) continue;
                    files.AddRange(Published(hour, ".ndjson"));
                }
            }
        }
        else
        {
            foreach (var table in Subdirectories(Root))
            foreach (var type in Subdirectories(table, "type=*"))
            {
                if (!request.TypeMatches(Path.GetFileName(type)["type=".Length..])) continue;
                foreach (var dt in Subdirectories(type, "dt=*"))
                foreach (var hour in Subdirectories(dt, "hour=*"))
                {
                    var d = Path.GetFileName(dt)["dt=".Length..];
                    if (d.Length != 10 || !TryHour(d[..4], d[5..7], d[8..], Path.GetFileName(hour)["hour=".Length..], out var at) || !HourKept(at)) continue;
                    files.AddRange(Published(hour, ".parquet"));
                }
            }
        }
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    private IReadOnlyList<BackendRow> Query(SearchRequest request, List<string> files, int count, CancellationToken cancellation)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            // Bounded like every search: memory, threads, and no reaching out (no extension downloads, no network files).
            setup.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"SET memory_limit = '{options.DuckDbMemoryLimit}B'; SET threads = {options.DuckDbThreads}; SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;");
            setup.ExecuteNonQuery();
        }
        using var command = connection.CreateCommand();
        var parameters = new List<object>();
        var where = new List<string>();
        if (request.TypeGlob != "*")
        {
            where.Add("lower(type) GLOB ?");
            parameters.Add(request.TypeGlob.ToLowerInvariant());
        }
        if (request.FromMs is { } from)
        {
            where.Add("ts >= ?");
            parameters.Add(from);
        }
        if (request.ToMs is { } to)
        {
            where.Add("ts < ?");
            parameters.Add(to);
        }
        if (request.Cursor.After is [var ts, var systemTs, var seq])
        {
            where.Add("(ts < ? OR (ts = ? AND (system_ts < ? OR (system_ts = ? AND seq < ?))))");
            parameters.AddRange([ts, ts, systemTs, systemTs, seq]);
        }
        where.Add(DuckDbSql.Condition(request.Query, parameters));
        command.CommandText =
            $"SELECT ts, system_ts, seq, type, host, process, level, msg, to_json(attributes)::VARCHAR FROM ({Source(files, TypedColumns(connection, files))}) WHERE {string.Join(" AND ", where)} " +
            "ORDER BY ts DESC, system_ts DESC, seq DESC, node, host, process, type, msg LIMIT ?";
        parameters.Add((long)count);
        foreach (var p in parameters) command.Parameters.Add(new DuckDBParameter(p));
        using var registration = cancellation.Register(() =>
        {
            try
            {
                command.Cancel();
            }
            catch (Exception)
            {
                // Best effort: the query ends anyway when the connection is disposed.
            }
        });
        var rows = new List<BackendRow>();
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var key = new[] { reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2) };
                var attributes = reader.IsDBNull(8) ? new Dictionary<string, string>() : Attributes(reader.GetString(8));
                rows.Add(new BackendRow(new SearchHit(key[0], SearchRequest.Rfc3339(key[0]), Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), Text(reader, 7), attributes), key));
            }
        }
        catch (Exception e) when (cancellation.IsCancellationRequested && e is not OperationCanceledException)
        {
            throw new OperationCanceledException("the search was interrupted", e, cancellation);
        }
        catch (System.Data.Common.DbException e)
        {
            // A file DuckDB cannot read (damaged, or not what the sink writes): the store's fault, not the request's.
            throw new SearchBackendException($"DuckDB could not search sink '{Sink}' under {Root}: {e.Message}", e);
        }
        cancellation.ThrowIfCancellationRequested();
        return rows;
    }

    /// <summary>
    /// The files as one relation of (ts, system_ts, seq, node, type, host, process, level, msg, ip, version, attributes);
    /// the paths are ours (found under the sink's root, checked for glob characters), quoted as SQL strings.
    /// </summary>
    private string Source(List<string> files, List<string> typed)
    {
        var list = "[" + string.Join(", ", files.Select(Literal)) + "]";
        // The Hive sink's typed columns (typed log types) go back into attributes as text, so hits show them and
        // attributes.KEY clauses match them; a key an untyped row of the type has in its map wins over the null column.
        var attributes = typed.Count == 0
            ? "attributes"
            : $"map_concat(map([{string.Join(", ", typed.Select(Literal))}], [{string.Join(", ", typed.Select(c => $"CAST({Identifier(c)} AS VARCHAR)"))}]), attributes) AS attributes";
        return Tree == PartTree.FilesNdjson
            ? $"SELECT ts, system_ts, lineage.seq AS seq, lineage.node AS node, type, host, process, level, msg, ip, version, attributes FROM read_json({list}, format = 'newline_delimited', " +
              "columns = {ts: 'BIGINT', system_ts: 'BIGINT', host: 'VARCHAR', ip: 'VARCHAR', process: 'VARCHAR', type: 'VARCHAR', version: 'VARCHAR', level: 'VARCHAR', msg: 'VARCHAR', " +
              "attributes: 'MAP(VARCHAR, VARCHAR)', lineage: 'STRUCT(node VARCHAR, seq BIGINT)'})"
            : $"SELECT epoch_ms(ts) AS ts, epoch_ms(system_ts) AS system_ts, lineage_source_seq AS seq, lineage_ingress_node AS node, type, host, process, level, message AS msg, ip, version, {attributes} " +
              $"FROM {ReadParquet(files)}";
    }

    // The Hive sink's files as DuckDB reads them: partition columns from the paths, kept as text; columns by name.
    private static string ReadParquet(List<string> files) =>
        $"read_parquet([{string.Join(", ", files.Select(Literal))}], hive_partitioning = true, hive_types_autocast = false, union_by_name = true)";

    /// <summary>
    /// The columns of the Hive sink's files beyond the fixed and partition ones: the typed columns of typed log types
    /// (docs/sinks/hive.md). Read from the files' footers, as the search reads them.
    /// </summary>
    private List<string> TypedColumns(DuckDBConnection connection, List<string> files)
    {
        if (Tree != PartTree.HiveParquet) return [];
        using var describe = connection.CreateCommand();
        describe.CommandText = $"DESCRIBE SELECT * FROM {ReadParquet(files)}";
        var typed = new List<string>();
        try
        {
            using var reader = describe.ExecuteReader();
            while (reader.Read())
            {
                var name = reader.GetString(0);
                if (!NeverwinterDP.Actors.Sinks.Formats.LogEventParquet.HiveTableColumns.Contains(name)) typed.Add(name);
            }
        }
        catch (System.Data.Common.DbException e)
        {
            throw new SearchBackendException($"DuckDB could not search sink '{Sink}' under {Root}: {e.Message}", e);
        }
        return typed;
    }

    private static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Text(DuckDBDataReader reader, int i) => reader.IsDBNull(i) ? "" : reader.GetString(i);

    private static Dictionary<string, string> Attributes(string json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object) return result;
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null) continue; // a typed column without a value in this row
            result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }
        return result;
    }

    private static IEnumerable<string> Subdirectories(string directory, string pattern = "*") =>
        Directory.EnumerateDirectories(directory, pattern).Where(d => !Path.GetFileName(d).StartsWith('.'));

    /// <summary>Published files only (a part file is written under a dotted temporary name and renamed when complete); none whose path DuckDB would read as a glob.</summary>
    private static IEnumerable<string> Published(string directory, string extension) =>
        Directory.EnumerateFiles(directory, "*" + extension)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && f.IndexOfAny(['*', '?', '[', ']', '{', '}']) < 0);

    private static bool TryHour(string year, string month, string day, string hour, out DateTime at)
    {
        at = default;
        if (year.Length != 4 || month.Length != 2 || day.Length != 2 || hour.Length != 2) return false;
        return DateTime.TryParseExact($"{year}-{month}-{day}T{hour}", "yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out at);
    }
}
