using System.Text.Json;

namespace NeverwinterDP.Host.Cli;

/// <summary>A node is not reachable (or answered with an error): the verb prints the one-line message and exits 1.</summary>
public sealed class NodeUnreachableException(string message) : Exception(message);

/// <summary>
/// The HTTP client of <c>nwdp stats</c> and <c>nwdp audit</c>: GETs a JSON document from a node's stats API.
/// (To be folded into the shared admin client.)
/// </summary>
public static class StatsClient
{
    public const string DefaultNode = "127.0.0.1:8080";

    /// <summary><c>HOST:PORT</c> or a URL, as a base URI.</summary>
    /// <exception cref="CliUsageException">Not HOST:PORT.</exception>
    public static Uri NodeUri(string? node)
    {
        node ??= DefaultNode;
        var text = node.Contains("://", StringComparison.Ordinal) ? node : "http://" + node;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || (!node.Contains("://", StringComparison.Ordinal) && uri.IsDefaultPort && !node.EndsWith(":80", StringComparison.Ordinal)))
            throw new CliUsageException($"flag '--node' must be HOST:PORT (or a URL), got '{node}'");
        return uri;
    }

    /// <exception cref="NodeUnreachableException">The node did not answer, or answered with an error.</exception>
    public static async Task<(JsonDocument Json, string Raw)> GetAsync(Uri node, string pathAndQuery, CancellationToken cancellation)
    {
        using var http = new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(30) };
        HttpResponseMessage response;
        string body;
        try
        {
            response = await http.GetAsync(pathAndQuery, cancellation);
            body = await response.Content.ReadAsStringAsync(cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
        {
            throw new NodeUnreachableException($"cannot reach node {node.Authority}: {e.GetBaseException().Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new NodeUnreachableException($"node {node.Authority} answered {(int)response.StatusCode} to {pathAndQuery}: {Trim(body)}");
            try
            {
                return (JsonDocument.Parse(body), body);
            }
            catch (JsonException)
            {
                throw new NodeUnreachableException($"node {node.Authority} answered {pathAndQuery} with something that is not JSON: {Trim(body)}");
            }
        }
    }

    private static string Trim(string s)
    {
        s = s.ReplaceLineEndings(" ").Trim();
        return s.Length > 200 ? s[..200] + "..." : s;
    }
}
