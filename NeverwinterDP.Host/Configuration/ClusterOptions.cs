using Akka.Configuration;
using NeverwinterDP.Actors;
using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Host.Configuration;

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

    /// <summary><c>nwdp.cluster.tls</c>: remoting over TLS (<see cref="RemoteTls"/>); the files are loaded by <see cref="LoadTls"/>.</summary>
    public RemoteTlsOptions Tls { get; init; } = RemoteTlsOptions.Off;

    /// <summary>The scheme of this cluster's addresses: <c>akka.ssl.tcp</c> with TLS, else <c>akka.tcp</c>.</summary>
    public string Scheme => RemoteTls.SchemeOf(Tls.Enabled);

    /// <summary>The certificate and CAs of <see cref="Tls"/>; null when it is off.</summary>
    /// <exception cref="ArgumentException">A file is missing or does not load, or the password is wrong (the message names the key).</exception>
    public RemoteTls? LoadTls() => RemoteTls.Load(Tls, RemoteTlsKeys.Node);

    /// <summary>Reads <c>nwdp.cluster.tls</c> (the password also from env <c>NWDP_CLUSTER_TLS_PASSWORD</c>).</summary>
    public static RemoteTlsOptions TlsFromConfig(ConfigReader tls) => new()
    {
        Enabled = tls.Bool("enabled"),
        CertificateFile = tls.OptionalString("certificate"),
        KeyFile = tls.OptionalString("key"),
        Password = tls.String("password") is { Length: > 0 } password ? password : null,
        CaFile = tls.OptionalString("ca"),
        RequireClientCertificate = tls.Bool("require-client-certificate"),
        ValidateHostname = tls.Bool("validate-hostname"),
    };

    /// <summary>Reads the final <c>akka.*</c> values (after <see cref="AkkaOverlay"/>) and validates the roles.</summary>
    public static ClusterOptions FromConfig(Config hocon, ConfigReader cluster)
    {
        var roles = hocon.GetStringList("akka.cluster.roles").ToList();
        foreach (var role in roles.Where(r => !NodeRoles.All.Contains(r)))
            throw new ArgumentException($"nwdp.cluster.roles: unknown role '{role}'; roles are {string.Join(", ", NodeRoles.All)}");
        return new ClusterOptions(
            hocon.GetString("akka.remote.dot-netty.tcp.hostname"),
            hocon.GetInt("akka.remote.dot-netty.tcp.port"),
            hocon.GetStringList("akka.cluster.seed-nodes").ToList(),
            roles,
            cluster.Bool("join-self"))
        {
            Tls = TlsFromConfig(cluster.Section("tls")),
        };
    }

    /// <summary>
    /// The <c>akka.*</c> keys that <c>nwdp.cluster.*</c> decides, from <paramref name="nwdp"/>. Seeds and roles may be
    /// HOCON lists or comma-separated strings (what flags and environment variables give); a seed is
    /// <c>HOST:PORT</c> or a full <c>akka.tcp://nwdp@HOST:PORT</c> address (<c>akka.ssl.tcp://</c> with <c>nwdp.cluster.tls</c> on,
    /// which also turns on <c>akka.remote.dot-netty.tcp.enable-ssl</c>). <paramref name="akkaRoles"/>: the
    /// <c>akka.cluster.roles</c> an operator set instead of <c>nwdp.cluster.roles</c> (kept), or null.
    /// </summary>
    public static Config AkkaOverlay(ConfigReader nwdp, IReadOnlyList<string>? akkaRoles = null)
    {
        var lines = new List<string>();
        var tls = nwdp.Bool("cluster.tls.enabled");
        if (tls) lines.Add(RemoteTls.Hocon);
        if (nwdp.OptionalString("cluster.hostname") is { } host)
            lines.Add($"akka.remote.dot-netty.tcp.hostname = {NodeConfig.Quote(host)}");
        if (nwdp.OptionalString("cluster.port") is { } portText)
        {
            if (!int.TryParse(portText, out var port) || port is < 0 or > 65535)
                throw new ArgumentException($"nwdp.cluster.port must be a port number (0 picks a free one), got '{portText}'");
            lines.Add($"akka.remote.dot-netty.tcp.port = {port}");
        }
        var seeds = nwdp.Strings("cluster.seeds").Select(seed => SeedAddress(seed, tls)).ToList();
        if (seeds.Count > 0) lines.Add($"akka.cluster.seed-nodes = [{string.Join(", ", seeds.Select(NodeConfig.Quote))}]");
        var configured = nwdp.Strings("cluster.roles");
        IReadOnlyList<string>? roles = akkaRoles is null ? configured : null;
        // A node that runs no pump must not carry the pump role: the sink writers' shard coordinator lives on the
        // oldest member with that role, and a member that hosts no region would keep it from ever starting.
        if (!nwdp.Bool("pump.enabled"))
            roles = (roles ?? akkaRoles!).Where(r => r != NodeRoles.Pump).ToList();
        if (roles is not null)
        {
            if (roles.Count == 0) throw new ArgumentException($"nwdp.cluster.roles must name at least one role ({string.Join(", ", NodeRoles.All)})");
            lines.Add($"akka.cluster.roles = [{string.Join(", ", roles.Distinct().Select(NodeConfig.Quote))}]");
        }
        return ConfigurationFactory.ParseString(string.Join('\n', lines));
    }

    /// <summary>
    /// <c>HOST:PORT</c> to <c>akka.tcp://nwdp@HOST:PORT</c> (<c>akka.ssl.tcp://</c> when <paramref name="tls"/> is true); a full
    /// address is checked and kept, and refused when <paramref name="tls"/> is given and its scheme is not the one it says.
    /// </summary>
    public static string SeedAddress(string seed, bool? tls = null)
    {
        var scheme = RemoteTls.SchemeOf(tls == true);
        if (seed.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                var address = Akka.Actor.Address.Parse(seed);
                if (address.Host is null || address.Port is null) throw new UriFormatException("no host or port");
                if (address.System != SystemName)
                    throw new ArgumentException($"nwdp.cluster.seeds: '{seed}' names actor system '{address.System}'; nodes are '{SystemName}'");
                if (tls is not null && address.Protocol != scheme)
                    throw new ArgumentException($"nwdp.cluster.seeds: '{seed}' is a {address.Protocol} address, but nwdp.cluster.tls.enabled is {(tls == true ? "on" : "off")}: nodes are {scheme}://{SystemName}@HOST:PORT");
                return address.ToString();
            }
            catch (UriFormatException e)
            {
                throw new ArgumentException($"nwdp.cluster.seeds: '{seed}' is not HOST:PORT or {scheme}://{SystemName}@HOST:PORT ({e.Message})");
            }
        }
        var (host, port) = NodeConfig.ParseEndpoint(seed, "a seed (nwdp.cluster.seeds, --seed)");
        if (port == 0) throw new ArgumentException($"a seed (nwdp.cluster.seeds, --seed) needs a real port, got '{seed}'");
        return $"{scheme}://{SystemName}@{host}:{port}";
    }
}
