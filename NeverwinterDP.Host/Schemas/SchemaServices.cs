using System.Net.Http.Json;
using System.Text.Json.Nodes;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Schemas;

/// <summary>
/// Opens the registry's topic and reads it to its end. In the background: a node must come up while Kafka is
/// down; until the topic is open, requests are answered 500 with error code 50001 naming why.
/// </summary>
/// <remarks>Also lends the store to <see cref="TypedLogSchemas"/> while the node runs: every decoder of this process then reads typed records by their id.</remarks>
public sealed class SchemaRegistryService(SchemaLog log, SchemaStore store, SchemaOptions options, ILogger<SchemaRegistryService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _starting = Task.CompletedTask;
    private IDisposable? _lookup;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _lookup = TypedLogSchemas.AddLookup(store.SchemaById);
        _starting = Task.Run(() => OpenAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OpenAsync(CancellationToken stop)
    {
        for (var attempt = 1; !stop.IsCancellationRequested; attempt++)
        {
            try
            {
                await log.StartAsync(stop);
                await log.CatchUpAsync(options.Timeout, stop);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SchemaRegistryException or Confluent.Kafka.KafkaException or InvalidOperationException)
            {
                if (attempt == 1 || attempt % 10 == 0)
                    logger.LogWarning("The schema registry's topic {Topic} cannot be opened yet ({Error}); retrying", options.Topic, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 2 * attempt)), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _starting;
        _lookup?.Dispose();
    }

    // The log itself is the container's (a singleton): it is disposed after this service.
    public ValueTask DisposeAsync()
    {
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// With <c>nwdp.schemas.url</c>: registers NeverwinterDP's schemas in that registry at start (retrying while it does
/// not answer). Records on the bus carry the ids <see cref="SchemaIds"/> fixed; when that registry gives another id
/// it is logged as an error, because its consumers would then read our records with the wrong schema.
/// </summary>
public sealed class ExternalSchemaRegistration(SchemaOptions options, ILogger<ExternalSchemaRegistration> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = new Uri(options.Url!.ToString().TrimEnd('/') + "/"), Timeout = options.Timeout };
        foreach (var (subject, _, id, schema) in SchemaStore.BuiltIns)
        {
            for (var attempt = 1; !stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    using var response = await http.PostAsJsonAsync($"subjects/{Uri.EscapeDataString(subject)}/versions", new { schema }, stop);
                    var body = await response.Content.ReadAsStringAsync(stop);
                    if (!response.IsSuccessStatusCode)
                    {
                        logger.LogError("The schema registry {Url} refused {Subject}: {Status} {Body}", options.Url, subject, (int)response.StatusCode, body);
                        break;
                    }
                    var given = (int?)JsonNode.Parse(body)?["id"];
                    if (given != id)
                        logger.LogError("The schema registry {Url} gave {Subject} id {Given}, but records on the bus carry id {Id}: its clients will not read them right", options.Url, subject, given, id);
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !stop.IsCancellationRequested)
                {
                    if (attempt == 1 || attempt % 10 == 0) logger.LogWarning("The schema registry {Url} does not answer yet ({Error}); retrying", options.Url, e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 2 * attempt)), stop).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }
        }
    }
}
