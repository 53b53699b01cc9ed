using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Makaretu.Dns;

namespace NeverwinterDP.Protocol.Discovery;

/// <summary>
/// Multicast DNS on the wire (RFC 6762, IPv4): one UDP socket on port 5353 shared with other responders on the host
/// (SO_REUSEADDR), a member of 224.0.0.251 on each chosen interface; messages sent to the group on every one of them.
/// The messages are Makaretu.Dns's. (Makaretu.Dns.Multicast, the package this would use, cannot be loaded on .NET 10
/// with the IPNetwork2 releases served here: its MulticastService needs IPNetwork2 2.x's <c>System.Net.IPNetwork</c>.)
/// </summary>
public sealed class MdnsChannel : IDisposable
{
    public const int Port = 5353;

    public static readonly IPAddress Group = IPAddress.Parse("224.0.0.251");

    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Lock _sendGate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    /// <param name="interfaces">Which interfaces to use (as <c>nwdp.cluster.discovery.interfaces</c> picks them); null = every one that is up, multicast-capable and has an IPv4 address.</param>
    /// <exception cref="InvalidOperationException">No interface fits: multicast DNS has nowhere to go.</exception>
    public MdnsChannel(Func<IEnumerable<NetworkInterface>, IEnumerable<NetworkInterface>>? interfaces = null)
    {
        var candidates = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown && n.SupportsMulticast)
            .Where(n => n.NetworkInterfaceType != NetworkInterfaceType.Loopback || interfaces is not null);
        Addresses = (interfaces is null ? candidates : interfaces(candidates))
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address).Where(a => a.AddressFamily == AddressFamily.InterNetwork).Take(1))
            .ToList();
        if (Addresses.Count == 0)
            throw new InvalidOperationException("multicast DNS: no network interface that is up, multicast-capable and has an IPv4 address" +
                (interfaces is null ? "" : " among those named (nwdp.cluster.discovery.interfaces)"));
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255); // RFC 6762 11
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true); // other responders on this host
        _socket.Bind(new IPEndPoint(IPAddress.Any, Port));
        foreach (var address in Addresses)
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(Group, address));
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>The IPv4 address of each interface in use.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>A message read off the group (malformed ones are dropped); raised on the receiving task, one at a time.</summary>
    public event Action<Message, IPEndPoint>? Received;

    /// <summary>Sends <paramref name="message"/> to the group on every interface in use.</summary>
    public void Send(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = message.ToByteArray();
        var group = new IPEndPoint(Group, Port);
        lock (_sendGate)
        {
            foreach (var address in Addresses)
            {
                try
                {
                    _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, address.GetAddressBytes());
                    _socket.SendTo(bytes, group);
                }
                catch (SocketException)
                {
                    // An interface that went down: the others still get it.
                }
            }
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[9000]; // RFC 6762 17: up to the interface's MTU, 9000 at most
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            Message message;
            try
            {
                message = new Message();
                message.Read(buffer, 0, received.ReceivedBytes);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
            {
                continue;
            }
            Received?.Invoke(message, (IPEndPoint)received.RemoteEndPoint);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _receiving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
