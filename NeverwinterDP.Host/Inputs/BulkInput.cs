using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Inputs;

/// <summary>
/// Elasticsearch's <c>_bulk</c> API, so that shippers with an Elasticsearch output (Filebeat, Logstash, Fluent Bit's
/// <c>es</c>, Vector's <c>elasticsearch</c> sink, Elastic's clients) write to a node unchanged: <c>POST|PUT /_bulk</c>
/// and <c>/{index}/_bulk</c>, answered per item in Elasticsearch's shape once every taken document is durable; and the
/// probes they make first: <c>GET /</c> (a version banner), <c>/_license</c>, <c>/_xpack</c>, <c>/_nodes</c>,
/// <c>/_cluster/health</c>, index and component templates and ILM policies (writes acknowledged, reads 404: nothing is
/// kept). Limits, the byte budget, the API-key check and the refusals are <see cref="IngressEndpoint"/>'s.
/// </summary>
public static class BulkInput
{
    public static IEndpointRouteBuilder MapBulkInput(this IEndpointRouteBuilder app, string version)
    {
        app.MapMethods("/_bulk", ["POST", "PUT"], (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, null));
        app.MapMethods("/{index}/_bulk", ["POST", "PUT"], (HttpContext http, IngressEndpoint endpoint, string index) => HandleAsync(http, endpoint, index));
        app.MapMethods("/", ["GET", "HEAD"], (HttpContext http, INodeIdentity node) => Answer(http, 200, w => Banner(w, node.Id, version)));
        app.MapMethods("/_license", ["GET", "HEAD"], (HttpContext http) => Answer(http, 200, License));
        app.MapMethods("/_xpack", ["GET", "HEAD"], (HttpContext http) => Answer(http, 200, XPack));
        app.MapGet("/_cluster/health", (HttpContext http) => Answer(http, 200, Health));
        app.MapGet("/_nodes", (HttpContext http, INodeIdentity node) => Answer(http, 200, w => Nodes(w, http, node.Id, version)));
        app.MapGet("/_nodes/{*filter}", (HttpContext http, INodeIdentity node) => Answer(http, 200, w => Nodes(w, http, node.Id, version)));
        foreach (var kind in new[] { "_index_template", "_template", "_component_template", "_ilm/policy" })
        {
            app.MapMethods($"/{kind}/{{name}}", ["GET", "HEAD"], (HttpContext http, string name) =>
                Answer(http, 404, w => Error(w, 404, "resource_not_found_exception", $"{kind} [{name}] not found: NeverwinterDP keeps no templates or policies", null)));
            app.MapMethods($"/{kind}/{{name}}", ["PUT", "POST"], (HttpContext http) => Answer(http, 200, w =>
            {
                w.WriteStartObject();
                w.WriteBoolean("acknowledged", true);
                w.WriteEndObject();
            }));
        }
        return app;
    }

    private static Task HandleAsync(HttpContext http, IngressEndpoint endpoint, string? index)
    {
        http.Items[BulkDialect.PathIndexItem] = index;
        http.Items[BulkDialect.StartedItem] = Stopwatch.GetTimestamp();
        return IngressTransportErrors.HandleAsync(http, h => endpoint.HandleAsync(h, BulkDialect.Instance));
    }

    /// <summary>Answers as Elasticsearch does: its product header, and the media type the client asked for.</summary>
    internal static async Task Answer(HttpContext http, int status, Action<Utf8JsonWriter> body)
    {
        http.Response.StatusCode = status;
        http.Response.Headers["X-elastic-product"] = "Elasticsearch";
        var accept = http.Request.Headers.Accept.ToString();
        http.Response.ContentType = accept.Contains("vnd.elasticsearch+json", StringComparison.OrdinalIgnoreCase)
            ? "application/vnd.elasticsearch+json;compatible-with=" + CompatibleWith(accept)
            : "application/json";
        if (HttpMethods.IsHead(http.Request.Method)) return;
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        body(writer);
        await writer.FlushAsync();
    }

    private static string CompatibleWith(string accept)
    {
        var at = accept.IndexOf("compatible-with=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return "8";
        var digits = new string(accept[(at + "compatible-with=".Length)..].TakeWhile(char.IsAsciiDigit).ToArray());
        return digits.Length > 0 ? digits : "8";
    }

    internal static void Error(Utf8JsonWriter w, int status, string type, string reason, int? line)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteStartArray("root_cause");
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteString("reason", reason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("type", type);
        w.WriteString("reason", reason);
        if (line is { } l) w.WriteNumber("line", l);
        w.WriteEndObject();
        w.WriteNumber("status", status);
        w.WriteEndObject();
    }

    private static readonly string ClusterUuid = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void Banner(Utf8JsonWriter w, string node, string version)
    {
        w.WriteStartObject();
        w.WriteString("name", node);
        w.WriteString("cluster_name", "nwdp");
        w.WriteString("cluster_uuid", ClusterUuid);
        w.WriteStartObject("version");
        w.WriteString("number", version);
        w.WriteString("build_flavor", "default");
        w.WriteString("build_type", "nwdp");
        w.WriteString("build_hash", "0000000000000000000000000000000000000000");
        w.WriteString("build_date", "2025-01-01T00:00:00.000Z");
        w.WriteBoolean("build_snapshot", false);
        w.WriteString("lucene_version", "9.12.0");
        w.WriteString("minimum_wire_compatibility_version", "7.17.0");
        w.WriteString("minimum_index_compatibility_version", "7.0.0");
        w.WriteEndObject();
        w.WriteString("tagline", "You Know, for Search");
        w.WriteEndObject();
    }

    private static void License(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("license");
        w.WriteString("status", "active");
        w.WriteString("uid", "00000000-0000-0000-0000-000000000000");
        w.WriteString("type", "basic");
        w.WriteString("issue_date", "2025-01-01T00:00:00.000Z");
        w.WriteNumber("issue_date_in_millis", 1_735_689_600_000);
        w.WriteNumber("max_nodes", 1000);
        w.WriteString("issued_to", "nwdp");
        w.WriteString("issuer", "elasticsearch");
        w.WriteNumber("start_date_in_millis", -1);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void XPack(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("license");
        w.WriteString("uid", "00000000-0000-0000-0000-000000000000");
        w.WriteString("type", "basic");
        w.WriteString("mode", "basic");
        w.WriteString("status", "active");
        w.WriteEndObject();
        w.WriteStartObject("features");
        w.WriteStartObject("ilm");
        w.WriteBoolean("available", false);
        w.WriteBoolean("enabled", false);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Health(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("cluster_name", "nwdp");
        w.WriteString("status", "green");
        w.WriteBoolean("timed_out", false);
        w.WriteNumber("number_of_nodes", 1);
        w.WriteNumber("number_of_data_nodes", 1);
        w.WriteNumber("active_primary_shards", 0);
        w.WriteNumber("active_shards", 0);
        w.WriteNumber("relocating_shards", 0);
        w.WriteNumber("initializing_shards", 0);
        w.WriteNumber("unassigned_shards", 0);
        w.WriteEndObject();
    }

    /// <summary>This node alone, at the address the client reached it on (sniffing clients then keep talking to it).</summary>
    private static void Nodes(Utf8JsonWriter w, HttpContext http, string node, string version)
    {
        w.WriteStartObject();
        w.WriteStartObject("_nodes");
        w.WriteNumber("total", 1);
        w.WriteNumber("successful", 1);
        w.WriteNumber("failed", 0);
        w.WriteEndObject();
        w.WriteString("cluster_name", "nwdp");
        w.WriteStartObject("nodes");
        w.WriteStartObject(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(node)))[..22]);
        w.WriteString("name", node);
        w.WriteString("host", http.Request.Host.Host);
        w.WriteString("version", version);
        w.WriteStartArray("roles");
        w.WriteStringValue("data");
        w.WriteStringValue("ingest");
        w.WriteEndArray();
        w.WriteStartObject("http");
        w.WriteString("publish_address", http.Request.Host.Value);
        w.WriteStartArray("bound_address");
        w.WriteStringValue(http.Request.Host.Value);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

/// <summary>A <c>_bulk</c> body in, Elasticsearch's bulk answer (<c>took</c>, <c>errors</c>, <c>items</c>) out.</summary>
public sealed class BulkDialect : IngressDialect
{
    internal const string PathIndexItem = "nwdp.bulk.index";
    internal const string StartedItem = "nwdp.bulk.started";
    private const string ResultItem = "nwdp.bulk.result";

    public static BulkDialect Instance { get; } = new();

    private BulkDialect()
    {
    }

    /// <summary>Any: clients send <c>application/x-ndjson</c>, <c>application/json</c> or Elastic's vendor types.</summary>
    public override string? Unsupported(HttpRequest request) => null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context)
    {
        var result = BulkParser.Parse(body.Span, request.HttpContext.Items[PathIndexItem] as string, context, NewId);
        request.HttpContext.Items[ResultItem] = result;
        return result.Parsed;
    }

    /// <summary>An id of 20 URL-safe characters, as Elasticsearch makes for documents that come without one.</summary>
    private static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', '-').Replace('/', '_');

    public override Task AcceptedAsync(HttpContext http, int count)
    {
        var result = (BulkParser.Result)http.Items[ResultItem]!;
        var took = (long)Stopwatch.GetElapsedTime((long)http.Items[StartedItem]!).TotalMilliseconds;
        return BulkInput.Answer(http, 200, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("took", took);
            w.WriteBoolean("errors", result.Items.Any(i => i.Status >= 300));
            w.WriteStartArray("items");
            long seqNo = 0;
            foreach (var item in result.Items)
            {
                w.WriteStartObject();
                w.WriteStartObject(item.Action);
                w.WriteString("_index", item.Index);
                w.WriteString("_id", item.Id);
                if (item.ErrorType is null)
                {
                    w.WriteNumber("_version", 1);
                    w.WriteString("result", "created");
                    w.WriteStartObject("_shards");
                    w.WriteNumber("total", 1);
                    w.WriteNumber("successful", 1);
                    w.WriteNumber("failed", 0);
                    w.WriteEndObject();
                    w.WriteNumber("_seq_no", seqNo++);
                    w.WriteNumber("_primary_term", 1);
                    w.WriteNumber("status", item.Status);
                }
                else
                {
                    w.WriteNumber("status", item.Status);
                    w.WriteStartObject("error");
                    w.WriteString("type", item.ErrorType);
                    w.WriteString("reason", item.ErrorReason);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Elasticsearch's error shape; 429 and 503 are what its clients retry.</summary>
    public override Task ErrorAsync(HttpContext http, int status, string reason, string message, int? line)
    {
        var type = (status, reason) switch
        {
            (400, "malformed") => message.StartsWith("Validation Failed", StringComparison.Ordinal) ? "action_request_validation_exception" : "illegal_argument_exception",
            (401 or 403, _) => "security_exception",
            (413, _) => "content_too_long_exception",
            (429, _) => "es_rejected_execution_exception",
            (503, _) => "unavailable_shards_exception",
            _ => "illegal_argument_exception",
        };
        var code = http.Response.StatusCode;
        return BulkInput.Answer(http, code, w => BulkInput.Error(w, code, type, message, line));
    }
}
