using System.Net;
using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// The admin API listener (<c>nwdp.admin</c>, flag <c>--admin</c>): its own Kestrel endpoint, loopback by
/// default. Bound anywhere else it requires <c>nwdp.admin.token</c> (env <c>NWDP_ADMIN_TOKEN</c>), and a
/// configured token is always required of clients (<c>Authorization: Bearer TOKEN</c>). Plain HTTP unless
/// <c>nwdp.admin.tls</c> gives it a certificate (its own, or the ingress listener's).
/// </summary>
public sealed record AdminOptions((string Host, int Port)? Endpoint, string? Token)
{
    /// <summary><c>nwdp.admin.tls</c>: the admin listener's certificate and client CA; null = plain HTTP.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>Where the CLI's admin verbs look when given no <c>--node</c>: the default of <c>nwdp.admin.endpoint</c> (Node/reference.conf).</summary>
    public const string DefaultEndpoint = "127.0.0.1:9110";

    public bool Enabled => Endpoint is not null;

    /// <summary>Reads <c>nwdp.admin</c>; <paramref name="ingressTls"/> is <c>nwdp.security.tls</c>, for <c>tls.ingress-certificate</c>.</summary>
    public static AdminOptions FromConfig(ConfigReader admin, (string Host, int Port) http, TlsOptions? ingressTls)
    {
        var text = admin.String("endpoint").Trim();
        var token = admin.OptionalString("token");
        var tls = TlsFromConfig(admin.Section("tls"), ingressTls);
        if (text is "off" or "")
            return new AdminOptions(null, token) { Tls = tls };
        var endpoint = NodeConfig.ParseEndpoint(text, "nwdp.admin.endpoint");
        if (endpoint.Port != 0 && endpoint.Port == http.Port)
            throw new ArgumentException($"nwdp.admin.endpoint ({text}) must use another port than nwdp.http.endpoint: the admin API has its own listener");
        if (!IsLoopback(endpoint.Host) && token is null)
            throw new ArgumentException(
                $"the admin API would listen on {text}, which is not loopback: set a token (nwdp.admin.token, env NWDP_ADMIN_TOKEN, or --set nwdp.admin.token=...) " +
                "or bind it to 127.0.0.1 (--admin 127.0.0.1:9110)");
        return new AdminOptions(endpoint, token) { Tls = tls };
    }

    /// <summary>
    /// <c>nwdp.admin.tls</c>: its own certificate (the keys of <c>nwdp.security.tls</c>), or with <c>ingress-certificate = on</c>
    /// the ingress listener's files (read and reloaded the same way) with the admin's own <c>client-ca-file</c>: the
    /// operators' CA need not be the senders'.
    /// </summary>
    private static TlsOptions? TlsFromConfig(ConfigReader tls, TlsOptions? ingressTls)
    {
        if (!tls.Bool("ingress-certificate")) return TlsOptions.FromConfig(tls);
        if (tls.OptionalString("cert-file") is not null || tls.OptionalString("key-file") is not null || tls.OptionalString("key-password") is not null)
            throw new ArgumentException($"{tls.Key("ingress-certificate")} = on takes the certificate of nwdp.security.tls: leave {tls.Key("cert-file")}, key-file and key-password empty");
        if (ingressTls is null)
            throw new ArgumentException($"{tls.Key("ingress-certificate")} = on needs the ingress listener's certificate: set nwdp.security.tls.cert-file (--tls-cert)");
        var ca = tls.OptionalString("client-ca-file");
        return ingressTls with { ClientCaFile = ca is null ? null : Path.GetFullPath(ca), Section = ingressTls.Section };
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
