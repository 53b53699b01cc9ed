using NeverwinterDP.Host.Http;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Inputs;

/// <summary>
/// <c>POST /v1/fluent-bit</c>: Fluent Bit's <c>http</c> output in every format it has (<c>msgpack</c>, <c>json</c>,
/// <c>json_lines</c>, <c>json_stream</c>). It is <c>/v1/events</c> with one difference: <c>application/json</c>
/// may hold several JSON values one after another, which <c>json_stream</c> sends under that Content-Type and
/// <c>/v1/events</c> refuses. Limits, the byte budget, the answers and their guarantee are <see cref="IngressEndpoint"/>'s.
/// </summary>
public static class FluentBitInput
{
    public const string Path = "/v1/fluent-bit";

    private static readonly EventsDialect Dialect = new(ContentKinds.FromFluentBitContentType);

    public static IEndpointRouteBuilder MapFluentBitInput(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, (HttpContext http, IngressEndpoint endpoint) =>
            IngressTransportErrors.HandleAsync(http, h => endpoint.HandleAsync(h, Dialect)));
        return app;
    }
}
