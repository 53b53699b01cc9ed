using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using NetMQ;
using NetMQ.Sockets;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// How <c>nwdp bench</c> sends a batch to an input that is not HTTP (<see cref="BenchFormat.CreateTransport"/>):
/// syslog over TCP (<see cref="SyslogTcp"/>) and ZeroMQ (<see cref="ZeroMq"/>). Worker <c>i</c> of the run always
/// passes <c>i</c>, so a transport may keep one connection per worker.
/// </summary>
public abstract class BenchTransport : IAsyncDisposable
{
    /// <summary>
    /// Sends one batch (the format's encoded body of <paramref name="events"/> events) and tells how it was
    /// answered. A transport failure throws <see cref="IOException"/> or <see cref="SocketException"/>.
    /// </summary>
    public abstract Task<BenchAnswer> SendAsync(int worker, ReadOnlyMemory<byte> body, int events, CancellationToken timeout);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Syslog over TCP (<c>nwdp.inputs.syslog.tcp-port</c>): one connection per worker, RFC 5424 messages with
    /// octet-counting framing (RFC 6587). Syslog over TCP has no acknowledgement: a batch counts as accepted once it
    /// was written to the socket (the node reads a connection only while the bus can take its batches, so TCP
    /// slows the bench down as it would slow rsyslog). Whether the events arrived is for <c>--e2e</c> to tell.
    /// </summary>
    public sealed class SyslogTcp(string host, int port, int workers) : BenchTransport
    {
        private readonly TcpClient?[] _connections = new TcpClient?[workers];

        public override async Task<BenchAnswer> SendAsync(int worker, ReadOnlyMemory<byte> body, int events, CancellationToken timeout)
        {
            var connection = _connections[worker];
            if (connection is null)
            {
                connection = new TcpClient { NoDelay = false, SendBufferSize = 1 << 20 };
                try
                {
                    await connection.ConnectAsync(host, port, timeout).ConfigureAwait(false);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
                _connections[worker] = connection;
            }
            try
            {
                await connection.GetStream().WriteAsync(body, timeout).ConfigureAwait(false);
                return BenchAnswer.Taken;
            }
            catch
            {
                // A batch cut short: the next one starts on a new connection (the node drops the torn frame).
                _connections[worker] = null;
                connection.Dispose();
                throw;
            }
        }

        public override ValueTask DisposeAsync()
        {
            foreach (var connection in _connections) connection?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// The ZeroMQ input (<c>nwdp.inputs.zeromq</c>, wire format <see cref="ZeroMqWire"/>): one DEALER socket for the
    /// run, owned by a poller thread, with a batch in flight per worker; a batch is accepted when the node answered it
    /// durable (200), and 429/503 are resent by the runner after the node's hint, as for HTTP. (The node's assemblies do
    /// not reference NeverwinterDP.Client, so this is not its <c>ZeroMqEmitter</c>; the frames are the same.)
    /// </summary>
    public sealed class ZeroMq : BenchTransport
    {
        private readonly DealerSocket _dealer = new();
        private readonly NetMQQueue<byte[][]> _outgoing = new();
        private readonly NetMQPoller _poller;
        private readonly ConcurrentDictionary<string, TaskCompletionSource<ZeroMqAnswer>> _pending = new();
        private readonly byte[] _session = RandomNumberGenerator.GetBytes(16);
        private long _sequence;

        public ZeroMq(string endpoint, int workers)
        {
            _dealer.Options.Linger = TimeSpan.Zero;
            _dealer.Options.SendHighWatermark = workers + 16;
            _dealer.Options.ReceiveHighWatermark = workers + 16;
            _dealer.ReceiveReady += (_, e) =>
            {
                var message = new NetMQMessage();
                while (e.Socket.TryReceiveMultipartMessage(ref message))
                {
                    var start = message.FrameCount > 0 && message[0].MessageSize == 0 ? 1 : 0;
                    var frames = new List<ReadOnlyMemory<byte>>(message.FrameCount);
                    for (var f = start; f < message.FrameCount; f++) frames.Add(message[f].Buffer.AsMemory(0, message[f].MessageSize));
                    message = new NetMQMessage();
                    if (ZeroMqWire.ReadAnswer(frames) is { } answer && _pending.TryRemove(Convert.ToHexString(answer.RequestId), out var done))
                        done.TrySetResult(answer);
                }
            };
            _outgoing.ReceiveReady += (_, e) =>
            {
                while (e.Queue.TryDequeue(out var frames, TimeSpan.Zero))
                {
                    var message = new NetMQMessage(4);
                    message.AppendEmptyFrame();
                    foreach (var frame in frames) message.Append(frame);
                    _dealer.SendMultipartMessage(message); // at most one batch per worker: under the high watermark
                }
            };
            _dealer.Connect(endpoint);
            _poller = [_dealer, _outgoing];
            _poller.RunAsync("nwdp-bench-zeromq", isBackgroundThread: true);
        }

        public override async Task<BenchAnswer> SendAsync(int worker, ReadOnlyMemory<byte> body, int events, CancellationToken timeout)
        {
            var id = new byte[_session.Length + 8];
            _session.CopyTo(id, 0);
            BinaryPrimitives.WriteInt64BigEndian(id.AsSpan(_session.Length), Interlocked.Increment(ref _sequence));
            var key = Convert.ToHexString(id);
            var done = new TaskCompletionSource<ZeroMqAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[key] = done;
            _outgoing.Enqueue(ZeroMqWire.RequestFrames(id, ZeroMqWire.Ndjson, body.Span));
            try
            {
                var answer = await done.Task.WaitAsync(timeout).ConfigureAwait(false);
                return answer.Durable ? BenchAnswer.Taken : new BenchAnswer(answer.Status, $"{answer.Status} {answer.Reason}: {answer.Error}", answer.RetryAfter);
            }
            finally
            {
                _pending.TryRemove(key, out _);
            }
        }

        public override ValueTask DisposeAsync()
        {
            _poller.Stop();
            _poller.Dispose();
            _dealer.Dispose();
            _outgoing.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>How a non-HTTP input answered a batch: <see cref="Status"/> in HTTP's codes (200 taken), <see cref="Error"/> for a refusal.</summary>
/// <param name="RetryAfter">For 429/503: when to send the batch again (the node's hint).</param>
public sealed record BenchAnswer(int Status, string? Error = null, TimeSpan? RetryAfter = null)
{
    public static BenchAnswer Taken { get; } = new(200);
}
