using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A certificate authority made for one test (never a committed key): issues server certificates for 127.0.0.1 and
/// client certificates, and writes them as PEM files the way an operator would give them to a node.
/// </summary>
public sealed class TestCa : IDisposable
{
    public TestCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-5), DateTimeOffset.UtcNow.AddDays(30));
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>A leaf signed by this CA: a server certificate for 127.0.0.1, or a client certificate.</summary>
    public X509Certificate2 Issue(string name, bool server, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var until = notAfter ?? DateTimeOffset.UtcNow.AddDays(10);
        using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddDays(-3), until, RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => Certificate.Dispose();

    public static void WritePem(X509Certificate2 certificate, string certFile, string keyFile)
    {
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>An HTTPS client that trusts only <paramref name="ca"/>, presenting <paramref name="clientCertificate"/>; records the server certificate it saw.</summary>
    public static HttpClient Client(Uri address, X509Certificate2 ca, X509Certificate2? clientCertificate, List<string> seen)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    var server = (X509Certificate2)certificate!;
                    lock (seen) seen.Add(server.Subject);
                    return chain.Build(server);
                },
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            },
            PooledConnectionLifetime = TimeSpan.Zero, // every request a new handshake: rotation is seen at once
        };
        return new HttpClient(handler) { BaseAddress = address };
    }
}
