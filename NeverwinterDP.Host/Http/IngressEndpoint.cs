using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Bus;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// <c>POST /v1/events</c>: NDJSON or JSON (optionally gzip), parsed whole before anything is sent, so a
/// request is accepted whole or not at all; answered 2xx only once Kafka acknowledged every event.
/// </summary>
public sealed class IngressEndpoint(EventIngress ingress, IngressContexts contexts)
{
    private const string KeyHeader = "X-Nwdp-Key";

    public async Task HandleAsync(HttpContext http)
    {
        var options = ingress.Options;
        var request = http.Request;
        // The limits are enforced below, as the body is read; Kestrel's own limit would cut the connection
        // before the client could read our 413.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        if (request.ContentLength > options.MaxRequestBytes)
        {
            await DrainAsync(request.Body, DrainLimit(options), http.RequestAborted);
            await Error(http, 413, $"request body is {request.ContentLength} bytes; the limit is {options.MaxRequestBytes}");
            return;
        }
        if (ContentKinds.FromContentType(request.ContentType) is not { } kind)
        {
            await Error(http, 415, $"unsupported Content-Type '{request.ContentType}': use application/x-ndjson or application/json");
            return;
        }
        byte[]? rented = null;
        try
        {
            var gzip = request.Headers.ContentEncoding.ToString() switch
            {
                "" or "identity" => false,
                var e when e.Equals("gzip", StringComparison.OrdinalIgnoreCase) => true,
                var e => throw new BadRequestException(415, $"unsupported Content-Encoding '{e}': use gzip or none"),
            };
            int length;
            (rented, length) = await ReadBodyAsync(request.Body, gzip, gzip ? options.MaxDecompressedBytes : options.MaxRequestBytes, http.RequestAborted);
            var remote = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var context = contexts.For(request.Query["type"].ToString(), remote, remote);
            var parsed = EventParser.Parse(rented.AsSpan(0, length), kind, context);
            if (!parsed.IsSuccess)
            {
                await Error(http, 400, parsed.Error, parsed.Line);
                return;
            }
            if (parsed.Events.Count > options.MaxEventsPerRequest)
            {
                await Error(http, 413, $"{parsed.Events.Count} events in one request; the limit is {options.MaxEventsPerRequest}");
                return;
            }
            var (outcome, error) = await ingress.AcceptAsync(parsed.Events, request.Headers[KeyHeader].ToString(), http.RequestAborted);
            switch (outcome)
            {
                case IngressOutcome.Durable:
                    http.Response.StatusCode = 200;
                    await http.Response.WriteAsJsonAsync(new AcceptedBody(parsed.Events.Count), IngressJson.Default.AcceptedBody);
                    break;
                case IngressOutcome.Saturated:
                    await Error(http, 429, "the bus is saturated; retry later", retryAfter: options.RetryAfter);
                    break;
                case IngressOutcome.Stopping:
                    await Error(http, 503, "the node is shutting down; retry on another node or later", retryAfter: options.RetryAfter);
                    break;
                default:
                    await Error(http, 503, "the bus did not acknowledge the events: " + (error?.Message ?? "unknown error"), retryAfter: options.RetryAfter);
                    break;
            }
        }
        catch (BadRequestException e)
        {
            if (e.Status == 413) await DrainAsync(request.Body, DrainLimit(options), http.RequestAborted);
            await Error(http, e.Status, e.Message);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads the body into a pooled buffer, refusing (413) past <paramref name="max"/> bytes after decompression.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(Stream body, bool gzip, long max, CancellationToken cancellation)
    {
        var source = gzip ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true) : body;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int read;
                try
                {
                    read = await source.ReadAsync(buffer.AsMemory(length), cancellation);
                }
                catch (InvalidDataException e)
                {
                    throw new BadRequestException(400, "body is not valid gzip: " + e.Message);
                }
                catch (BadHttpRequestException e) when (e.StatusCode == 413)
                {
                    throw new BadRequestException(413, $"request body exceeds the limit of {max} bytes");
                }
                if (read == 0) break;
                length += read;
                if (length > max) throw new BadRequestException(413, $"request body exceeds the limit of {max} bytes{(gzip ? " after decompression" : "")}");
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (gzip) await source.DisposeAsync();
        }
    }

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

    private static async Task Error(HttpContext http, int status, string message, int? line = null, TimeSpan? retryAfter = null)
    {
        http.Response.StatusCode = status;
        if (retryAfter is { } ra) http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(ra.TotalSeconds)).ToString();
        await http.Response.WriteAsJsonAsync(new ErrorBody(message, line), IngressJson.Default.ErrorBody);
    }

    private sealed class BadRequestException(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }
}

public sealed record AcceptedBody(int Accepted);

public sealed record ErrorBody(string Error, int? Line);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(AcceptedBody))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorBody))]
internal sealed partial class IngressJson : System.Text.Json.Serialization.JsonSerializerContext;
