using System.Net;
using Akka.Configuration;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// The admin API listener (<c>nwdp.admin</c>, flag <c>--admin</c>): its own Kestrel endpoint, loopback by
/// default. Bound anywhere else it requires <c>nwdp.admin.token</c> (env <c>NWDP_ADMIN_TOKEN</c>), and a
/// configured token is always required of clients (<c>Authorization: Bearer TOKEN</c>).
/// </summary>
public sealed record AdminOptions((string Host, int Port)? Endpoint, string? Token)
{
    public const string DefaultEndpoint = NeverwinterDP.Host.Admin.AdminApi.DefaultEndpoint;

    public bool Enabled => Endpoint is not null;

    public static AdminOptions FromConfig(Config nwdp, (string Host, int Port) http)
    {
        var text = nwdp.GetString("admin.endpoint", DefaultEndpoint).Trim();
        var token = nwdp.GetString("admin.token", "");
        token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
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
