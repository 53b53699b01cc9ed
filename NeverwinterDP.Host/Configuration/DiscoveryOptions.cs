using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Protocol.Discovery;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// Zero-configuration discovery (HOCON <c>nwdp.cluster.discovery</c>; every default in Host/Configuration/reference.conf;
/// docs/cluster.md#discovery): whether the node announces itself over mDNS (DNS-SD), and how a node without seeds
/// finds the cluster to join.
/// </summary>
public sealed record DiscoveryOptions
{
    /// <summary><c>announce</c>: announce this node over mDNS while it runs (a goodbye on shutdown).</summary>
    public required bool Announce { get; init; }

    /// <summary><c>method</c>: how a node with no <c>nwdp.cluster.seeds</c> finds seeds; null = <c>off</c>.</summary>
    public DiscoveryMethod? Method { get; init; }

    /// <summary><c>service-type</c>: the DNS-SD service type announced (<c>_nwdp._tcp</c>).</summary>
    public required string ServiceType { get; init; }

    /// <summary><c>instance</c>: the instance name announced; empty in the file = <c>HOST-PORT</c> of the cluster address.</summary>
    public string? Instance { get; init; }

    /// <summary><c>cluster-name</c>: announced in TXT <c>cluster=</c>; nodes announcing another name are not joined.</summary>
    public required string ClusterName { get; init; }

    /// <summary><c>timeout</c>: how long a starting node looks for seeds before forming a cluster of its own.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary><c>interfaces</c>: the network interfaces announced and queried on (names); empty = every multicast-capable one.</summary>
    public required IReadOnlyList<string> Interfaces { get; init; }

    public static DiscoveryOptions FromConfig(ConfigReader discovery)
    {
        ArgumentNullException.ThrowIfNull(discovery);
        var method = discovery.String("method").Trim();
        DiscoveryMethod? parsed = null;
        if (!(method.Length == 0 || method.Equals("off", StringComparison.OrdinalIgnoreCase) || method.Equals("false", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                parsed = DiscoveryMethod.Parse(method);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{discovery.Key("method")}: {e.Message}");
            }
        }
        var serviceType = discovery.String("service-type").Trim();
        try
        {
            DiscoveryMethod.Parse("mdns:" + serviceType);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"{discovery.Key("service-type")} must look like _name._tcp, got '{serviceType}'");
        }
        var clusterName = discovery.String("cluster-name").Trim();
        if (clusterName.Length == 0) throw new ArgumentException($"{discovery.Key("cluster-name")} must not be empty");
        return new DiscoveryOptions
        {
            Announce = discovery.Bool("announce"),
            Method = parsed,
            ServiceType = serviceType,
            Instance = discovery.OptionalString("instance"),
            ClusterName = clusterName,
            Timeout = discovery.PositiveDuration("timeout"),
            Interfaces = discovery.Strings("interfaces"),
        };
    }
}
