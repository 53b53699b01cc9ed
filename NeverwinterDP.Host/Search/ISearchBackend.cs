namespace NeverwinterDP.Host.Search;

/// <summary>One hit as a backend read it, with its sort key (ts, system_ts, seq; all descending).</summary>
public sealed record BackendRow(SearchHit Hit, long[] Key);

/// <summary>Where searches go: the Elasticsearch sink's cluster, or the files/hive sink's tree read by DuckDB.</summary>
public interface ISearchBackend
{
    /// <summary><c>elasticsearch</c> or <c>duckdb</c>.</summary>
    string Name { get; }

    /// <summary>The sink instance searched.</summary>
    string Sink { get; }

    /// <summary>
    /// The first <paramref name="count"/> events matching <paramref name="request"/> whose sort key is below the cursor's
    /// (all of them without one), newest first, in an order that is the same on every call.
    /// </summary>
    /// <exception cref="SearchRequestException">The request cannot run here (naming the parameter).</exception>
    Task<IReadOnlyList<BackendRow>> FetchAsync(SearchRequest request, int count, CancellationToken cancellation);
}
