using System.Net;

namespace NeverwinterDP.Protocol.Discovery;

/// <summary>
/// How nodes are found without a list of hosts, parsed from one string (<c>EmitterClientOptions.Discovery</c>,
/// <c>nwdp.cluster.discovery.method</c>):
/// <list type="bullet">
/// <item><c>mdns</c>, or <c>mdns:SERVICE</c> (default <c>_nwdp._tcp</c>): DNS-SD over multicast DNS on the local link.</item>
/// <item><c>dns-srv:NAME</c>, or <c>dns-srv:NAME@SERVER[:PORT]</c>: the SRV records of NAME (e.g.
/// <c>_nwdp._tcp.dc1.example.com</c>) from the system's resolvers, or from SERVER (port 53 unless given).</item>
/// </list>
/// </summary>
public sealed record DiscoveryMethod
{
    private DiscoveryMethod(bool multicast, string name, IPEndPoint? server)
    {
        Multicast = multicast;
        Name = name;
        Server = server;
    }

    /// <summary>True for mDNS, false for a DNS SRV lookup.</summary>
    public bool Multicast { get; }

    /// <summary>The service type (mDNS, without <c>.local</c>) or the SRV name (DNS).</summary>
    public string Name { get; }

    /// <summary>The DNS server asked (DNS SRV only); null = the system's resolvers.</summary>
    public IPEndPoint? Server { get; }

    public static DiscoveryMethod Mdns(string serviceType = NodeAnnouncement.DefaultServiceType) => new(true, serviceType, null);

    public static DiscoveryMethod DnsSrv(string name, IPEndPoint? server = null) => new(false, name.TrimEnd('.'), server);

    /// <exception cref="ArgumentException">The text is none of the forms above; the message says which are.</exception>
    public static DiscoveryMethod Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        const string forms = "use mdns, mdns:SERVICE (e.g. mdns:_nwdp._tcp), dns-srv:NAME or dns-srv:NAME@SERVER[:PORT]";
        if (text.Equals("mdns", StringComparison.OrdinalIgnoreCase)) return Mdns();
        if (text.StartsWith("mdns:", StringComparison.OrdinalIgnoreCase))
        {
            var service = text[5..].Trim().TrimEnd('.');
            if (service.EndsWith(".local", StringComparison.OrdinalIgnoreCase)) service = service[..^6];
            if (!IsServiceType(service)) throw new ArgumentException($"discovery '{text}': the service type must look like _name._tcp; {forms}");
            return Mdns(service);
        }
        if (text.StartsWith("dns-srv:", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text[8..].Trim();
            var at = rest.IndexOf('@', StringComparison.Ordinal);
            var name = (at < 0 ? rest : rest[..at]).Trim().TrimEnd('.');
            if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal)) throw new ArgumentException($"discovery '{text}': no SRV name; {forms}");
            if (at < 0) return DnsSrv(name);
            var server = rest[(at + 1)..].Trim();
            if (!IPEndPoint.TryParse(server, out var endpoint))
                throw new ArgumentException($"discovery '{text}': the DNS server '{server}' must be an IP address, optionally with :PORT; {forms}");
            if (endpoint.Port == 0) endpoint.Port = 53;
            return DnsSrv(name, endpoint);
        }
        throw new ArgumentException($"discovery '{text}' is not a discovery method; {forms}");
    }

    private static bool IsServiceType(string service)
    {
        var labels = service.Split('.');
        return labels.Length == 2 && labels[0].Length > 1 && labels[0][0] == '_' && labels[1] is "_tcp" or "_udp";
    }

    public override string ToString() => Multicast ? "mdns:" + Name : "dns-srv:" + Name + (Server is null ? "" : "@" + Server);
}
