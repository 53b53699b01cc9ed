using Google.Protobuf;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Inputs;

/// <summary>
/// OpenTelemetry logs over OTLP/HTTP: <c>POST /v1/logs</c>, an <c>ExportLogsServiceRequest</c> in protobuf
/// (<c>application/x-protobuf</c>) or OTLP's JSON mapping (<c>application/json</c>), gzip or plain. Answered with an
/// <c>ExportLogsServiceResponse</c> in the request's content type once every accepted record is durable; records that
/// cannot become events are counted in its <c>partial_success</c>. Limits, the byte budget, the API-key check and
/// the refusals are <see cref="IngressEndpoint"/>'s; a malformed body is refused whole with 400 and a JSON <c>error</c>.
/// </summary>
public static class OtlpInput
{
    public const string Path = "/v1/logs";

    public static IEndpointRouteBuilder MapOtlpInput(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, (HttpContext http, IngressEndpoint endpoint) =>
            IngressTransportErrors.HandleAsync(http, h => endpoint.HandleAsync(h, OtlpDialect.Instance)));
        return app;
    }
}

/// <summary>OTLP/HTTP logs: protobuf or JSON in, the same out.</summary>
public sealed class OtlpDialect : IngressDialect
{
    private const string ProtobufType = "application/x-protobuf";
    private const string JsonType = "application/json";
    private const string RejectedItem = "nwdp.otlp.rejected";

    public static OtlpDialect Instance { get; } = new();

    private OtlpDialect()
    {
    }

    private static bool? IsJson(string? contentType)
    {
        var media = contentType?.Split(';')[0].Trim();
        if (string.Equals(media, ProtobufType, StringComparison.OrdinalIgnoreCase) || string.Equals(media, "application/protobuf", StringComparison.OrdinalIgnoreCase)) return false;
        if (string.Equals(media, JsonType, StringComparison.OrdinalIgnoreCase)) return true;
        return null;
    }

    public override string? Unsupported(HttpRequest request) =>
        IsJson(request.ContentType) is null ? $"unsupported Content-Type '{request.ContentType}': OTLP/HTTP takes {ProtobufType} or {JsonType}" : null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context)
    {
        var result = IsJson(request.ContentType) == true ? OtlpLogsParser.ParseJson(body.Span, context) : OtlpLogsParser.ParseProtobuf(body.Span, context);
        if (result.Rejected > 0) request.HttpContext.Items[RejectedItem] = result;
        return result.Parsed;
    }

    public override async Task AcceptedAsync(HttpContext http, int count)
    {
        var rejected = http.Items[RejectedItem] as OtlpLogsParser.Result;
        var response = OtlpLogsParser.Response(rejected?.Rejected ?? 0, rejected?.RejectedMessage);
        if (IsJson(http.Request.ContentType) == true)
        {
            http.Response.ContentType = JsonType;
            await http.Response.WriteAsync(OtlpLogsParser.ToJson(response));
        }
        else
        {
            http.Response.ContentType = ProtobufType;
            await http.Response.Body.WriteAsync(response.ToByteArray());
        }
    }

    /// <summary>The node's JSON error (<c>{"error":...}</c>) whatever the request's content type: OTLP clients log the body of a refusal.</summary>
    public override Task ErrorAsync(HttpContext http, int status, string reason, string message, int? line) =>
        http.Response.WriteAsJsonAsync(new ErrorBody(message, null), IngressJson.Default.ErrorBody);
}
