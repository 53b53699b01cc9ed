using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using NeverwinterDP.Protocol.Tls;

namespace NeverwinterDP.Protocol.Remote;

/// <summary>
/// TLS on Akka remoting (the node's <c>nwdp.cluster.tls</c>, the EmitterClient's <c>EmitterClientOptions.Tls</c>):
/// the certificate this end presents, the CA the other end's certificate must chain to, and whether a connecting
/// end must present one too (mutual TLS).
/// </summary>
public sealed record RemoteTlsOptions
{
    /// <summary>Off: remoting in plain TCP (<c>akka.tcp://</c> addresses).</summary>
    public static RemoteTlsOptions Off { get; } = new();

    /// <summary><c>enabled</c>: remoting over TLS; addresses become <c>akka.ssl.tcp://</c>, and every end of the cluster must have it on.</summary>
    public bool Enabled { get; init; }

    /// <summary><c>certificate</c>: a PEM certificate (the leaf first, then intermediates) with <see cref="KeyFile"/>, or a PKCS#12 file (<c>.p12</c>/<c>.pfx</c>, key inside).</summary>
    public string? CertificateFile { get; init; }

    /// <summary><c>key</c>: the PEM private key of a PEM <see cref="CertificateFile"/> (PKCS#8, encrypted or not, or the algorithm's own PEM).</summary>
    public string? KeyFile { get; init; }

    /// <summary><c>password</c>: of the PKCS#12 file or of an encrypted PEM key.</summary>
    public string? Password { get; init; }

    /// <summary><c>ca</c>: a PEM bundle of the CA certificates the other end's certificate must chain to; empty = the system's trusted CAs.</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// <c>require-client-certificate</c> (default on): an end that connects must present a certificate that passes the
    /// same check, and this end presents its own when it connects. Off: only the listening end is authenticated.
    /// </summary>
    public bool RequireClientCertificate { get; init; } = true;

    /// <summary><c>validate-hostname</c> (default off): the certificate of the end connected to must also name the host it was reached at (SAN or CN).</summary>
    public bool ValidateHostname { get; init; }
}

/// <summary>The names an operator knows the settings by, for the errors (<c>nwdp.cluster.tls.certificate</c>, <c>EmitterClientOptions.Tls.CertificateFile</c>).</summary>
public sealed record RemoteTlsKeys(string Certificate, string Key, string Password, string Ca)
{
    public static RemoteTlsKeys Node { get; } = new("nwdp.cluster.tls.certificate", "nwdp.cluster.tls.key", "nwdp.cluster.tls.password", "nwdp.cluster.tls.ca");
    public static RemoteTlsKeys Client { get; } = new("EmitterClientOptions.Tls.CertificateFile", "EmitterClientOptions.Tls.KeyFile", "EmitterClientOptions.Tls.Password", "EmitterClientOptions.Tls.CaFile");
}

/// <summary>
/// What <see cref="RemoteTlsOptions"/> loaded: the certificate with its key, the CAs, and the check every peer's
/// certificate goes through (<see cref="Accepts"/>), on both sides of a connection. The host and the client hand it to
/// Akka.Remote's DotNetty transport (a <c>DotNettySslSetup</c> with <see cref="Accepts"/> as its validator).
/// </summary>
public sealed class RemoteTls
{
    /// <summary>The address scheme of remoting over TLS; plain remoting's is <see cref="PlainScheme"/>.</summary>
    public const string Scheme = "akka.ssl.tcp";

    public const string PlainScheme = "akka.tcp";

    /// <summary>What turns TLS on in the transport (the certificate and the check come with the setup, not from HOCON).</summary>
    public const string Hocon = "akka.remote.dot-netty.tcp.enable-ssl = on";

    private RemoteTls(X509Certificate2 certificate, X509Certificate2Collection? cas, bool requireClientCertificate, bool validateHostname)
    {
        Certificate = certificate;
        Cas = cas;
        RequireClientCertificate = requireClientCertificate;
        ValidateHostname = validateHostname;
    }

    /// <summary>This end's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CAs a peer's certificate must chain to; null = the system's trusted CAs.</summary>
    public X509Certificate2Collection? Cas { get; }

    public bool RequireClientCertificate { get; }

    public bool ValidateHostname { get; }

    /// <summary>The scheme of addresses with <paramref name="enabled"/> TLS or without.</summary>
    public static string SchemeOf(bool enabled) => enabled ? Scheme : PlainScheme;

    /// <summary>Loads <paramref name="options"/>; null when TLS is off.</summary>
    /// <exception cref="ArgumentException">A file is missing, unreadable, not what it should be, or the password is wrong; the message names the setting (<paramref name="keys"/>).</exception>
    public static RemoteTls? Load(RemoteTlsOptions options, RemoteTlsKeys keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        if (!options.Enabled) return null;
        var certificate = LoadCertificate(options, keys);
        var cas = options.CaFile is { Length: > 0 } ca ? LoadCas(ca, keys.Ca) : null;
        return new RemoteTls(certificate, cas, options.RequireClientCertificate, options.ValidateHostname);
    }

    /// <summary>
    /// Whether a peer's certificate is accepted: it must be there, chain to <see cref="Cas"/> (or to a CA the system
    /// trusts when there are none) and be valid now; with <see cref="ValidateHostname"/> the name check of the
    /// outbound connection must pass too. Revocation is not checked, nor the certificate's key usages.
    /// </summary>
    public bool Accepts(X509Certificate2? peer, X509Chain? chain, SslPolicyErrors errors, out string reason)
    {
        reason = "";
        if (peer is null)
        {
            reason = "no certificate presented";
            return false;
        }
        if (ValidateHostname && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            reason = "the certificate does not name the host it was reached at";
            return false;
        }
        if (Cas is null)
        {
            var rest = errors & ~SslPolicyErrors.RemoteCertificateNameMismatch;
            if (rest == SslPolicyErrors.None) return true;
            reason = $"not trusted by the system's CAs ({rest}{Status(chain)})";
            return false;
        }
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.AddRange(Cas);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // The intermediates the peer sent.
            own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            foreach (var element in chain.ChainElements)
                if (element.Certificate.Thumbprint != peer.Thumbprint) own.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        if (own.Build(peer)) return true;
        reason = $"does not chain to the configured CA{Status(own)}";
        return false;
    }

    private static string Status(X509Chain? chain) =>
        chain is null || chain.ChainStatus.Length == 0
            ? ""
            : ": " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());

    private static X509Certificate2 LoadCertificate(RemoteTlsOptions options, RemoteTlsKeys keys)
    {
        var file = options.CertificateFile is { Length: > 0 } f
            ? Path.GetFullPath(f)
            : throw new ArgumentException($"{keys.Certificate} must be set when TLS is on: a PEM certificate (with {keys.Key}) or a PKCS#12 file");
        return CertificateFiles.Load(file, options.KeyFile is { Length: > 0 } k ? Path.GetFullPath(k) : null,
            string.IsNullOrEmpty(options.Password) ? null : options.Password, new CertificateSettings(keys.Certificate, keys.Key, keys.Password),
            X509KeyStorageFlags.Exportable);
    }

    private static X509Certificate2Collection LoadCas(string file, string key) => CertificateFiles.LoadCaBundle(Path.GetFullPath(file), key);
}
