using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Akka.Event;

namespace NeverwinterDP.Actors.Alerts;

/// <summary>
/// Posts notifications to the webhooks: one bounded queue and one worker per webhook, so a webhook that is down
/// delays only its own deliveries. A 5xx, 408, 429 or a network error is retried with exponential backoff up to
/// <see cref="AlertNotifyOptions.MaxAttempts"/>; another 4xx is not (the receiver refuses the body). When every
/// webhook is done with a notification (delivered or given up), <c>done</c> is called with its id.
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    private readonly IReadOnlyList<AlertWebhook> _webhooks;
    private readonly AlertNotifyOptions _options;
    private readonly Action<string> _done;
    private readonly ILoggingAdapter _log;
    private readonly HttpClient _http;
    private readonly List<(AlertWebhook Hook, Channel<Delivery> Queue, Task Worker)> _workers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _remaining = new(StringComparer.Ordinal);

    public WebhookSender(IReadOnlyList<AlertWebhook> webhooks, AlertNotifyOptions options, Action<string> done, ILoggingAdapter log, HttpMessageHandler? handler = null)
    {
        _webhooks = webhooks;
        _options = options;
        _done = done;
        _log = log;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan; // per attempt below
        foreach (var hook in webhooks)
        {
            var queue = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.QueueSize)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
            }, dropped => { _log.Warning("alerts: webhook {0} queue full ({1}), dropped {2}", hook.Name, options.QueueSize, dropped.Notification.Id); Finish(dropped.Notification.Id); });
            _workers.Add((hook, queue, Task.Run(() => RunAsync(hook, queue.Reader))));
        }
    }

    /// <summary>Deliveries attempted and failed so far (all webhooks), for tests and the log.</summary>
    public int FailedAttempts => _failed;

    private int _failed;

    /// <summary>Queues <paramref name="n"/> for every webhook (done at once when there are none).</summary>
    public void Send(AlertNotification n)
    {
        if (_webhooks.Count == 0)
        {
            _done(n.Id);
            return;
        }
        _remaining[n.Id] = _webhooks.Count;
        foreach (var (_, queue, _) in _workers)
            if (!queue.Writer.TryWrite(new Delivery(n))) Finish(n.Id);
    }

    private async Task RunAsync(AlertWebhook hook, ChannelReader<Delivery> reader)
    {
        try
        {
            await foreach (var d in reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await DeliverAsync(hook, d.Notification).ConfigureAwait(false);
                Finish(d.Notification.Id);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(AlertWebhook hook, AlertNotification n)
    {
        var body = WebhookPayloads.Body(n, hook.Format);
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(_options.Timeout);
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await _http.PostAsync(hook.Url, content, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return;
                problem = $"HTTP {(int)response.StatusCode}";
                if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
                {
                    _log.Error("alerts: webhook {0} refused {1}: {2}; not retried", hook.Name, n.Id, problem);
                    return;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                problem = e is OperationCanceledException ? $"no answer within {_options.Timeout}" : e.Message;
            }
            Interlocked.Increment(ref _failed);
            if (attempt >= _options.MaxAttempts)
            {
                _log.Error("alerts: webhook {0} failed {1} after {2} attempts ({3}); given up", hook.Name, n.Id, attempt, problem);
                return;
            }
            var wait = _options.Backoff(attempt);
            _log.Warning("alerts: webhook {0} failed {1} ({2}), attempt {3} of {4}; retry in {5}", hook.Name, n.Id, problem, attempt, _options.MaxAttempts, wait);
            await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
        }
    }

    private void Finish(string id)
    {
        if (_remaining.AddOrUpdate(id, 0, (_, r) => r - 1) <= 0 && _remaining.TryRemove(id, out _)) _done(id);
    }

    /// <summary>Stops taking notifications; the queued ones are still delivered (with retries) unless disposed.</summary>
    public Task CompleteAsync()
    {
        foreach (var (_, queue, _) in _workers) queue.Writer.TryComplete();
        return Task.WhenAll(_workers.Select(w => w.Worker));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, queue, _) in _workers) queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers.Select(w => w.Worker)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _http.Dispose();
        _stop.Dispose();
    }

    private sealed record Delivery(AlertNotification Notification);
}
