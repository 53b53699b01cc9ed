using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The ZeroMQ transport's wire format (docs/inputs.md#zeromq), the same for the node's ROUTER and the client's
/// DEALER; no socket code here, so both sides and the tests share it.
/// <code>
/// request (DEALER -> ROUTER):  [empty] [request-id] [format] [payload]
/// answer  (ROUTER -> DEALER):  [empty] [request-id] [status] [body]
/// </code>
/// The ROUTER sees the sender's routing identity in front of these frames and puts it in front of the answer.
/// <list type="bullet">
/// <item><c>request-id</c>: 1 to <see cref="MaxRequestIdBytes"/> opaque bytes, unique per batch (a resend keeps its
/// id: the node answers a batch it already made durable again without taking it twice).</item>
/// <item><c>format</c>: ASCII <c>ndjson</c>, <c>json</c> or <c>msgpack</c> (Fluent Bit's MessagePack), as on
/// <c>/v1/events</c>; optionally <c>;type=NAME</c>, the log type of events that give none (<c>?type=</c>).</item>
/// <item><c>payload</c>: the batch, parsed whole by the same parser as <c>/v1/events</c>.</item>
/// <item><c>status</c>: ASCII, HTTP's code for the same outcome on <c>/v1/events</c>: 200 durable; 400 malformed;
/// 413 too large; 415 unknown format; 429 overloaded (resend after <c>retryAfterMs</c>); 503 bus failed or node stopping
/// (resend after <c>retryAfterMs</c>).</item>
/// <item><c>body</c>: UTF-8 JSON, <c>{"accepted":N}</c> or <c>{"error":"...","reason":"...","line":N,"retryAfterMs":N}</c>.</item>
/// </list>
/// </summary>
public static class ZeroMqWire
{
    /// <summary>The longest request id; a client's is 24 bytes (a random session id and a counter).</summary>
    public const int MaxRequestIdBytes = 64;

    /// <summary>The format frame's values (before an optional <c>;type=NAME</c>).</summary>
    public const string Ndjson = "ndjson", Json = "json", MessagePack = "msgpack";

    /// <summary>
    /// Reads a request's frames after the empty delimiter. False with the reason (and the request id when it could be
    /// read, so that the refusal can be answered) when the frames are not a request.
    /// </summary>
    public static bool TryReadRequest(IReadOnlyList<ReadOnlyMemory<byte>> frames, out ZeroMqRequest request, out byte[]? requestId, out string? error)
    {
        ArgumentNullException.ThrowIfNull(frames);
        request = default;
        requestId = frames.Count > 0 && frames[0].Length is > 0 and <= MaxRequestIdBytes ? frames[0].ToArray() : null;
        if (requestId is null)
        {
            error = frames.Count == 0 ? "no frames after the empty delimiter" : $"the request id frame must hold 1 to {MaxRequestIdBytes} bytes; it holds {frames[0].Length}";
            return false;
        }
        if (frames.Count != 3)
        {
            error = $"a request is [request-id][format][payload] after the empty delimiter: 3 frames; got {frames.Count}";
            return false;
        }
        if (!TryReadFormat(frames[1].Span, out var kind, out var type, out error)) return false;
        request = new ZeroMqRequest(requestId, kind, type, frames[2]);
        return true;
    }

    /// <summary><c>ndjson</c>, <c>json</c> or <c>msgpack</c>, then optionally <c>;type=NAME</c>; the 415 answer's text otherwise.</summary>
    public static bool TryReadFormat(ReadOnlySpan<byte> frame, out ContentKind kind, out string? type, out string? error)
    {
        kind = default;
        type = null;
        error = null;
        var text = Encoding.UTF8.GetString(frame).Trim();
        var semicolon = text.IndexOf(';', StringComparison.Ordinal);
        var name = (semicolon < 0 ? text : text[..semicolon]).Trim();
        if (semicolon >= 0)
        {
            var parameter = text[(semicolon + 1)..].Trim();
            if (!parameter.StartsWith("type=", StringComparison.OrdinalIgnoreCase) || parameter.Length == 5)
            {
                error = $"unknown format parameter '{parameter}': the one parameter is ';type=NAME'";
                return false;
            }
            type = parameter[5..];
        }
        ContentKind? known = name.ToLowerInvariant() switch
        {
            Ndjson => ContentKind.Ndjson,
            Json => ContentKind.Json,
            MessagePack => ContentKind.MessagePack,
            _ => null,
        };
        if (known is null)
        {
            error = $"unknown format '{Printable(name)}': use {Ndjson}, {Json} or {MessagePack}";
            return false;
        }
        kind = known.Value;
        return true;
    }

    /// <summary>A request's frames after the empty delimiter.</summary>
    public static byte[][] RequestFrames(ReadOnlySpan<byte> requestId, string format, ReadOnlySpan<byte> payload) =>
        [requestId.ToArray(), Encoding.ASCII.GetBytes(format), payload.ToArray()];

    /// <summary>An answer's frames after the empty delimiter.</summary>
    public static byte[][] AnswerFrames(ZeroMqAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var body = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(body, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (answer.Status == 200)
            {
                json.WriteNumber("accepted", answer.Accepted);
            }
            else
            {
                json.WriteString("error", answer.Error ?? "");
                if (answer.Reason is { } reason) json.WriteString("reason", reason);
                if (answer.Line is { } line) json.WriteNumber("line", line);
                if (answer.RetryAfter is { } retry) json.WriteNumber("retryAfterMs", (long)Math.Ceiling(retry.TotalMilliseconds));
            }
            json.WriteEndObject();
        }
        return [answer.RequestId, Encoding.ASCII.GetBytes(answer.Status.ToString(CultureInfo.InvariantCulture)), body.WrittenSpan.ToArray()];
    }

    /// <summary>Reads an answer's frames after the empty delimiter; null when they are not an answer.</summary>
    public static ZeroMqAnswer? ReadAnswer(IReadOnlyList<ReadOnlyMemory<byte>> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count != 3 || frames[0].Length == 0) return null;
        if (!int.TryParse(Encoding.ASCII.GetString(frames[1].Span), NumberStyles.None, CultureInfo.InvariantCulture, out var status)) return null;
        try
        {
            using var body = JsonDocument.Parse(frames[2]);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            int? Int(string name) => root.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : null;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            TimeSpan? retry = root.TryGetProperty("retryAfterMs", out var r) && r.TryGetInt64(out var ms) ? TimeSpan.FromMilliseconds(ms) : null;
            return new ZeroMqAnswer(frames[0].ToArray(), status, Int("accepted") ?? 0, Text("error"), Text("reason"), Int("line"), retry);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The request id as text, for logs.</summary>
    public static string IdText(ReadOnlySpan<byte> requestId) => Convert.ToHexString(requestId);

    private static string Printable(string text) => text.Length > 40 ? text[..40] + "..." : text;
}

/// <summary>One batch as the node reads it.</summary>
/// <param name="Type">The log type for events that give none (<c>;type=</c>); null = <c>default</c>.</param>
public readonly record struct ZeroMqRequest(byte[] RequestId, ContentKind Kind, string? Type, ReadOnlyMemory<byte> Payload);

/// <summary>The node's answer to one batch.</summary>
/// <param name="Status">200 durable; else HTTP's code for the same refusal on <c>/v1/events</c>.</param>
/// <param name="Accepted">Events made durable (200).</param>
/// <param name="Error">Why the batch was refused; null for 200.</param>
/// <param name="Reason">The refusal's label (as on <c>/metrics</c>: malformed, body_too_large, saturated, ...).</param>
/// <param name="Line">The NDJSON line (or JSON event ordinal) at fault.</param>
/// <param name="RetryAfter">For 429 and 503: when to send the batch again.</param>
public sealed record ZeroMqAnswer(byte[] RequestId, int Status, int Accepted = 0, string? Error = null, string? Reason = null, int? Line = null, TimeSpan? RetryAfter = null)
{
    public bool Durable => Status == 200;

    /// <summary>429 and 503: the batch was not taken now and may be sent again; anything else but 200 is final.</summary>
    public bool Transient => Status is 429 or 503;

    public static ZeroMqAnswer Accept(byte[] requestId, int count) => new(requestId, 200, count);

    public static ZeroMqAnswer Refuse(byte[] requestId, int status, string reason, string error, int? line = null, TimeSpan? retryAfter = null) =>
        new(requestId, status, 0, error, reason, line, retryAfter);
}
