using System.Net;
using System.Net.NetworkInformation;
using Makaretu.Dns;

namespace NeverwinterDP.Protocol.Discovery;

/// <summary>
/// Announces one node over DNS-SD on multicast DNS (RFC 6763 over RFC 6762): answers queries for its service type
/// (PTR, with the SRV, TXT and A records as additional records), for its instance (SRV, TXT) and for its host name
/// (A); announces itself twice when started (RFC 6762 8.3) and says goodbye (the same records with TTL 0, 10.1) when
/// disposed, so browsers drop it at once.
/// </summary>
public sealed class MdnsAnnouncer : IDisposable
{
    /// <summary>TTL of the records (RFC 6762 10: 120 s for those naming a host, 75 min for the others; one value keeps it simple).</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(120);

    private readonly MdnsChannel _channel;
    private readonly DomainName _service;
    private readonly DomainName _instance;
    private readonly DomainName _host;
    private readonly NodeAnnouncement _node;
    private readonly IReadOnlyList<IPAddress> _addresses;
    private int _disposed;

    /// <param name="address">The address the node is reached at (its A record); null = each interface's own address.</param>
    public MdnsAnnouncer(NodeAnnouncement node, string serviceType, IPAddress? address = null,
        Func<IEnumerable<NetworkInterface>, IEnumerable<NetworkInterface>>? interfaces = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        _node = node;
        node.ToTxt(); // a TXT string that is too long fails here, not in the first answer
        _service = new DomainName(serviceType + ".local");
        _instance = DomainName.Join(new DomainName(node.Instance), _service);
        _host = new DomainName(node.Instance + ".local");
        _channel = new MdnsChannel(interfaces);
        _addresses = address is null ? _channel.Addresses : [address];
        _channel.Received += OnMessage;
        Send(Ttl);
        _ = Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ =>
        {
            if (Volatile.Read(ref _disposed) == 0) Send(Ttl);
        }, TaskScheduler.Default);
    }

    /// <summary>The instance's full name, e.g. <c>node-1._nwdp._tcp.local</c>.</summary>
    public string InstanceName => _instance.ToString();

    private void OnMessage(Message message, IPEndPoint from)
    {
        if (message.QR || Volatile.Read(ref _disposed) != 0) return; // answers are other responders' business
        var answer = new Message { QR = true, AA = true };
        foreach (var q in message.Questions)
        {
            var any = q.Type == DnsType.ANY;
            if (q.Name == _service && (any || q.Type == DnsType.PTR))
            {
                answer.Answers.Add(Ptr(Ttl));
                answer.AdditionalRecords.AddRange(InstanceRecords(Ttl));
                answer.AdditionalRecords.AddRange(AddressRecords(Ttl));
            }
            else if (q.Name == _instance && (any || q.Type is DnsType.SRV or DnsType.TXT))
            {
                answer.Answers.AddRange(InstanceRecords(Ttl).Where(r => any || r.Type == q.Type));
                answer.AdditionalRecords.AddRange(AddressRecords(Ttl));
            }
            else if (q.Name == _host && (any || q.Type == DnsType.A))
            {
                answer.Answers.AddRange(AddressRecords(Ttl));
            }
        }
        if (answer.Answers.Count > 0) _channel.Send(answer);
    }

    private void Send(TimeSpan ttl)
    {
        var message = new Message { QR = true, AA = true };
        message.Answers.Add(Ptr(ttl));
        message.Answers.AddRange(InstanceRecords(ttl));
        message.Answers.AddRange(AddressRecords(ttl));
        _channel.Send(message);
    }

    private PTRRecord Ptr(TimeSpan ttl) => new() { Name = _service, DomainName = _instance, TTL = ttl };

    private IEnumerable<ResourceRecord> InstanceRecords(TimeSpan ttl)
    {
        yield return new SRVRecord { Name = _instance, Target = _host, Port = (ushort)_node.Port, TTL = ttl };
        yield return new TXTRecord { Name = _instance, Strings = _node.ToTxt().ToList(), TTL = ttl };
    }

    private IEnumerable<ResourceRecord> AddressRecords(TimeSpan ttl) =>
        _addresses.Select(a => new ARecord { Name = _host, Address = a, TTL = ttl });

    /// <summary>Says goodbye (the records with TTL 0) and stops answering.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            Send(TimeSpan.Zero);
        }
        finally
        {
            _channel.Dispose();
        }
    }
}
