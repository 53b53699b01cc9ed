using NetMQ;
using NetMQ.Sockets;
using NeverwinterDP.Actors;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.ZeroMq;

/// <summary>
/// The ZeroMQ input (<c>nwdp.inputs.zeromq</c>) on a node with the ingress role: one ROUTER socket and its NetMQ
/// poller thread, which reads batches (<see cref="ZeroMqWire"/>), starts each on the thread pool, and sends the
/// answers they queue. Registered after the bus writer, so it stops first: it stops reading, lets the batches in
/// flight become durable and answers them, then closes the socket; what was not read, or not durable by the
/// shutdown timeout, stays unanswered (the client sends it again).
/// </summary>
public sealed class ZeroMqService(IServiceProvider services, NodeConfig config, ILogger<ZeroMqService> log) : IHostedService
{
    private ZeroMqIngress _ingress = null!;
    private ZeroMqBatchTracker _tracker = null!;
    private RouterSocket? _router;
    private NetMQQueue<NetMQMessage>? _outbox;
    private NetMQPoller? _poller;
    private readonly CancellationTokenSource _giveUp = new();
    private readonly Dictionary<long, Task> _batches = [];
    private readonly Lock _gate = new();
    private long _batchIds;
    private volatile bool _stopping;

    /// <summary>The bound endpoint (<c>tcp://HOST:PORT</c>, port 0 resolved); null when the input is off.</summary>
    public string? Endpoint { get; private set; }

    private ZeroMqOptions Options => config.ZeroMq;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Options.Port is not { } port) return Task.CompletedTask;
        if (!config.Cluster.HasRole(NodeRoles.Ingress))
        {
            log.LogWarning("nwdp.inputs.zeromq: a port is configured but this node does not have the '{Role}' role; not listening", NodeRoles.Ingress);
            return Task.CompletedTask;
        }
        _ingress = services.GetRequiredService<ZeroMqIngress>();
        _tracker = new ZeroMqBatchTracker(Options.MaxInFlightBatches, Options.RememberedBatches);
        var host = Options.Host.Length == 0 ? "127.0.0.1" : Options.Host;
        var address = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host; // an IPv6 address
        _router = new RouterSocket();
        _router.Options.Linger = TimeSpan.FromSeconds(2); // answers queued at stop still go out
        // A frame past twice the limit is cut by ZeroMQ (the peer is disconnected); up to it the batch is answered 413.
        _router.Options.MaxMsgSize = 2 * Options.MaxBatchBytes + 1024;
        // What a peer may have queued unread: the poller reads eagerly (a batch past max-in-flight is answered 429).
        _router.Options.ReceiveHighWatermark = Math.Max(16, Options.MaxInFlightBatches);
        // A peer that vanished without closing (its pipe and unread queue held) is found by TCP keepalive; not ZMTP
        // heartbeats, which peers on libzmq before 4.2 do not answer.
        _router.Options.TcpKeepalive = true;
        _router.Options.TcpKeepaliveIdle = TimeSpan.FromSeconds(60);
        _router.Options.TcpKeepaliveInterval = TimeSpan.FromSeconds(10);
        if (host.Contains(':', StringComparison.Ordinal)) _router.Options.IPv4Only = false;
        var bound = port;
        if (port == 0) bound = _router.BindRandomPort($"tcp://{address}");
        else _router.Bind($"tcp://{address}:{port}");
        Endpoint = $"tcp://{address}:{bound}";
        _outbox = new NetMQQueue<NetMQMessage>();
        _outbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var answer, TimeSpan.Zero)) _router.TrySendMultipartMessage(answer);
        };
        _router.ReceiveReady += (_, e) =>
        {
            try
            {
                Receive(e.Socket);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The poller's thread must live on: what failed is unanswered and will be sent again.
                log.LogError(ex, "zeromq: reading a batch failed");
            }
        };
        _poller = [_router, _outbox];
        _poller.RunAsync("nwdp-zeromq", isBackgroundThread: true);
        log.LogInformation("zeromq listening on {Endpoint}", Endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_poller is null) return;
        _stopping = true;
        Task[] running;
        lock (_gate) running = [.. _batches.Values];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(config.ShutdownTimeout);
        try
        {
            await Task.WhenAll(running).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("zeromq: batches in flight not durable by the shutdown timeout; left unanswered (the clients send them again)");
        }
        _giveUp.Cancel();
        try
        {
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Given up above.
        }
        // The answers queued so far go to the socket on the poller's thread; then the loop ends and the socket closes,
        // its linger giving them time to leave.
        await Task.Factory.StartNew(() =>
        {
            while (_outbox!.TryDequeue(out var answer, TimeSpan.Zero)) _router!.TrySendMultipartMessage(answer);
        }, CancellationToken.None, TaskCreationOptions.None, _poller);
        _poller.Stop();
        _poller.Dispose();
        _router!.Dispose();
        _outbox!.Dispose();
        log.LogInformation("zeromq: stopped listening on {Endpoint}", Endpoint);
    }

    /// <summary>On the poller's thread: what arrived now, each batch started on the thread pool.</summary>
    private void Receive(NetMQSocket router)
    {
        var message = new NetMQMessage();
        for (var i = 0; i < 256 && router.TryReceiveMultipartMessage(ref message); i++)
        {
            if (_stopping) continue; // not taken: the client sends it again
            var route = message[0].ToByteArray();
            var frames = new List<ReadOnlyMemory<byte>>(message.FrameCount);
            var start = message.FrameCount > 1 && message[1].MessageSize == 0 ? 2 : 1; // the empty delimiter, as REQ and DEALER send it
            for (var f = start; f < message.FrameCount; f++) frames.Add(message[f].Buffer.AsMemory(0, message[f].MessageSize));
            if (!ZeroMqWire.TryReadRequest(frames, out var request, out var requestId, out var error))
            {
                if (requestId is null)
                {
                    _ingress.Metrics.ZeroMqBatch("malformed");
                    log.LogWarning("zeromq: a message of {Frames} frames dropped, no answer possible: {Error}", message.FrameCount, error);
                }
                else
                {
                    Answer(route, _ingress.Counted(ZeroMqAnswer.Refuse(requestId, error!.StartsWith("unknown format", StringComparison.Ordinal) ? 415 : 400, "malformed", error)));
                }
                message = new NetMQMessage();
                continue;
            }
            message = new NetMQMessage();
            switch (_tracker.Arrive(request.RequestId, route, out var accepted))
            {
                case ZeroMqBatchTracker.Arrival.AlreadyDurable:
                    _ingress.Metrics.ZeroMqBatch("duplicate");
                    Answer(route, ZeroMqAnswer.Accept(request.RequestId, accepted));
                    break;
                case ZeroMqBatchTracker.Arrival.Joined:
                    break; // answered with the first copy
                case ZeroMqBatchTracker.Arrival.Full:
                    Answer(route, _ingress.Counted(ZeroMqAnswer.Refuse(request.RequestId, 429, "too_many_batches",
                        $"{Options.MaxInFlightBatches} batches are being made durable (nwdp.inputs.zeromq.max-in-flight-batches); retry later",
                        retryAfter: config.Ingress.RetryAfter)));
                    break;
                default:
                    Start(request);
                    break;
            }
        }
    }

    private void Start(ZeroMqRequest request)
    {
        var id = Interlocked.Increment(ref _batchIds);
        lock (_gate)
        {
            _batches[id] = Task.Run(async () =>
            {
                ZeroMqAnswer? answer = null;
                try
                {
                    answer = await _ingress.HandleAsync(request, _giveUp.Token);
                }
                catch (Exception e)
                {
                    log.LogError(e, "zeromq: batch {Id} failed", ZeroMqWire.IdText(request.RequestId));
                    answer = ZeroMqAnswer.Refuse(request.RequestId, 503, "failed", "the node failed to take the batch: " + e.Message, retryAfter: config.Ingress.RetryAfter);
                }
                finally
                {
                    var kind = answer is null ? ZeroMqAnswerKind.Unanswered : answer.Durable ? ZeroMqAnswerKind.Durable : ZeroMqAnswerKind.Refused;
                    foreach (var route in _tracker.Finish(request.RequestId, kind, answer?.Accepted ?? 0)) Answer(route, answer!);
                    lock (_gate) _batches.Remove(id);
                }
            });
        }
    }

    /// <summary>Queues an answer for the poller's thread (the socket is not thread-safe).</summary>
    private void Answer(byte[] route, ZeroMqAnswer answer)
    {
        var message = new NetMQMessage(5);
        message.Append(route);
        message.AppendEmptyFrame();
        foreach (var frame in ZeroMqWire.AnswerFrames(answer)) message.Append(frame);
        _outbox!.Enqueue(message);
    }
}

public static class ZeroMqHosting
{
    /// <summary>The ZeroMQ input (<c>nwdp.inputs.zeromq</c>), after the bus writer so it stops before it.</summary>
    public static IServiceCollection AddZeroMqInput(this IServiceCollection services) => services
        .AddSingleton<ZeroMqIngress>()
        .AddSingleton<ZeroMqService>()
        .AddHostedService(sp => sp.GetRequiredService<ZeroMqService>());
}
