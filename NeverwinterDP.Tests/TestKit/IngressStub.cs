using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NeverwinterDP.Host.Bench;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>One request as the stub saw it: its number (1-based), decoded lines and their parsed sequence numbers.</summary>
internal sealed record StubRequest(long Number, IReadOnlyList<string> Lines, IReadOnlyList<string> Messages, IReadOnlyList<long> Seqs, string? ContentType, string? ContentEncoding)
{
    public long FirstSeq => Seqs.Count > 0 ? Seqs[0] : -1;
}

/// <summary>How the stub answers a request: a status, an optional <c>Retry-After</c> (seconds) and body.</summary>
internal sealed record StubAnswer(int Status, int? RetryAfterSeconds = null, string? Body = null)
{
    public static readonly StubAnswer Ok = new(200);
}

/// <summary>
/// A tiny <c>POST /v1/events</c> on Kestrel (127.0.0.1, port 0) for bench tests: decodes NDJSON (gzip too),
/// asks a policy how to answer, and remembers the <c>msg</c> of every event it answered 2xx.
/// </summary>
internal sealed class IngressStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<StubRequest, CancellationToken, Task<StubAnswer>> _policy;
    private readonly ConcurrentDictionary<string, int> _accepted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, long> _answered = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private long _requests;

    private IngressStub(WebApplication app, Func<StubRequest, CancellationToken, Task<StubAnswer>> policy)
    {
        _app = app;
        _policy = policy;
    }

    /// <summary>http://127.0.0.1:PORT</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public Uri EventsUrl => new(BaseUrl, "/v1/events");

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary><c>msg</c> → times it arrived in a request answered 2xx.</summary>
    public IReadOnlyDictionary<string, int> Accepted => _accepted;

    /// <summary>Status → times the stub answered it.</summary>
    public IReadOnlyDictionary<int, long> Answered => _answered;

    /// <summary>Malformed lines or headers the stub saw (should stay empty).</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    public static Task<IngressStub> StartAsync(Func<StubRequest, StubAnswer> policy) =>
        StartAsync((r, _) => Task.FromResult(policy(r)));

    public static async Task<IngressStub> StartAsync(Func<StubRequest, CancellationToken, Task<StubAnswer>> policy)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var stub = new IngressStub(app, policy);
        app.MapPost("/v1/events", (RequestDelegate)stub.HandleAsync);
        await app.StartAsync();
        stub.BaseUrl = new Uri(app.Urls.Single());
        return stub;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _requests);
        var encoding = context.Request.Headers.ContentEncoding.ToString();
        var body = encoding == "gzip" ? new GZipStream(context.Request.Body, CompressionMode.Decompress) : context.Request.Body;
        var lines = new List<string>();
        using (var reader = new StreamReader(body))
        {
            while (await reader.ReadLineAsync(context.RequestAborted) is { } line)
                if (line.Length > 0) lines.Add(line);
        }
        var messages = new List<string>(lines.Count);
        var seqs = new List<long>(lines.Count);
        foreach (var line in lines)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var msg = doc.RootElement.GetProperty("msg").GetString()!;
                messages.Add(msg);
                seqs.Add(BenchEventGenerator.ParseMessage(msg)?.Seq ?? -1);
                if (doc.RootElement.GetProperty("ts").ValueKind != JsonValueKind.Number) _problems.Enqueue("ts not a number: " + line);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException)
            {
                _problems.Enqueue($"{e.Message}: {line}");
            }
        }
        var contentType = context.Request.ContentType;
        if (contentType != "application/x-ndjson") _problems.Enqueue("content type " + contentType);

        var answer = await _policy(new StubRequest(number, lines, messages, seqs, contentType, encoding.Length == 0 ? null : encoding), context.RequestAborted);
        _answered.AddOrUpdate(answer.Status, 1, (_, n) => n + 1);
        if (answer.Status is >= 200 and < 300)
            foreach (var msg in messages) _accepted.AddOrUpdate(msg, 1, (_, n) => n + 1);
        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfterSeconds is { } retryAfter) context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (answer.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
