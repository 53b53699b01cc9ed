using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Protocol.Tls;

namespace NeverwinterDP.Host.Security;

/// <summary>
/// A certificate read from files and read again when they change (looked at no more than once a second, on a TLS
/// handshake): certificate rotation without a restart. A pair that does not load (half written) leaves the previous one in use.
/// </summary>
public sealed class ReloadingCertificate
{
    private static readonly long CheckEveryMs = 1000;
    private readonly TlsOptions _options;
    private readonly Lock _reload = new();
    private volatile X509Certificate2 _current;
    private (DateTime, long, DateTime, long) _seen;
    private long _checkedAt;

    /// <exception cref="ArgumentException">The files do not hold a certificate with its private key (at start: the node does not start).</exception>
    public ReloadingCertificate(TlsOptions options)
    {
        _options = options;
        _seen = Stamp();
        _current = Load(options);
        _checkedAt = Environment.TickCount64;
        ClientCas = options.ClientCaFile is { } ca ? LoadCas(options, ca) : null;
    }

    /// <summary>The CA certificates client certificates must chain to; null = no client certificate asked for.</summary>
    public X509Certificate2Collection? ClientCas { get; }

    /// <summary>The certificate to present now.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _checkedAt) < CheckEveryMs) return _current;
            lock (_reload)
            {
                if (now - _checkedAt < CheckEveryMs) return _current;
                _checkedAt = now;
                try
                {
                    var stamp = Stamp();
                    if (stamp != _seen)
                    {
                        _current = Load(_options);
                        _seen = stamp;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
                {
                    // Being replaced: the certificate in use stays until the new pair loads.
                }
                return _current;
            }
        }
    }

    /// <summary>Whether a client certificate chains to <see cref="ClientCas"/> and is valid now (not expired, not yet valid).</summary>
    public bool ValidateClient(X509Certificate2? certificate)
    {
        if (ClientCas is null) return true;
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ClientCas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        return chain.Build(certificate);
    }

    /// <summary>What Kestrel's HTTPS listener is given.</summary>
    public Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions HttpsOptions() => new()
    {
        ServerCertificateSelector = (_, _) => Current,
        ClientCertificateMode = ClientCas is null
            ? Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.NoCertificate
            : Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
        ClientCertificateValidation = (certificate, _, _) => ValidateClient(certificate),
        SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
    };

    private (DateTime, long, DateTime, long) Stamp()
    {
        var cert = new FileInfo(_options.CertFile);
        var key = _options.KeyFile is null ? null : new FileInfo(_options.KeyFile);
        return (cert.LastWriteTimeUtc, cert.Exists ? cert.Length : -1, key?.LastWriteTimeUtc ?? default, key is { Exists: true } ? key.Length : -1);
    }

    /// <summary>
    /// The listener's certificate with its private key (<see cref="CertificateFiles.Load"/>) from its settings
    /// (<c>cert-file</c>, <c>key-file</c>, <c>key-password</c> under <see cref="TlsOptions.Section"/>; the ingress
    /// listener's key file can also come from <c>--tls-key</c>).
    /// </summary>
    private static X509Certificate2 Load(TlsOptions options) =>
        CertificateFiles.Load(options.CertFile, options.KeyFile, options.KeyPassword, new CertificateSettings($"{options.Section}.cert-file",
            $"{options.Section}.key-file" + (options.Section == "nwdp.security.tls" ? " (--tls-key)" : ""), $"{options.Section}.key-password"));

    private static X509Certificate2Collection LoadCas(TlsOptions options, string file) =>
        CertificateFiles.LoadCaBundle(file, $"{options.Section}.client-ca-file");
}
