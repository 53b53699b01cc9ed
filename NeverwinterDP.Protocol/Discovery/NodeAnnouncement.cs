using System.Text;

namespace NeverwinterDP.Protocol.Discovery;

/// <summary>
/// What a node tells about itself in DNS-SD (docs/cluster.md#discovery): its instance name, the host and port of its
/// SRV record (Akka remoting), and the TXT record's keys. The same mapping serves the node that announces
/// (<see cref="ToTxt"/>) and the client or node that discovers (<see cref="FromRecords"/>).
/// <code>
/// node-1._nwdp._tcp.local.  SRV  0 0 4053 node-1.local.
/// node-1._nwdp._tcp.local.  TXT  "txtvers=1" "cluster=nwdp" "akka=akka.tcp://nwdp@10.0.0.5:4053"
///                                "ingress=http://10.0.0.5:8080" "roles=ingress,pump"
/// </code>
/// </summary>
/// <param name="Instance">The service instance name (without the service type), e.g. <c>node-1</c>.</param>
/// <param name="Host">The SRV target, without its trailing dot.</param>
/// <param name="Port">The SRV port: the node's Akka remoting port.</param>
/// <param name="Akka">The node's cluster address (<c>akka.tcp://nwdp@HOST:PORT</c>): the TXT <c>akka</c> key, else made from <paramref name="Host"/> and <paramref name="Port"/>.</param>
/// <param name="Ingress">The node's HTTP ingress base URL (TXT <c>ingress</c>); null when it gave none.</param>
/// <param name="Cluster">The cluster's name (TXT <c>cluster</c>), so that two clusters on one network stay apart; null when it gave none.</param>
/// <param name="Roles">The node's roles (TXT <c>roles</c>, comma-separated).</param>
public sealed record NodeAnnouncement(string Instance, string Host, int Port, string Akka, string? Ingress, string? Cluster, IReadOnlyList<string> Roles)
{
    /// <summary>The DNS-SD service type nodes announce by default.</summary>
    public const string DefaultServiceType = "_nwdp._tcp";

    /// <summary>The Akka actor system name of every node (<c>akka.tcp://nwdp@...</c>).</summary>
    public const string SystemName = "nwdp";

    /// <summary>The version of the TXT keys (DNS-SD's <c>txtvers</c>).</summary>
    public const string TxtVersion = "1";

    /// <summary>The receptionist an <c>EmitterClient</c> contacts on this node.</summary>
    public string Receptionist => Akka.TrimEnd('/') + "/system/receptionist";

    /// <summary>The TXT record's strings (<c>key=value</c>, RFC 6763 6.3), each at most 255 bytes.</summary>
    public IReadOnlyList<string> ToTxt()
    {
        var txt = new List<string> { "txtvers=" + TxtVersion };
        if (Cluster is not null) txt.Add("cluster=" + Cluster);
        txt.Add("akka=" + Akka);
        if (Ingress is not null) txt.Add("ingress=" + Ingress);
        if (Roles.Count > 0) txt.Add("roles=" + string.Join(',', Roles));
        foreach (var s in txt)
            if (Encoding.UTF8.GetByteCount(s) > 255)
                throw new ArgumentException($"the TXT string '{s[..40]}...' is over 255 bytes (RFC 6763 6.1)");
        return txt;
    }

    /// <summary>
    /// The announcement read from an SRV record (<paramref name="host"/>, <paramref name="port"/>) and the TXT strings
    /// of the same instance (none for a plain SRV record in a data centre's DNS). Keys are case-insensitive (RFC 6763
    /// 6.4), the first of a repeated key wins, a key without <c>=</c> is a flag and ignored; unknown keys are ignored.
    /// </summary>
    public static NodeAnnouncement FromRecords(string instance, string host, int port, IEnumerable<string>? txt)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        host = host.TrimEnd('.');
        var keys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in txt ?? [])
        {
            var eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            keys.TryAdd(s[..eq], s[(eq + 1)..]);
        }
        var akka = keys.TryGetValue("akka", out var a) && a.Length > 0 ? a.TrimEnd('/') : $"akka.tcp://{SystemName}@{host}:{port}";
        var roles = keys.TryGetValue("roles", out var r)
            ? r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return new NodeAnnouncement(instance, host, port, akka,
            keys.TryGetValue("ingress", out var i) && i.Length > 0 ? i : null,
            keys.TryGetValue("cluster", out var c) && c.Length > 0 ? c : null,
            roles);
    }
}
