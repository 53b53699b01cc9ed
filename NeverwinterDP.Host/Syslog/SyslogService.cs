using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using NeverwinterDP.Actors;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Syslog;

/// <summary>
/// Runs the syslog listeners of <c>nwdp.inputs.syslog</c> (TCP, TLS, UDP, RELP) on a node with the ingress role.
/// Registered after the bus writer, so it stops first: it stops accepting and reading, lets the batches in
/// flight become durable (RELP answers them, then says <c>serverclose</c>), and gives up on what the bus has
/// not taken by the shutdown timeout (RELP senders send those again).
/// </summary>
public sealed class SyslogService(IServiceProvider services, NodeConfig config, ReloadingCertificate? certificate, ILogger<SyslogService> log) : IHostedService
{
    // Resolved at start, after the actor system: the ingress's observers reach shard regions.
    private SyslogIngress _ingress = null!;

    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _giveUp = new();
    private readonly List<IDisposable> _sockets = [];
    private readonly List<Task> _loops = [];
    private readonly Dictionary<int, Task> _connections = [];
    private readonly Lock _gate = new();
    private int _connectionIds;
    private int _open;

    /// <summary>The bound address of each listener that is on (port 0 resolved), by name: tcp, tls, udp, relp.</summary>
    public IReadOnlyDictionary<string, IPEndPoint> Endpoints => _endpoints;

    private readonly Dictionary<string, IPEndPoint> _endpoints = [];

    private SyslogOptions Options => config.Syslog;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Options.AnyListener) return Task.CompletedTask;
        if (!config.Cluster.HasRole(NodeRoles.Ingress))
        {
            log.LogWarning("nwdp.inputs.syslog: listeners configured but this node does not have the '{Role}' role; not listening", NodeRoles.Ingress);
            return Task.CompletedTask;
        }
        _ingress = services.GetRequiredService<SyslogIngress>();
        if (Options.TlsPort is not null && certificate is null)
            throw new ArgumentException("nwdp.inputs.syslog.tls-port needs a certificate: set nwdp.security.tls.cert-file (--tls-cert)");
        var address = Options.Host.Length == 0 ? IPAddress.Loopback : AdminOptions.ListenAddress(Options.Host);
        if (Options.TcpPort is { } tcp) Listen("tcp", address, tcp, (s, id) => ServeSyslogStreamAsync(s, "tcp", tls: false, id));
        if (Options.TlsPort is { } tls) Listen("tls", address, tls, (s, id) => ServeSyslogStreamAsync(s, "tls", tls: true, id));
        if (Options.RelpPort is { } relp) Listen("relp", address, relp, ServeRelpAsync);
        if (Options.UdpPort is { } udp)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 4 << 20);
            socket.Bind(new IPEndPoint(address, udp));
            _sockets.Add(socket);
            _endpoints["udp"] = (IPEndPoint)socket.LocalEndPoint!;
            _loops.Add(Task.Run(() => ServeUdpAsync(socket)));
        }
        foreach (var (name, endpoint) in _endpoints) log.LogInformation("syslog {Listener} listening on {Endpoint}", name, endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_sockets.Count == 0) return;
        _stopReading.Cancel();
        foreach (var socket in _sockets) socket.Dispose();
        Task[] running;
        lock (_gate) running = [.. _loops, .. _connections.Values];
        // What is in flight gets the shutdown timeout to become durable; then it is given up (nothing was promised).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(config.ShutdownTimeout);
        try
        {
            await Task.WhenAll(running).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("syslog: batches in flight not durable by the shutdown timeout; given up (RELP senders send them again)");
        }
        catch (Exception e)
        {
            log.LogDebug(e, "syslog: a listener ended with an error");
        }
        _giveUp.Cancel();
        try
        {
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or IOException or SocketException)
        {
            // Given up above.
        }
    }

    private void Listen(string name, IPAddress address, int port, Func<Socket, int, Task> serve)
    {
        var listener = new TcpListener(address, port);
        if (address.Equals(IPAddress.IPv6Any)) listener.Server.DualMode = true;
        listener.Start(512);
        _sockets.Add(new Stopper(listener.Stop));
        _endpoints[name] = (IPEndPoint)listener.LocalEndpoint;
        _loops.Add(Task.Run(() => AcceptAsync(name, listener, serve)));
    }

    private async Task AcceptAsync(string name, TcpListener listener, Func<Socket, int, Task> serve)
    {
        while (!_stopReading.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stopReading.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopReading.IsCancellationRequested) return;
                log.LogWarning("syslog {Listener}: accept failed: {Error}", name, e.Message);
                continue;
            }
            if (Interlocked.Increment(ref _open) > Options.MaxConnections)
            {
                Interlocked.Decrement(ref _open);
                log.LogWarning("syslog {Listener}: connection from {Remote} closed: {Max} connections are open (nwdp.inputs.syslog.max-connections)", name, socket.RemoteEndPoint, Options.MaxConnections);
                _ingress.Metrics.SyslogConnectionClosed(name, "too_many_connections");
                socket.Dispose();
                continue;
            }
            socket.NoDelay = true;
            var id = Interlocked.Increment(ref _connectionIds);
            lock (_gate)
            {
                _connections[id] = Task.Run(async () =>
                {
                    try
                    {
                        await serve(socket, id);
                    }
                    catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
                    {
                        log.LogDebug("syslog {Listener}: connection from {Remote} ended: {Error}", name, socket.RemoteEndPoint, e.Message);
                    }
                    catch (Exception e)
                    {
                        log.LogError(e, "syslog {Listener}: connection failed", name);
                    }
                    finally
                    {
                        socket.Dispose();
                        Interlocked.Decrement(ref _open);
                        lock (_gate) _connections.Remove(id);
                    }
                });
            }
        }
    }

    /// <summary>Syslog over TCP or TLS: frames read and made durable one read at a time; broken framing closes the connection.</summary>
    private async Task ServeSyslogStreamAsync(Socket socket, string listener, bool tls, int id)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        await using var stream = tls ? await AuthenticateAsync(socket) : new NetworkStream(socket, ownsSocket: false);
        var max = Options.MaxMessageBytes;
        var buffer = new byte[Math.Max(64 * 1024, max + 16)];
        int start = 0, end = 0;
        while (true)
        {
            var read = await ReadAsync(stream, buffer.AsMemory(end));
            if (read < 0) return; // the node stops
            end += read;
            var atEnd = read == 0;
            var context = _ingress.Context(remote);
            var events = new List<LogEvent>();
            long bytes = 0;
            string? broken = null;
            while (start < end)
            {
                var status = SyslogFraming.TryRead(buffer.AsSpan(start, end - start), max, atEnd, out var payload, out var consumed, out var error);
                if (status == FrameStatus.NeedMore) break;
                if (status == FrameStatus.Broken)
                {
                    broken = error;
                    break;
                }
                var message = buffer.AsSpan(start, end - start)[payload];
                start += consumed;
                if (_ingress.Parse(message, context, out var refusal) is { } logEvent)
                {
                    events.Add(logEvent);
                    bytes += message.Length;
                }
                else if (message.Length > 0)
                {
                    _ingress.Refused(listener, $"{refusal} (from {remote}: '{SyslogFraming.Printable(message)}')");
                }
            }
            if (events.Count > 0 && await _ingress.SubmitAsync(events, context, bytes, listener, _giveUp.Token) is null) return;
            if (broken is not null)
            {
                log.LogWarning("syslog {Listener}: connection from {Remote} closed: {Error}", listener, remote, broken);
                _ingress.Metrics.SyslogConnectionClosed(listener, "bad_framing");
                return;
            }
            if (atEnd) return;
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }
    }

    /// <summary>
    /// RELP: <c>open</c> answered with our offers, each <c>syslog</c> frame answered <c>200 OK</c> once durable or
    /// <c>500</c> with the reason, <c>close</c> answered and the connection closed; broken framing gets
    /// <c>serverclose</c> and the connection is closed. Frames of one read go to the bus as one batch.
    /// </summary>
    private async Task ServeRelpAsync(Socket socket, int id)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var max = Options.MaxMessageBytes;
        var buffer = new byte[Math.Max(64 * 1024, max + 64)];
        int start = 0, end = 0;
        var open = false;
        while (true)
        {
            var read = await ReadAsync(stream, buffer.AsMemory(end));
            if (read < 0)
            {
                await WriteQuietlyAsync(stream, RelpFraming.ServerClose);
                return;
            }
            end += read;
            var context = _ingress.Context(remote);
            var events = new List<LogEvent>();
            // In frame order: a syslog frame's event index, or an answer decided at once.
            var answers = new List<(long Txnr, int Event, string? Data)>();
            long bytes = 0;
            string? broken = null;
            var closing = false;
            while (start < end && !closing)
            {
                var status = RelpFraming.TryRead(buffer.AsSpan(start, end - start), max, out var frame, out var consumed, out var error);
                if (status == FrameStatus.NeedMore) break;
                if (status == FrameStatus.Broken)
                {
                    broken = error;
                    break;
                }
                var data = buffer.AsSpan(start, end - start)[frame.Data];
                start += consumed;
                switch (frame.Command)
                {
                    case "open":
                        answers.Add((frame.Txnr, -1, open ? "200 connection already open - ignored" : "200 OK\n" + RelpFraming.Offers));
                        open = true;
                        break;
                    case "syslog" when !open:
                        answers.Add((frame.Txnr, -1, "500 the session is not open (send 'open' first)"));
                        break;
                    case "syslog":
                        if (_ingress.Parse(data, context, out var refusal) is { } logEvent)
                        {
                            answers.Add((frame.Txnr, events.Count, null));
                            events.Add(logEvent);
                            bytes += data.Length;
                        }
                        else
                        {
                            _ingress.Refused("relp", $"{refusal} (from {remote}, txnr {frame.Txnr})");
                            answers.Add((frame.Txnr, -1, "500 " + refusal));
                        }
                        break;
                    case "close":
                        answers.Add((frame.Txnr, -1, ""));
                        closing = true;
                        break;
                    default:
                        answers.Add((frame.Txnr, -1, $"500 unknown command '{frame.Command}'"));
                        break;
                }
            }
            var verdicts = await _ingress.SubmitAsync(events, context, bytes, "relp", _giveUp.Token);
            if (verdicts is null) return; // the node stops before they were durable: unanswered, the sender sends them again
            if (answers.Count > 0)
            {
                var response = new MemoryStream();
                foreach (var (txnr, index, answer) in answers)
                {
                    var text = answer ?? (verdicts[index].Durable ? "200 OK" : "500 " + verdicts[index].Refusal);
                    response.Write(RelpFraming.Response(txnr, OneLine(text, answer is not null && answer.StartsWith("200 OK\n", StringComparison.Ordinal))));
                }
                await stream.WriteAsync(response.GetBuffer().AsMemory(0, (int)response.Length), _giveUp.Token);
            }
            if (closing) return;
            if (broken is not null)
            {
                log.LogWarning("relp: connection from {Remote} closed: {Error}", remote, broken);
                _ingress.Metrics.SyslogConnectionClosed("relp", "bad_framing");
                await WriteQuietlyAsync(stream, RelpFraming.ServerClose);
                return;
            }
            if (read == 0) return;
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }
    }

    /// <summary>One datagram, one message; what arrived together goes to the bus as one batch.</summary>
    private async Task ServeUdpAsync(Socket socket)
    {
        const int batchBytes = 1 << 20;
        var buffer = new byte[batchBytes + 65536];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stopReading.IsCancellationRequested)
        {
            var used = 0;
            var events = new List<LogEvent>();
            IngressContext? first = null;
            try
            {
                do
                {
                    var received = await socket.ReceiveFromAsync(buffer.AsMemory(used, 65536), SocketFlags.None, any, _stopReading.Token);
                    var remote = received.RemoteEndPoint as IPEndPoint;
                    var message = buffer.AsSpan(used, received.ReceivedBytes);
                    if (message.Length > Options.MaxMessageBytes)
                    {
                        _ingress.Metrics.SyslogMessages("udp", "dropped");
                        log.LogWarning("syslog udp: datagram of {Bytes} bytes from {Remote} dropped: larger than max-message-bytes ({Max})", message.Length, remote, Options.MaxMessageBytes);
                        continue;
                    }
                    var context = _ingress.Context(remote);
                    first ??= context;
                    if (_ingress.Parse(message, context, out var refusal) is { } logEvent)
                    {
                        events.Add(logEvent);
                        used += message.Length;
                    }
                    else if (message.Length > 0)
                    {
                        _ingress.Refused("udp", $"{refusal} (from {remote}: '{SyslogFraming.Printable(message)}')");
                    }
                }
                while (socket.Available > 0 && used < batchBytes && events.Count < 4096);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                if (events.Count == 0) return;
            }
            catch (SocketException e)
            {
                if (_stopReading.IsCancellationRequested && events.Count == 0) return;
                log.LogDebug("syslog udp: receive failed: {Error}", e.Message);
            }
            if (events.Count > 0 && await _ingress.SubmitAsync(events, first!, used, "udp", _giveUp.Token) is null) return;
        }
    }

    private async Task<Stream> AuthenticateAsync(Socket socket)
    {
        var cert = certificate!;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopReading.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateSelectionCallback = (_, _) => cert.Current,
            ClientCertificateRequired = cert.ClientCas is not null,
            RemoteCertificateValidationCallback = (_, c, _, _) => cert.ClientCas is null || (c is not null && cert.ValidateClient(c as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(c.GetRawCertData()))),
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        }, timeout.Token);
        return ssl;
    }

    /// <summary>Bytes read; 0 at the sender's end; -1 when the node stops reading.</summary>
    private async Task<int> ReadAsync(Stream stream, Memory<byte> into)
    {
        try
        {
            return await stream.ReadAsync(into, _stopReading.Token);
        }
        catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
        {
            return -1;
        }
    }

    private async Task WriteQuietlyAsync(Stream stream, byte[] bytes)
    {
        try
        {
            await stream.WriteAsync(bytes, _giveUp.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone already.
        }
    }

    /// <summary>An answer's text on one line (the open answer's offers keep theirs).</summary>
    private static string OneLine(string text, bool keepLines) =>
        keepLines ? text : text.Replace('\n', ' ').Replace('\r', ' ');

    private sealed class Stopper(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }
}

public static class SyslogHosting
{
    /// <summary>The syslog and RELP listeners (<c>nwdp.inputs.syslog</c>), after the bus writer so they stop before it.</summary>
    /// <param name="certificate">The ingress listener's certificate, for the TLS listener.</param>
    public static IServiceCollection AddSyslogInputs(this IServiceCollection services, Func<IServiceProvider, ReloadingCertificate?> certificate) => services
        .AddSingleton<SyslogIngress>()
        .AddSingleton(sp => new SyslogService(sp, sp.GetRequiredService<NodeConfig>(), certificate(sp), sp.GetRequiredService<ILogger<SyslogService>>()))
        .AddHostedService(sp => sp.GetRequiredService<SyslogService>());
}
