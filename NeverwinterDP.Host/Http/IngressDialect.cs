using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// What one input protocol served by <see cref="IngressEndpoint"/> decides for itself: which Content-Types it
/// reads, how a body becomes events, and the shape of its answers. Everything else (limits, gzip, the byte
/// budget, handing the events to the bus and answering only when they are durable) is the endpoint's.
/// </summary>
public abstract class IngressDialect
{
    /// <summary>Null when this dialect reads the request's Content-Type; else the 415 answer's text.</summary>
    public abstract string? Unsupported(HttpRequest request);

    /// <summary>The whole body (gunzipped) as events, or the first error and where it is.</summary>
    public abstract ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context);

    /// <summary>Where the event at <paramref name="index"/> is, counted as <see cref="ParseResult.Line"/> counts.</summary>
    public virtual int LineOf(HttpRequest request, ReadOnlySpan<byte> body, int index) => index + 1;

    /// <summary>The 200 answer once <paramref name="count"/> events are durable.</summary>
    public virtual Task AcceptedAsync(HttpContext http, int count) =>
        http.Response.WriteAsJsonAsync(new AcceptedBody(count), IngressJson.Default.AcceptedBody);

    /// <summary>
    /// The body of a refusal; the status and Retry-After are set already. <paramref name="reason"/> is the
    /// refusal's label on /metrics; <paramref name="line"/> where one event or line is at fault.
    /// </summary>
    public virtual Task ErrorAsync(HttpContext http, int status, string reason, string message, int? line) =>
        http.Response.WriteAsJsonAsync(new ErrorBody(message, line), IngressJson.Default.ErrorBody);

    /// <summary>
    /// The 400 body for an event whose typed attribute does not fit its log type's schema (the status is set already);
    /// by default the dialect's own error body.
    /// </summary>
    public virtual Task TypedFieldErrorAsync(HttpContext http, NeverwinterDP.Protocol.TypedFieldProblem problem, int line) =>
        ErrorAsync(http, 400, "invalid_typed_field", problem.Message, line);
}

/// <summary><c>/v1/events</c>' own protocol: NDJSON, JSON or Fluent Bit msgpack, told by the Content-Type.</summary>
public sealed class EventsDialect(Func<string?, ContentKind?> contentKinds) : IngressDialect
{
    public static EventsDialect Default { get; } = new(ContentKinds.FromContentType);

    public override string? Unsupported(HttpRequest request) =>
        contentKinds(request.ContentType) is null ? $"unsupported Content-Type '{request.ContentType}': use {ContentKinds.Supported}" : null;

    public override ParseResult Parse(HttpRequest request, ReadOnlyMemory<byte> body, IngressContext context) =>
        EventParser.Parse(body, contentKinds(request.ContentType)!.Value, context);

    /// <summary>For NDJSON the event's line in the body (blank lines count, hold no event); otherwise its ordinal.</summary>
    public override int LineOf(HttpRequest request, ReadOnlySpan<byte> body, int index)
    {
        return contentKinds(request.ContentType) == ContentKind.Ndjson ? EventParser.NdjsonLineOf(body, index) : index + 1;
    }

    /// <summary><c>{"error": "...", "line": 3, "field": "status", "expected": "int"}</c>.</summary>
    public override Task TypedFieldErrorAsync(HttpContext http, NeverwinterDP.Protocol.TypedFieldProblem problem, int line) =>
        http.Response.WriteAsJsonAsync(new ErrorBody(problem.Message, line) { Field = problem.Field, Expected = problem.Expected, Element = problem.Element }, IngressJson.Default.ErrorBody);
}
