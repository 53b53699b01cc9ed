using System.Diagnostics;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Hive;

namespace NeverwinterDP.Host.Search;

/// <summary>
/// Log search on a node: the backend picked from the node's sinks (<c>nwdp.search.sink</c>, or else the first
/// Elasticsearch sink, else the first Hive sink writing Parquet, else the first files sink writing NDJSON), one
/// search at a time bounded by <see cref="SearchOptions.Timeout"/>, pages joined by <see cref="SearchCursor"/>.
/// </summary>
public sealed class SearchService : IDisposable
{
    private readonly SearchOptions _options;

    public SearchService(SearchOptions options, IEnumerable<SinkSection> sinks)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sinks);
        _options = options;
        (Backend, Unavailable) = Pick(options, sinks.ToList());
    }

    /// <summary>A service over one given backend.</summary>
    public SearchService(SearchOptions options, ISearchBackend backend)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Backend = backend;
    }

    /// <summary>The backend, or null (then <see cref="Unavailable"/> says why).</summary>
    public ISearchBackend? Backend { get; }

    public string? Unavailable { get; }

    public SearchOptions Options => _options;

    /// <exception cref="SearchRequestException">Refused (400).</exception>
    /// <exception cref="SearchBackendException">The backend failed (502), or none is configured.</exception>
    /// <exception cref="TimeoutException">It took longer than <c>nwdp.search.timeout</c> (504).</exception>
    public async Task<SearchResponse> SearchAsync(SearchRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var backend = Backend ?? throw new SearchBackendException(Unavailable!);
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.Timeout);
        IReadOnlyList<BackendRow> rows;
        try
        {
            var window = request.Cursor.Skip + request.Limit;
            rows = await backend.FetchAsync(request, window + 1, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"the search took longer than nwdp.search.timeout ({_options.Timeout.TotalSeconds:0.#} s); narrow type, q or from/to");
        }
        var windowRows = rows.Take(request.Cursor.Skip + request.Limit).ToList();
        var page = windowRows.Skip(request.Cursor.Skip).Select(r => r.Hit).ToList();
        var next = rows.Count > windowRows.Count ? SearchCursor.Next(request.Cursor, windowRows.Select(r => r.Key).ToList()).Encode() : null;
        return new SearchResponse(backend.Name, backend.Sink, page, next, clock.ElapsedMilliseconds);
    }

    public void Dispose() => (Backend as IDisposable)?.Dispose();

    private static (ISearchBackend?, string?) Pick(SearchOptions options, List<SinkSection> sinks)
    {
        if (options.Sink is { } name)
        {
            var chosen = sinks.FirstOrDefault(s => s.Name == name);
            if (chosen is null) return (null, $"nwdp.search.sink = '{name}' is not a sink configured (and enabled) on this node");
            return Create(chosen, options) is { } backend ? (backend, null)
                : (null, $"sink '{name}' (kind {chosen.Kind}) cannot be searched: search reads elasticsearch, hive with format = parquet, or files with format = ndjson");
        }
        foreach (var kind in (string[])["elasticsearch", "hive", "files"])
            foreach (var section in sinks.Where(s => s.Kind.Equals(kind, StringComparison.OrdinalIgnoreCase)))
                if (Create(section, options) is { } backend) return (backend, null);
        return (null, "no sink on this node can be searched: configure an elasticsearch sink, a hive sink (format = parquet) or a files sink (format = ndjson), or name one in nwdp.search.sink");
    }

    private static ISearchBackend? Create(SinkSection section, SearchOptions options)
    {
        switch (section.Kind.ToLowerInvariant())
        {
            case "elasticsearch":
                return new ElasticsearchSearch(section.Name, ElasticsearchSinkOptions.FromSection(section), options.Timeout);
            case "hive":
                var hive = HiveSinkOptions.FromSection(section);
                return hive.Format == HiveFormat.Parquet ? new DuckDbSearch(section.Name, PartTree.HiveParquet, Path.GetFullPath(hive.Directory), options) : null;
            case "files":
                var files = FilesSinkOptions.FromSection(section);
                return files.Format == FilesFormat.Ndjson ? new DuckDbSearch(section.Name, PartTree.FilesNdjson, Path.GetFullPath(files.Directory), options) : null;
            default:
                return null;
        }
    }
}
