using System.Security.Cryptography;
using System.Text;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Inputs;

/// <summary>
/// Splunk's HTTP Event Collector: <c>POST /services/collector/event</c> (also <c>/services/collector</c> and
/// <c>/services/collector/event/1.0</c>), <c>POST /services/collector/raw</c>, <c>GET /services/collector/health</c>.
/// Requests carry <c>Authorization: Splunk TOKEN</c> (or HTTP Basic with the token as the password), one of
/// <c>nwdp.inputs.hec.tokens</c>; with no tokens configured the routes are not served (404). Answers are HEC's:
/// <c>{"text":"Success","code":0}</c>, and errors <c>{"text":...,"code":N}</c> with HEC's codes.
/// </summary>
public static class HecInput
{
    public static IEndpointRouteBuilder MapHecInput(this IEndpointRouteBuilder app, IReadOnlyList<string> tokens)
    {
        if (tokens.Count == 0) return app;
        var keys = tokens.Select(t => Encoding.UTF8.GetBytes(t)).ToList();
        app.MapPost("/services/collector", (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, keys, HecDialect.Events));
        app.MapPost("/services/collector/event", (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, keys, HecDialect.Events));
        app.MapPost("/services/collector/event/1.0", (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, keys, HecDialect.Events));
        app.MapPost("/services/collector/raw", (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, keys, HecDialect.Raw));
        app.MapPost("/services/collector/raw/1.0", (HttpContext http, IngressEndpoint endpoint) => HandleAsync(http, endpoint, keys, HecDialect.Raw));
        app.MapGet("/services/collector/health", () => Results.Json(new HecAnswer("HEC is healthy", 17), HecJson.Default.HecAnswer));
        app.MapGet("/services/collector/health/1.0", () => Results.Json(new HecAnswer("HEC is healthy", 17), HecJson.Default.HecAnswer));
        return app;
    }

    private static async Task HandleAsync(HttpContext http, IngressEndpoint endpoint, IReadOnlyList<byte[]> keys, HecDialect dialect)
    {
        if (TokenOf(http.Request) is not { } token)
        {
            http.Items[IngressEndpoint.IngressRequestItem] = true;
            http.Items[IngressEndpoint.RefusalReasonItem] = "unauthorized";
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new HecAnswer("Token is required", 2), HecJson.Default.HecAnswer);
            return;
        }
        var given = Encoding.UTF8.GetBytes(token);
        if (!keys.Any(k => CryptographicOperations.FixedTimeEquals(k, given)))
        {
            http.Items[IngressEndpoint.IngressRequestItem] = true;
            http.Items[IngressEndpoint.RefusalReasonItem] = "unauthorized";
            http.Response.StatusCode = 403;
            await http.Response.WriteAsJsonAsync(new HecAnswer("Invalid token", 4), HecJson.Default.HecAnswer);
            return;
        }
        await IngressTransportErrors.HandleAsync(http, h => endpoint.HandleAsync(h, dialect));
    }

    /// <summary><c>Splunk TOKEN</c>, or Basic with the token as the password (HEC takes any user name).</summary>
    private static string? TokenOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Splunk ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim() is { Length: > 0 } t ? t : null;
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = pair.IndexOf(':');
                return colon >= 0 && colon < pair.Length - 1 ? pair[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }
}

/// <summary>HEC's bodies (any Content-Type: its clients send JSON as form data too) and HEC's answers.</summary>
public sealed class HecDialect : IngressDialect
{
    private readonly bool _raw;

    private HecDialect(bool raw) => _raw = raw;

    public static HecDialect Events { get; } = new(raw: false);

    public static HecDialect Raw { get; } = new(raw: true);

    public override string? Unsupported(HttpRequest request) => null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context)
    {
        if (!_raw) return HecParser.ParseEvents(body.Span, context);
        string? Query(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        return HecParser.ParseRaw(body.Span, new HecParser.RawMetadata(Query("host"), Query("source"), Query("sourcetype"), Query("time")), context);
    }

    public override Task AcceptedAsync(HttpContext http, int count) =>
        http.Response.WriteAsJsonAsync(new HecAnswer("Success", 0), HecJson.Default.HecAnswer);

    public override Task ErrorAsync(HttpContext http, int status, string reason, string message, int? line)
    {
        // HEC's codes: 5 no data, 6 invalid data format, 9 server is busy, 12 event field required, 13 event blank.
        var answer = (status, message) switch
        {
            (400, HecParser.Errors.NoData) => new HecAnswer(message, 5),
            (400, HecParser.Errors.EventRequired) => new HecAnswer(message, 12, line - 1),
            (400, HecParser.Errors.EventBlank) => new HecAnswer(message, 13, line - 1),
            (400, _) when reason == "malformed" => new HecAnswer(message, 6, line - 1),
            (429 or 503, _) => new HecAnswer(message, 9),
            _ => new HecAnswer(message, 6),
        };
        return http.Response.WriteAsJsonAsync(answer, HecJson.Default.HecAnswer);
    }
}

/// <summary>HEC's answer; <c>invalid-event-number</c> (0-based, as HEC counts) names the event at fault.</summary>
public sealed record HecAnswer(
    string Text,
    int Code,
    [property: System.Text.Json.Serialization.JsonPropertyName("invalid-event-number")] int? InvalidEventNumber = null);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HecAnswer))]
internal sealed partial class HecJson : System.Text.Json.Serialization.JsonSerializerContext;
