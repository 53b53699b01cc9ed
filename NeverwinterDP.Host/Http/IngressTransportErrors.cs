namespace NeverwinterDP.Host.Http;

/// <summary>
/// What Kestrel refuses while the ingress reads a body, answered as the ingress answers its own refusals (a JSON
/// <c>error</c> and a reason on <c>/metrics</c>) rather than as an unhandled exception with an empty 4xx: a body
/// that arrives slower than Kestrel's minimum data rate (408, slowloris), chunked framing that is not HTTP (400), a
/// body cut short by a client that went away (400; nobody reads that answer).
/// </summary>
public static class IngressTransportErrors
{
    /// <summary>Runs <paramref name="handle"/> for <paramref name="http"/>; a <see cref="BadHttpRequestException"/> before the answer started becomes the answer.</summary>
    public static async Task HandleAsync(HttpContext http, Func<HttpContext, Task> handle)
    {
        try
        {
            await handle(http);
        }
        catch (BadHttpRequestException e) when (!http.Response.HasStarted)
        {
            var (reason, message) = e.StatusCode switch
            {
                StatusCodes.Status408RequestTimeout => ("body_too_slow",
                    "the request body arrived too slowly (below Kestrel's minimum data rate of 240 bytes/s after a 5 s grace period); send it faster or in smaller requests"),
                StatusCodes.Status413PayloadTooLarge => ("body_too_large", "request body too large: " + e.Message),
                _ => ("bad_framing", "the request body is not valid HTTP/1.1 (Content-Length or chunked framing): " + e.Message),
            };
            http.Items[IngressEndpoint.RefusalReasonItem] = reason;
            http.Response.StatusCode = e.StatusCode;
            // Where the body ends is unknown after broken framing: Kestrel closes the connection after this answer,
            // and says so, so that a client still writing its body knows the write error is not a lost answer.
            if (reason == "bad_framing") http.Response.Headers.Connection = "close";
            await http.Response.WriteAsJsonAsync(new ErrorBody(message, null), IngressJson.Default.ErrorBody);
        }
    }
}
