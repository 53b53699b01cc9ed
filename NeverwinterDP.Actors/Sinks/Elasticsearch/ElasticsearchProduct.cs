using System.Net;
using System.Text.Json;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>What answered <c>GET /</c>.</summary>
internal enum ProductKind
{
    /// <summary>Elasticsearch 7 or later.</summary>
    Elasticsearch,

    /// <summary>OpenSearch (any version: all speak the Elasticsearch 7 _bulk protocol).</summary>
    OpenSearch,

    /// <summary>The server answered, but it cannot be told yet (401/403 without a product header): checked again later.</summary>
    Unverified,

    /// <summary>Something else (a proxy's error page, another HTTP server): never written to.</summary>
    Refused,
}

internal sealed record ProductCheck(ProductKind Kind, string Detail)
{
    public bool IsUsable => Kind is ProductKind.Elasticsearch or ProductKind.OpenSearch;
}

/// <summary>
/// The product check the official clients make, so a wrong URL fails loudly instead of "delivering" to a server
/// that answers 200 to anything. Elasticsearch 7.14 and later send <c>X-Elastic-Product: Elasticsearch</c> on
/// every response; 7.0-7.13 are known by their version and tagline; OpenSearch sends no
/// header and says <c>version.distribution: opensearch</c>. Elasticsearch 6 and older are refused (they need
/// mapping types in _bulk).
/// </summary>
internal static class ElasticsearchProduct
{
    public const string ProductHeader = "X-Elastic-Product";

    private const string Tagline = "You Know, for Search";

    public static ProductCheck Identify(Uri url, HttpStatusCode status, string? productHeader, ReadOnlySpan<byte> body)
    {
        var headerSaysElasticsearch = productHeader == "Elasticsearch";
        if ((int)status is 401 or 403)
        {
            return headerSaysElasticsearch
                ? new ProductCheck(ProductKind.Elasticsearch, $"Elasticsearch at {url} (GET / answered {(int)status}: check username/password or api-key)")
                : new ProductCheck(ProductKind.Unverified, $"{url} answered GET / with {(int)status} {status}: check username/password or api-key");
        }
        if ((int)status is < 200 or > 299)
            return new ProductCheck(ProductKind.Unverified, $"{url} answered GET / with {(int)status} {status}");

        string? number = null, distribution = null, flavor = null, tagline = null;
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                tagline = Text(root, "tagline");
                if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Object)
                {
                    number = Text(version, "number");
                    distribution = Text(version, "distribution");
                    flavor = Text(version, "build_flavor");
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: not a search server; decided below.
        }

        var (major, minor) = ParseVersion(number);
        if (headerSaysElasticsearch)
        {
            return major is > 0 and < 7
                ? new ProductCheck(ProductKind.Refused, $"{url} is Elasticsearch {number}: version 7 or later is required")
                : new ProductCheck(ProductKind.Elasticsearch, $"Elasticsearch {number ?? "(version unknown)"} at {url}");
        }
        if (string.Equals(distribution, "opensearch", StringComparison.OrdinalIgnoreCase))
            return new ProductCheck(ProductKind.OpenSearch, $"OpenSearch {number} at {url}");
        if (major == 7 && minor < 14 && tagline == Tagline)
            return new ProductCheck(ProductKind.Elasticsearch, $"Elasticsearch {number} ({flavor ?? "default"}) at {url}");
        if (major >= 7 && tagline == Tagline)
        {
            return new ProductCheck(ProductKind.Refused,
                $"{url} claims to be Elasticsearch {number} but sends no {ProductHeader} header (every Elasticsearch since 7.14 does): not a supported Elasticsearch, or a proxy that strips the header");
        }
        if (major is > 0 and < 7 && tagline == Tagline)
            return new ProductCheck(ProductKind.Refused, $"{url} is Elasticsearch {number}: version 7 or later is required");
        return new ProductCheck(ProductKind.Refused,
            $"{url} is neither Elasticsearch nor OpenSearch: GET / answered {(int)status} without an {ProductHeader}: Elasticsearch header and without version.distribution = opensearch; check urls");
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static (int Major, int Minor) ParseVersion(string? number)
    {
        if (number is null) return (0, 0);
        var parts = number.Split('.', '-');
        var major = parts.Length > 0 && int.TryParse(parts[0], out var m) ? m : 0;
        var minor = parts.Length > 1 && int.TryParse(parts[1], out var n) ? n : 0;
        return (major, minor);
    }
}
