using Akka.Configuration;
using Akka.Configuration.Hocon;
using NeverwinterDP.Actors;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Cluster membership of a node, from <c>nwdp.cluster</c> (flags <c>--node-host</c>, <c>--node-port</c>,
/// <c>--seed</c>, <c>--roles</c>; env <c>NWDP_NODE_PORT</c>, <c>NWDP_SEEDS</c>). These keys write
/// <c>akka.remote.dot-netty.tcp</c> and <c>akka.cluster</c>, so an operator sets a node's place in the
/// cluster in one spot.
/// </summary>
public sealed record ClusterOptions(string Hostname, int Port, IReadOnlyList<string> Seeds, IReadOnlyList<string> Roles, bool JoinSelf)
{
    /// <summary>The actor system's name: part of every cluster address (<c>akka.tcp://nwdp@host:port</c>).</summary>
    public const string SystemName = "nwdp";

    public bool HasRole(string role) => Roles.Contains(role);

    /// <summary>Reads the final <c>akka.*</c> values (after <see cref="AkkaOverlay"/>) and validates the roles.</summary>
    public static ClusterOptions FromConfig(Config hocon)
    {
        var roles = hocon.GetStringList("akka.cluster.roles").ToList();
        foreach (var role in roles.Where(r => !NodeRoles.All.Contains(r)))
            throw new ArgumentException($"nwdp.cluster.roles: unknown role '{role}'; roles are {string.Join(", ", NodeRoles.All)}");
        return new ClusterOptions(
            hocon.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1"),
            hocon.GetInt("akka.remote.dot-netty.tcp.port", 0),
            hocon.GetStringList("akka.cluster.seed-nodes").ToList(),
            roles,
            hocon.GetBoolean("nwdp.cluster.join-self", true));
    }

    /// <summary>
    /// The <c>akka.*</c> keys that <c>nwdp.cluster.*</c> decides. Seeds and roles may be HOCON lists or
    /// comma-separated strings (what flags and environment variables give); a seed is <c>HOST:PORT</c> or a
    /// full <c>akka.tcp://nwdp@HOST:PORT</c> address.
    /// </summary>
    public static Config AkkaOverlay(Config config)
    {
        var lines = new List<string>();
        if (NonEmpty(config, "nwdp.cluster.hostname") is { } host)
            lines.Add($"akka.remote.dot-netty.tcp.hostname = {NodeConfig.Quote(host)}");
        if (NonEmpty(config, "nwdp.cluster.port") is { } portText)
        {
            if (!int.TryParse(portText, out var port) || port is < 0 or > 65535)
                throw new ArgumentException($"nwdp.cluster.port must be a port number (0 picks a free one), got '{portText}'");
            lines.Add($"akka.remote.dot-netty.tcp.port = {port}");
        }
        var seeds = Strings(config, "nwdp.cluster.seeds").Select(SeedAddress).ToList();
        if (seeds.Count > 0) lines.Add($"akka.cluster.seed-nodes = [{string.Join(", ", seeds.Select(NodeConfig.Quote))}]");
        // Every role unless told otherwise (here, or in akka.cluster.roles by someone who knows Akka).
        var roles = config.HasPath("nwdp.cluster.roles") ? Strings(config, "nwdp.cluster.roles")
            : config.GetStringList("akka.cluster.roles").Count > 0 ? null
            : NodeRoles.All.ToList();
        // A node that runs no pump must not carry the pump role: the sink writers' shard coordinator lives on the
        // oldest member with that role, and a member that hosts no region would keep it from ever starting.
        if (!config.GetBoolean("nwdp.pump.enabled", true))
            roles = (roles ?? config.GetStringList("akka.cluster.roles").ToList()).Where(r => r != NodeRoles.Pump).ToList();
        if (roles is not null)
        {
            if (roles.Count == 0) throw new ArgumentException($"nwdp.cluster.roles must name at least one role ({string.Join(", ", NodeRoles.All)})");
            lines.Add($"akka.cluster.roles = [{string.Join(", ", roles.Distinct().Select(NodeConfig.Quote))}]");
        }
        return ConfigurationFactory.ParseString(string.Join('\n', lines));
    }

    /// <summary><c>HOST:PORT</c> to <c>akka.tcp://nwdp@HOST:PORT</c>; a full address is checked and kept.</summary>
    public static string SeedAddress(string seed)
    {
        if (seed.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                var address = Akka.Actor.Address.Parse(seed);
                if (address.Host is null || address.Port is null) throw new UriFormatException("no host or port");
                if (address.System != SystemName)
                    throw new ArgumentException($"nwdp.cluster.seeds: '{seed}' names actor system '{address.System}'; nodes are '{SystemName}'");
                return address.ToString();
            }
            catch (UriFormatException e)
            {
                throw new ArgumentException($"nwdp.cluster.seeds: '{seed}' is not HOST:PORT or akka.tcp://{SystemName}@HOST:PORT ({e.Message})");
            }
        }
        var (host, port) = NodeConfig.ParseEndpoint(seed, "a seed (nwdp.cluster.seeds, --seed)");
        if (port == 0) throw new ArgumentException($"a seed (nwdp.cluster.seeds, --seed) needs a real port, got '{seed}'");
        return $"akka.tcp://{SystemName}@{host}:{port}";
    }

    private static string? NonEmpty(Config config, string path)
    {
        if (!config.HasPath(path)) return null;
        var value = config.GetString(path, "");
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static List<string> Strings(Config config, string path)
    {
        if (!config.HasPath(path)) return [];
        HoconValue value = config.GetValue(path);
        var items = value.IsArray() ? value.GetStringList() : (IEnumerable<string>)(value.GetString() ?? "").Split(',');
        return items.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
    }
}
