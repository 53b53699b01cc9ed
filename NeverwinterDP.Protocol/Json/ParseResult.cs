using System.Diagnostics.CodeAnalysis;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The outcome of parsing one request body: every event, or the first error and where it is. Never both: a
/// request is accepted whole or not at all.
/// </summary>
public sealed class ParseResult
{
    private static readonly IReadOnlyList<LogEvent> None = [];

    private ParseResult(IReadOnlyList<LogEvent> events, string? error, int line)
    {
        Events = events;
        Error = error;
        Line = line;
    }

    /// <summary>The events in body order; empty when the request failed.</summary>
    public IReadOnlyList<LogEvent> Events { get; }

    /// <summary>
    /// What is wrong, naming the field, e.g. <c>field 'ts' must be a number or an RFC 3339 string</c>;
    /// null on success. Goes into the 400 answer as <c>error</c>.
    /// </summary>
    public string? Error { get; }

    /// <summary>
    /// Where the error is, 1-based; 0 on success. Goes into the 400 answer as <c>line</c>. For NDJSON it is the
    /// line number in the body (blank lines count). For JSON it is the ordinal of the event object: the
    /// position in the array (the first object is 1), or 1 for a single object.
    /// </summary>
    public int Line { get; }

    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public static ParseResult Success(IReadOnlyList<LogEvent> events) => new(events, null, 0);

    public static ParseResult Failure(int line, string error) => new(None, error, line);

    /// <summary>A failure answered with another status than 400 and counted under its own reason (e.g. 422 for a schema the body names).</summary>
    public static ParseResult Failure(int line, string error, int status, string reason) => new(None, error, line) { Status = status, Reason = reason };

    /// <summary>The HTTP status of a failure: 400 unless the input said otherwise.</summary>
    public int Status { get; private init; } = 400;

    /// <summary>The refusal's reason label on /metrics: <c>malformed</c> unless the input said otherwise.</summary>
    public string Reason { get; private init; } = "malformed";

    public override string ToString() =>
        IsSuccess ? $"{Events.Count} events" : $"line {Line}: {Error}";
}
