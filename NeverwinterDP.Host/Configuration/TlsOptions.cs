namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// A listener's TLS settings: the ingress listener's (<c>nwdp.security.tls</c>, flags <c>--tls-cert</c>/<c>--tls-key</c>)
/// or the admin listener's (<c>nwdp.admin.tls</c>). A PEM certificate (chain) and key, or a PKCS#12 file
/// (<c>.pfx</c>/<c>.p12</c>, key in it); optional client certificates signed by <see cref="ClientCaFile"/> (mTLS).
/// </summary>
public sealed record TlsOptions(string CertFile, string? KeyFile, string? KeyPassword, string? ClientCaFile)
{
    /// <summary>The config section the files come from, for messages (<c>nwdp.security.tls</c>, <c>nwdp.admin.tls</c>).</summary>
    public string Section { get; init; } = "nwdp.security.tls";

    /// <summary>Reads a TLS section (cert-file, key-file, key-password, client-ca-file); null when no certificate is configured (plain HTTP).</summary>
    public static TlsOptions? FromConfig(NeverwinterDP.Actors.Configuration.ConfigReader tls)
    {
        var cert = tls.OptionalString("cert-file");
        var key = tls.OptionalString("key-file");
        var password = tls.OptionalString("key-password");
        var ca = tls.OptionalString("client-ca-file");
        if (cert is null)
            return key is null && ca is null ? null : throw new ArgumentException($"{tls.Key("key-file")} and client-ca-file need {tls.Key("cert-file")}");
        return new TlsOptions(Path.GetFullPath(cert), key is null ? null : Path.GetFullPath(key), password, ca is null ? null : Path.GetFullPath(ca))
        {
            Section = tls.Path,
        };
    }
}
