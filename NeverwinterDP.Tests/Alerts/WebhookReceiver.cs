using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace NeverwinterDP.Tests.Alerts;

/// <summary>A webhook endpoint on Kestrel (127.0.0.1, port 0) that records every body; <see cref="Failures"/> answers 500 first.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failures;

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Every request received, in order (those answered 500 too).</summary>
    public ConcurrentQueue<(int Status, JsonElement Body)> Requests { get; } = new();

    /// <summary>The bodies answered 2xx, in order.</summary>
    public IReadOnlyList<JsonElement> Delivered => Requests.Where(r => r.Status == 200).Select(r => r.Body).ToList();

    public Uri Url { get; private set; } = null!;

    /// <summary>How many of the next requests are answered 500.</summary>
    public int Failures
    {
        set => Interlocked.Exchange(ref _failures, value);
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            var status = Interlocked.Decrement(ref receiver._failures) >= 0 ? 500 : 200;
            receiver.Requests.Enqueue((status, doc.RootElement.Clone()));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
