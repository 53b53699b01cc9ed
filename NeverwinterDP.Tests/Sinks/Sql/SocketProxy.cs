using System.Net.Sockets;

namespace NeverwinterDP.Tests.Sinks.Sql;

/// <summary>
/// A unix-socket relay in front of a database server, to take the server out of reach and back: <see cref="Cut"/>
/// drops every relayed connection and removes the socket (new connections are refused), <see cref="Restore"/>
/// listens again. The server itself keeps running, so the outage costs no restart.
/// </summary>
public sealed class SocketProxy : IAsyncDisposable
{
    private readonly string _listenPath;
    private readonly string _targetPath;
    private readonly List<Socket> _open = new();
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;

    public SocketProxy(string listenPath, string targetPath)
    {
        _listenPath = listenPath;
        _targetPath = targetPath;
        Restore();
    }

    /// <summary>Connections relayed so far.</summary>
    public int Accepted { get; private set; }

    public void Restore()
    {
        if (_listener is not null) return;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_listenPath));
        listener.Listen(64);
        _listener = listener;
        _accepting = AcceptAsync(listener);
    }

    public void Cut()
    {
        var listener = _listener;
        _listener = null;
        listener?.Dispose();
        File.Delete(_listenPath);
        lock (_open)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        await _accepting.ConfigureAwait(false);
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await server.ConnectAsync(new UnixDomainSocketEndPoint(_targetPath)).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            Accepted++;
            lock (_open)
            {
                _open.Add(client);
                _open.Add(server);
            }
            _ = RelayAsync(client, server);
            _ = RelayAsync(server, client);
        }
    }

    private static async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0) break;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side went away (or the proxy was cut): the other side is closed by Cut or sees the end.
        }
    }
}
