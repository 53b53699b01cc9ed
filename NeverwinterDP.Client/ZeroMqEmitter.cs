using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using NetMQ;
using NetMQ.Sockets;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Client;

/// <summary>
/// Sends batches of events to a node's ZeroMQ input (<c>nwdp.inputs.zeromq</c>, docs/inputs.md#zeromq) over one
/// DEALER socket, without Akka. A batch's task completes once the node answered that it is durable (in Kafka or
/// spilled); a batch refused for good (malformed, too large) fails with <see cref="ZeroMqRefusedException"/>.
/// At least once: a batch not answered within <see cref="ZeroMqEmitterOptions.AckTimeout"/> is sent again on a new
/// connection, and a 429/503 answer sends it again after the node's retry hint. The node answers a resent batch it
/// already made durable without taking it twice (it remembers the last ids); a duplicate is possible only when the
/// node restarted after the batch became durable and before its answer arrived.
/// </summary>
/// <remarks>One poller thread owns the socket; <see cref="SendAsync(IReadOnlyList{LogEvent}, CancellationToken)"/> may be called from any thread.</remarks>
public sealed class ZeroMqEmitter : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    private readonly ZeroMqEmitterOptions _options;
    private readonly byte[] _session = RandomNumberGenerator.GetBytes(16);
    private readonly string _format;
    private readonly SemaphoreSlim _slots;
    private readonly NetMQQueue<Pending> _submissions = new();
    private readonly NetMQTimer _timer = new(Tick);
    private readonly NetMQPoller _poller;
    private readonly Dictionary<string, Pending> _pending = []; // the poller thread's only
    private readonly CancellationTokenSource _stopped = new();
    private DealerSocket _dealer;
    private long _sequence;
    private int _disposed;

    public ZeroMqEmitter(ZeroMqEmitterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingBatches, 1);
        _options = options;
        _format = ZeroMqWire.Ndjson + (string.IsNullOrEmpty(options.Type) ? "" : ";type=" + options.Type);
        _slots = new SemaphoreSlim(options.MaxPendingBatches, options.MaxPendingBatches);
        _dealer = Connect();
        _submissions.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var pending, TimeSpan.Zero))
            {
                _pending[pending.Key] = pending;
                Send(pending);
            }
        };
        _timer.Elapsed += (_, _) => OnTick();
        _poller = [_dealer, _submissions, _timer];
        _poller.RunAsync("nwdp-zeromq-emitter", isBackgroundThread: true);
    }

    public ZeroMqEmitterMetrics Metrics { get; } = new();

    /// <summary>
    /// Sends <paramref name="events"/> as one batch (NDJSON) and completes with the count the node made durable.
    /// Waits first while <see cref="ZeroMqEmitterOptions.MaxPendingBatches"/> batches are pending. Cancelling stops the
    /// wait, not the batch once it is handed over (it may still become durable).
    /// </summary>
    public Task<int> SendAsync(IReadOnlyList<LogEvent> events, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return SendAsync(Ndjson(events), cancellation);
    }

    /// <summary>Sends an NDJSON payload as one batch (see <see cref="SendAsync(IReadOnlyList{LogEvent}, CancellationToken)"/>).</summary>
    public async Task<int> SendAsync(ReadOnlyMemory<byte> ndjson, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (ndjson.Length > _options.MaxBatchBytes)
            throw new ArgumentException($"the batch is {ndjson.Length} bytes; the limit is {_options.MaxBatchBytes} (ZeroMqEmitterOptions.MaxBatchBytes): send smaller batches", nameof(ndjson));
        await _slots.WaitAsync(cancellation).ConfigureAwait(false);
        var id = new byte[_session.Length + 8];
        _session.CopyTo(id, 0);
        BinaryPrimitives.WriteInt64BigEndian(id.AsSpan(_session.Length), Interlocked.Increment(ref _sequence));
        var pending = new Pending(id, ZeroMqWire.RequestFrames(id, _format, ndjson.Span));
        Interlocked.Increment(ref Metrics._pendingBatches);
        _ = pending.Done.Task.ContinueWith(_ =>
        {
            Interlocked.Decrement(ref Metrics._pendingBatches);
            _slots.Release();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (_disposed != 0)
        {
            pending.Done.TrySetException(new ObjectDisposedException(nameof(ZeroMqEmitter)));
        }
        else
        {
            _submissions.Enqueue(pending);
        }
        return await pending.Done.Task.WaitAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>Waits up to <see cref="ZeroMqEmitterOptions.FlushTimeout"/> for pending batches to be acknowledged; the rest fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var deadline = Stopwatch.StartNew();
        while (Metrics.PendingBatches > 0 && deadline.Elapsed < _options.FlushTimeout) await Task.Delay(20).ConfigureAwait(false);
        await _stopped.CancelAsync().ConfigureAwait(false);
        await Task.Factory.StartNew(() =>
        {
            foreach (var pending in _pending.Values) Fail(pending, new TimeoutException("the emitter stopped before the node acknowledged the batch"));
            _pending.Clear();
            while (_submissions.TryDequeue(out var late, TimeSpan.Zero)) Fail(late, new ObjectDisposedException(nameof(ZeroMqEmitter)));
        }, CancellationToken.None, TaskCreationOptions.None, _poller).ConfigureAwait(false);
        _poller.Stop();
        _poller.Dispose();
        _dealer.Options.Linger = TimeSpan.Zero;
        _dealer.Dispose();
        _submissions.Dispose();
        _stopped.Dispose();
    }

    private DealerSocket Connect()
    {
        var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        // Room for every pending batch: a send never blocks the poller.
        dealer.Options.SendHighWatermark = _options.MaxPendingBatches + 16;
        dealer.Options.ReceiveHighWatermark = _options.MaxPendingBatches + 16;
        dealer.Options.ReconnectInterval = TimeSpan.FromMilliseconds(100);
        dealer.Options.ReconnectIntervalMax = TimeSpan.FromSeconds(2);
        dealer.ReceiveReady += (_, e) => Receive(e.Socket);
        dealer.Connect(_options.Endpoint);
        return dealer;
    }

    /// <summary>
    /// Lazy Pirate: a new socket, so that copies queued on the old one are dropped with it and answers come to the
    /// new one; every pending batch is sent again on it.
    /// </summary>
    private void Reconnect()
    {
        _poller.Remove(_dealer);
        _dealer.Dispose();
        _dealer = Connect();
        _poller.Add(_dealer);
        Interlocked.Increment(ref Metrics._reconnects);
        foreach (var pending in _pending.Values) pending.SentAt = null;
    }

    private void Send(Pending pending)
    {
        var message = new NetMQMessage(4);
        message.AppendEmptyFrame();
        foreach (var frame in pending.Frames) message.Append(frame);
        if (!_dealer.TrySendMultipartMessage(message)) return; // the socket's queue is full: sent on a later tick
        if (pending.Attempts++ > 0) Interlocked.Increment(ref Metrics._resends);
        pending.SentAt = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref Metrics._batchesSent);
    }

    private void OnTick()
    {
        var now = Stopwatch.GetTimestamp();
        if (_pending.Values.Any(p => p.SentAt is { } sent && Stopwatch.GetElapsedTime(sent, now) > _options.AckTimeout))
        {
            Interlocked.Increment(ref Metrics._timeouts);
            Reconnect();
        }
        foreach (var pending in _pending.Values)
        {
            if (pending.SentAt is null && pending.NotBefore <= now) Send(pending);
        }
    }

    private void Receive(NetMQSocket socket)
    {
        var message = new NetMQMessage();
        while (socket.TryReceiveMultipartMessage(ref message))
        {
            var start = message.FrameCount > 0 && message[0].MessageSize == 0 ? 1 : 0;
            var frames = new List<ReadOnlyMemory<byte>>(message.FrameCount);
            for (var f = start; f < message.FrameCount; f++) frames.Add(message[f].Buffer.AsMemory(0, message[f].MessageSize));
            message = new NetMQMessage();
            if (ZeroMqWire.ReadAnswer(frames) is not { } answer || !_pending.TryGetValue(Convert.ToHexString(answer.RequestId), out var pending)) continue;
            if (answer.Durable)
            {
                _pending.Remove(pending.Key);
                Interlocked.Increment(ref Metrics._batchesAcked);
                Interlocked.Add(ref Metrics._eventsAcked, answer.Accepted);
                pending.Done.TrySetResult(answer.Accepted);
            }
            else if (answer.Transient)
            {
                Interlocked.Increment(ref Metrics._refusals);
                pending.SentAt = null;
                pending.NotBefore = Stopwatch.GetTimestamp() + (long)((answer.RetryAfter ?? _options.RetryAfter).TotalSeconds * Stopwatch.Frequency);
            }
            else
            {
                _pending.Remove(pending.Key);
                Fail(pending, new ZeroMqRefusedException(answer));
            }
        }
    }

    private void Fail(Pending pending, Exception error)
    {
        if (pending.Done.TrySetException(error)) Interlocked.Increment(ref Metrics._batchesFailed);
    }

    /// <summary>The batch as NDJSON, one object per event with <c>/v1/events</c>' field names; empty fields are left out (the node fills them in).</summary>
    private byte[] Ndjson(IReadOnlyList<LogEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * Math.Max(1, events.Count));
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var e in events)
        {
            json.Reset(buffer);
            json.WriteStartObject();
            if (e.Ts != 0) json.WriteNumber("ts", e.Ts);
            json.WriteString("host", string.IsNullOrEmpty(e.Host) ? _options.Host : e.Host);
            if (!string.IsNullOrEmpty(e.Ip)) json.WriteString("ip", e.Ip);
            json.WriteString("process", string.IsNullOrEmpty(e.Process) || e.Process == LogEvent.DefaultProcess ? _options.Process : e.Process);
            if (!string.IsNullOrEmpty(e.Type) && e.Type != LogEvent.DefaultType) json.WriteString("type", e.Type);
            if (!string.IsNullOrEmpty(e.Version)) json.WriteString("version", e.Version);
            if (!string.IsNullOrEmpty(e.Level)) json.WriteString("level", e.Level);
            json.WriteString("msg", e.Message ?? "");
            if (e.Attributes.Count > 0)
            {
                json.WriteStartObject("attributes");
                foreach (var (key, value) in e.Attributes) json.WriteString(key, value);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.Flush();
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class Pending(byte[] id, byte[][] frames)
    {
        public byte[] Id { get; } = id;

        public string Key { get; } = Convert.ToHexString(id);

        public byte[][] Frames { get; } = frames;

        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When it was last sent (Stopwatch ticks); null = to be sent.</summary>
        public long? SentAt { get; set; }

        /// <summary>Not sent again before this (Stopwatch ticks): a 429/503's retry hint.</summary>
        public long NotBefore { get; set; }

        public int Attempts { get; set; }
    }
}

/// <summary>The node refused a batch for good (400 malformed, 413 too large, 415 unknown format): sending it again would fail the same way.</summary>
public sealed class ZeroMqRefusedException(ZeroMqAnswer answer)
    : Exception($"the node refused the batch ({answer.Status} {answer.Reason}): {answer.Error}{(answer.Line is { } line ? $" (line {line})" : "")}")
{
    public ZeroMqAnswer Answer { get; } = answer;
}
