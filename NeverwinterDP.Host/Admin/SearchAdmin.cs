using NeverwinterDP.Host.Search;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/search?type=T&amp;q=...&amp;from=&amp;to=&amp;limit=&amp;cursor=</c>: events of a sink, newest first (what
/// <c>nwdp search</c> shows; docs/search.md). 400 names the parameter refused; 502 when the store failed or none can be
/// searched; 504 after <c>nwdp.search.timeout</c>.
/// </summary>
public static class SearchAdmin
{
    public static async Task<IResult> SearchAsync(HttpRequest request, SearchService search, TimeProvider clock, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(search);
        try
        {
            var parsed = SearchRequest.Parse(name => request.Query.TryGetValue(name, out var v) ? v.ToString() : null, search.Options, clock.GetUtcNow());
            return AdminApi.Json(await search.SearchAsync(parsed, cancellation), AdminJson.Default.SearchResponse);
        }
        catch (SearchRequestException e)
        {
            return Results.Json(new SearchErrorResponse(e.Message, e.Parameter), AdminJson.Default.SearchErrorResponse, statusCode: 400);
        }
        catch (SearchBackendException e)
        {
            return Results.Json(new SearchErrorResponse(e.Message, null), AdminJson.Default.SearchErrorResponse, statusCode: 502);
        }
        catch (TimeoutException e)
        {
            return Results.Json(new SearchErrorResponse(e.Message, null), AdminJson.Default.SearchErrorResponse, statusCode: 504);
        }
    }
}
