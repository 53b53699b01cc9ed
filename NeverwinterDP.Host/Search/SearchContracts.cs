namespace NeverwinterDP.Host.Search;

/// <summary>One event found, as the sink stored it.</summary>
/// <param name="Ts">The source timestamp, epoch ms.</param>
/// <param name="Time">The same, RFC 3339 UTC.</param>
public sealed record SearchHit(long Ts, string Time, string Type, string Host, string Process, string Level, string Msg, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// <c>GET /v1/search</c>: newest first; <see cref="Next"/> is the cursor of the next page (null on the last page),
/// <see cref="Backend"/> says who answered (<c>elasticsearch</c> or <c>duckdb</c>) over which <see cref="Sink"/>.
/// </summary>
public sealed record SearchResponse(string Backend, string Sink, IReadOnlyList<SearchHit> Hits, string? Next, long TookMs);

/// <summary>A refused search: the message and the query parameter it is about (null when it is about no parameter).</summary>
public sealed record SearchErrorResponse(string Error, string? Parameter);
