using System.Net;
using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// The admin API listener (<c>nwdp.admin</c>, flag <c>--admin</c>): its own Kestrel endpoint, loopback by
/// default. Bound anywhere else it requires <c>nwdp.admin.token</c> (env <c>NWDP_ADMIN_TOKEN</c>), and a
/// configured token is always required of clients (<c>Authorization: Bearer TOKEN</c>).
/// </summary>
public sealed record AdminOptions((string Host, int Port)? Endpoint, string? Token)
{
    /// <summary>Where the CLI's admin verbs look when given no <c>--node</c>: the default of <c>nwdp.admin.endpoint</c> (Node/reference.conf).</summary>
    public const string DefaultEndpoint = "127.0.0.1:9110";

    public bool Enabled => Endpoint is not null;

    /// <summary>Reads <c>nwdp.admin</c>.</summary>
    public static AdminOptions FromConfig(ConfigReader admin, (string Host, int Port) http)
    {
        var text = admin.String("endpoint").Trim();
        var token = admin.OptionalString("token");
        if (text is "off" or "")
            return new AdminOptions(null, token);
        var endpoint = NodeConfig.ParseEndpoint(text, "nwdp.admin.endpoint");
        if (endpoint.Port != 0 && endpoint.Port == http.Port)
            throw new ArgumentException($"nwdp.admin.endpoint ({text}) must use another port than nwdp.http.endpoint: the admin API has its own listener");
        if (!IsLoopback(endpoint.Host) && token is null)
            throw new ArgumentException(
                $"the admin API would listen on {text}, which is not loopback: set a token (nwdp.admin.token, env NWDP_ADMIN_TOKEN, or --set nwdp.admin.token=...) " +
                "or bind it to 127.0.0.1 (--admin 127.0.0.1:9110)");
        return new AdminOptions(endpoint, token);
    }

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The address Kestrel binds for <paramref name="host"/> (<c>*</c> and <c>0.0.0.0</c> = every interface).</summary>
    public static IPAddress ListenAddress(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "0.0.0.0" or "" => IPAddress.Any,
        _ => IPAddress.Parse(host),
    };
}
