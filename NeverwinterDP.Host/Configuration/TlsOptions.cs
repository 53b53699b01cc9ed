namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// The ingress listener's TLS settings (<c>nwdp.security.tls</c>, flags <c>--tls-cert</c>/<c>--tls-key</c>): a PEM
/// certificate (chain) and key, or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>, key in it); optional client certificates
/// signed by <see cref="ClientCaFile"/> (mTLS).
/// </summary>
public sealed record TlsOptions(string CertFile, string? KeyFile, string? KeyPassword, string? ClientCaFile)
{
    /// <summary>Reads <c>nwdp.security.tls</c>; null when no certificate is configured (plain HTTP).</summary>
    public static TlsOptions? FromConfig(NeverwinterDP.Actors.Configuration.ConfigReader tls)
    {
        var cert = tls.OptionalString("cert-file");
        var key = tls.OptionalString("key-file");
        var password = tls.OptionalString("key-password");
        var ca = tls.OptionalString("client-ca-file");
        if (cert is null)
            return key is null && ca is null ? null : throw new ArgumentException("nwdp.security.tls.key-file and client-ca-file need nwdp.security.tls.cert-file (--tls-cert)");
        return new TlsOptions(Path.GetFullPath(cert), key is null ? null : Path.GetFullPath(key), password, ca is null ? null : Path.GetFullPath(ca));
    }
}
