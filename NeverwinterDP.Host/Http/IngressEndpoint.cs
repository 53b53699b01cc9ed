using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Memory;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// <c>POST /v1/events</c>: NDJSON or JSON (optionally gzip), parsed whole before anything is sent, so a
/// request is accepted whole or not at all; answered 2xx only once Kafka acknowledged every event.
/// </summary>
public sealed class IngressEndpoint(EventIngress ingress, IngressContexts contexts, IngressBudget budget, SenderKeys senders) : IDisposable
{
    /// <summary>
    /// Ingress is one of the holders of the process's <see cref="HeapGiveBack"/>: idle when no request holds anything of
    /// the budget; the budget's peak starts again at each give-back.
    /// </summary>
    private readonly IDisposable _giveBack = HeapGiveBack.Shared.Register(() => budget.InFlight, () => budget.TakePeak());

    private const string KeyHeader = "X-Nwdp-Key";

    /// <summary>The <see cref="HttpContext.Items"/> key under which a refusal's reason is left for the metrics.</summary>
    public const string RefusalReasonItem = "nwdp.refusal";

    /// <summary>The <see cref="HttpContext.Items"/> key that marks a request of any input as an ingress request for the metrics.</summary>
    public const string IngressRequestItem = "nwdp.ingress";

    /// <summary>Buffers up to this size come from the shared pool (<see cref="IngressOptions.PooledBufferLimit"/>).</summary>
    private const int PooledBufferLimit = IngressOptions.PooledBufferLimit;

    /// <summary>Handles a <c>/v1/events</c> request (<see cref="EventsDialect.Default"/>).</summary>
    public Task HandleAsync(HttpContext http) => HandleAsync(http, EventsDialect.Default);

    /// <summary>
    /// Handles a request of another input protocol: <paramref name="dialect"/> reads its body and shapes its
    /// answers; the limits, the budget and the guarantee are the same for all.
    /// </summary>
    public async Task HandleAsync(HttpContext http, IngressDialect dialect)
    {
        http.Items[IngressRequestItem] = true;
        var options = ingress.Options;
        var request = http.Request;
        // The limits are enforced below, as the body is read; Kestrel's own limit would cut the connection
        // before the client could read our 413.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        // The sender's API key (nwdp.security.api-keys-file), before a byte of the body is read.
        var sender = senders.Authenticate(request);
        if (sender.Refusal is { } unauthorized)
        {
            await Error(http, dialect, 401, "unauthorized", unauthorized, authenticate: true);
            return;
        }
        if (request.ContentLength > options.MaxRequestBytes)
        {
            await DrainAsync(request.Body, DrainLimit(options), http.RequestAborted);
            await Error(http, dialect, 413, "body_too_large", $"request body is {request.ContentLength} bytes; the limit is {options.MaxRequestBytes}");
            return;
        }
        if (dialect.Unsupported(request) is { } unsupported)
        {
            await Error(http, dialect, 415, "unsupported_content_type", unsupported);
            return;
        }
        // What this request holds of the node's budget of bytes in flight, until it is answered: four times its body
        // (the body, the events it becomes, their records: IngressOptions.BudgetPerBodyByte); a gzip body, what it
        // declares, then four times what it inflates to.
        using var reservation = budget.Open();
        http.Response.OnCompleted(() =>
        {
            // After requests that held a lot (one alone or several at once: the budget's peak), the heap is given back
            // once ingress and the pumps are idle.
            HeapGiveBack.Shared.Held(Math.Max(reservation.Peak, budget.Peak));
            return Task.CompletedTask;
        });
        var gzipped = request.Headers.ContentEncoding.ToString().Equals("gzip", StringComparison.OrdinalIgnoreCase);
        var upfront = request.ContentLength is { } declared
            ? (gzipped ? declared : BufferCost(IngressOptions.BufferBytes(Math.Clamp(declared, 1, options.MaxRequestBytes))))
            : 0;
        if (!reservation.TryGrowTo(upfront))
        {
            // Not read: the client sends it again later (Kestrel discards the body or closes the connection).
            await Error(http, dialect, 429, "bytes_in_flight", BudgetFull(upfront), retryAfter: options.RetryAfter);
            return;
        }
        byte[]? rented = null;
        try
        {
            var gzip = request.Headers.ContentEncoding.ToString() switch
            {
                "" or "identity" => false,
                var e when e.Equals("gzip", StringComparison.OrdinalIgnoreCase) => true,
                var e => throw new BadRequestException(415, "unsupported_content_encoding", $"unsupported Content-Encoding '{e}': use gzip or none"),
            };
            int length;
            (rented, length) = await ReadBodyAsync(request.Body, request.ContentLength, gzip, gzip ? options.MaxDecompressedBytes : options.MaxRequestBytes, reservation,
                http.RequestAborted);
            var remote = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var context = contexts.For(request.Query["type"].ToString(), remote, remote) with { Sender = sender.Key?.Name }; // lineage.sender
            var parsed = dialect.Parse(request, rented.AsMemory(0, length), context);
            if (!parsed.IsSuccess)
            {
                await Error(http, dialect, parsed.Status, parsed.Reason, parsed.Error, parsed.Line);
                return;
            }
            if (parsed.Events.Count > options.MaxEventsPerRequest)
            {
                await Error(http, dialect, 413, "too_many_events", $"{parsed.Events.Count} events in one request; the limit is {options.MaxEventsPerRequest}");
                return;
            }
            // Typed log types: an attribute that does not fit its type's schema refuses the whole request, naming field and line.
            if (ingress.Typed?.FirstInvalid(parsed.Events) is { } invalid)
            {
                http.Items[RefusalReasonItem] = "invalid_typed_field";
                http.Response.StatusCode = 400;
                await dialect.TypedFieldErrorAsync(http, invalid.Problem, dialect.LineOf(request, rented.AsSpan(0, length), invalid.Index));
                return;
            }
            if (sender.Key?.FirstForbidden(parsed.Events) is { } forbidden)
            {
                await Error(http, dialect, 403, "forbidden_type", $"API key '{sender.Key.Name}' may not write log type '{forbidden}'", authenticate: true);
                return;
            }
            if (sender.Key?.Admit(parsed.Events.Count, length) is { } limited)
            {
                if (limited.Status == 429) await Error(http, dialect, 429, "rate_limited", limited.Message, retryAfter: limited.RetryAfter);
                else await Error(http, dialect, limited.Status, "rate_limit", limited.Message);
                return;
            }
            if (parsed.Events.Count == 0)
            {
                // Nothing to make durable (an OTLP request of no records, or of records all rejected one by one).
                http.Response.StatusCode = 200;
                await dialect.AcceptedAsync(http, 0);
                return;
            }
            var (outcome, error) = await ingress.AcceptAsync(parsed.Events, request.Headers[KeyHeader].ToString(), http.RequestAborted);
            if (outcome == IngressOutcome.Durable)
            {
                http.Response.StatusCode = 200;
                await dialect.AcceptedAsync(http, parsed.Events.Count);
            }
            else if (outcome == IngressOutcome.Refused && error is EventTooLargeException tooLarge)
                await Error(http, dialect, 413, "event_too_large", tooLarge.Message, dialect.LineOf(request, rented.AsSpan(0, length), tooLarge.Index));
            else if (IngressRefusal.Of(outcome, error, options.RetryAfter) is { } refusal)
                await Error(http, dialect, refusal.Status, refusal.Reason, refusal.Message, retryAfter: refusal.RetryAfter);
        }
        catch (BadRequestException e)
        {
            if (e.Status is 413 or 429) await DrainAsync(request.Body, DrainLimit(options), http.RequestAborted);
            await Error(http, dialect, e.Status, e.Reason, e.Message, retryAfter: e.Status == 429 ? options.RetryAfter : null);
        }
        finally
        {
            if (rented is not null) Return(rented);
        }
    }

    /// <summary>What a body buffer of <paramref name="bytes"/> costs of the budget (<see cref="IngressOptions.BudgetPerBodyByte"/>).</summary>
    private static long BufferCost(long bytes) => IngressOptions.BudgetPerBodyByte * bytes;

    private string BudgetFull(long bytes) =>
        $"the node has {budget.InFlight} bytes of requests in flight and this one needs {bytes} more (nwdp.ingress.max-bytes-in-flight = {budget.Limit}); retry later";

    /// <summary>
    /// Reads the body into one buffer, refusing (413) past <paramref name="max"/> bytes after decompression and
    /// (429) past what <paramref name="reservation"/> can get of the budget; a gzip body must be whole (400).
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(Stream body, long? declared, bool gzip, long max, IngressBudget.Reservation reservation,
        CancellationToken cancellation)
    {
        var raw = gzip ? new GzipTrailer(body) : null;
        var source = raw is null ? body : new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true);
        // The compressed bytes in flight (declared) are held beside the inflated buffer; a plain body is the buffer.
        var held = gzip ? declared ?? 0 : 0;
        // Never a buffer past max bytes (what the budget expects: IngressOptions.LargestRequestCost); a body that
        // fills one of max bytes is too large if one more byte follows.
        var buffer = Rent((int)Math.Min(!gzip && declared is { } d ? Math.Max(d, 1) : 64 * 1024, max), reservation, held);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Full at the limit, or at the declared length of a plain body (Kestrel ends it there): done
                    // unless one more byte follows.
                    if (length >= max || (!gzip && declared == length))
                    {
                        if (await ReadAsync(source, new byte[1], max, cancellation) > 0) throw TooLarge(max, gzip);
                        break;
                    }
                    var bigger = Rent((int)Math.Min(Math.Min((long)buffer.Length * 2, max), Array.MaxLength), reservation, held);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    Return(buffer);
                    buffer = bigger;
                }
                var read = await ReadAsync(source, buffer.AsMemory(length), max, cancellation);
                if (read == 0) break;
                length += read;
                if (length > max) throw TooLarge(max, gzip);
            }
            if (raw is not null && await raw.ProblemAsync(buffer.AsMemory(0, length), cancellation) is { } problem)
                throw new BadRequestException(400, "invalid_gzip", "body is not valid gzip: " + problem);
            return (buffer, length);
        }
        catch
        {
            Return(buffer);
            throw;
        }
        finally
        {
            if (gzip) await source.DisposeAsync();
        }
    }

    /// <summary>One read of the body, its failures in the sender's terms: 400 for gzip that does not inflate, 413 past Kestrel's limit.</summary>
    private static async ValueTask<int> ReadAsync(Stream source, Memory<byte> into, long max, CancellationToken cancellation)
    {
        try
        {
            return await source.ReadAsync(into, cancellation);
        }
        catch (InvalidDataException e)
        {
            throw new BadRequestException(400, "invalid_gzip", "body is not valid gzip: " + e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            throw new BadRequestException(413, "body_too_large", $"request body exceeds the limit of {max} bytes");
        }
    }

    private static BadRequestException TooLarge(long max, bool gzip) =>
        new(413, "body_too_large", $"request body exceeds the limit of {max} bytes{(gzip ? " after decompression" : "")}");

    /// <summary>A buffer of at least <paramref name="size"/> bytes, its size reserved in the budget first (429 when it cannot be).</summary>
    private static byte[] Rent(int size, IngressBudget.Reservation reservation, long held)
    {
        var bytes = IngressOptions.BufferBytes(size);
        if (!reservation.TryGrowTo(held + BufferCost(bytes)))
            throw new BadRequestException(429, "bytes_in_flight",
                $"the node's budget of bytes in flight is used up (nwdp.ingress.max-bytes-in-flight); this request needs {held + BufferCost(bytes)} bytes; retry later");
        return size <= PooledBufferLimit ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
    }

    private static void Return(byte[] buffer)
    {
        if (buffer.Length <= PooledBufferLimit) ArrayPool<byte>.Shared.Return(buffer);
        else Dropped(buffer.Length);
    }

    /// <summary>
    /// Large bodies' buffers are left to the GC, which frees the large-object heap only in a full collection, and
    /// under steady traffic it may not run one for a long time: the budget bounds what requests hold, not what
    /// they dropped. So once dropped buffers add up to <see cref="CollectAfterDropped"/>, one full compacting
    /// collection takes them back and returns the memory to the OS.
    /// </summary>
    private static void Dropped(long bytes)
    {
        if (Interlocked.Add(ref _droppedSinceCollect, bytes) < CollectAfterDropped) return;
        Interlocked.Exchange(ref _droppedSinceCollect, 0);
        // Off the request's thread: a pause of a few milliseconds for the node, not a slower answer for this client.
        _ = Task.Run(() => HeapGiveBack.CompactHeap(GCCollectionMode.Forced));
    }

    public void Dispose() => _giveBack.Dispose();

    private const long CollectAfterDropped = 64L << 20;

    private static long _droppedSinceCollect;

    /// <summary>How much of a refused body is read and thrown away so that the client can read the answer; past it the connection is closed.</summary>
    private static long DrainLimit(IngressOptions options) => Math.Max(4 * options.MaxRequestBytes, 64L << 20);

    private static async Task DrainAsync(Stream body, long limit, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while (total < limit && (read = await body.ReadAsync(buffer, cancellation)) > 0) total += read;
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away; nothing to answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task Error(HttpContext http, IngressDialect dialect, int status, string reason, string message, int? line = null, TimeSpan? retryAfter = null, bool authenticate = false)
    {
        http.Items[RefusalReasonItem] = reason;
        if (authenticate) http.Response.Headers.WWWAuthenticate = status == 401 ? "Bearer realm=\"nwdp\"" : "Bearer realm=\"nwdp\", error=\"insufficient_scope\"";
        http.Response.StatusCode = status;
        if (retryAfter is { } ra) http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(ra.TotalSeconds)).ToString();
        await dialect.ErrorAsync(http, status, reason, message, line);
    }

    private sealed class BadRequestException(int status, string reason, string message) : Exception(message)
    {
        public int Status { get; } = status;

        /// <summary>The refusal's reason label on /metrics.</summary>
        public string Reason { get; } = reason;
    }
}

public sealed record AcceptedBody(int Accepted);

public sealed record ErrorBody(string Error, int? Line)
{
    /// <summary>The typed attribute at fault (typed log types); absent otherwise.</summary>
    public string? Field { get; init; }

    /// <summary>The type that attribute must have, e.g. <c>int</c> or <c>string or null</c>.</summary>
    public string? Expected { get; init; }

    /// <summary>For an array or map attribute: the index (<c>"2"</c>) or key of the item at fault.</summary>
    public string? Element { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(AcceptedBody))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorBody))]
internal sealed partial class IngressJson : System.Text.Json.Serialization.JsonSerializerContext;
