using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>TLS on the ingress listener (<c>nwdp.security.tls</c>), with a CA and certificates made here for each test.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TlsSpecs
{
    private sealed class TestCa : IDisposable
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
    }

    private static void WritePem(X509Certificate2 certificate, string certFile, string keyFile)
    {
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>An HTTPS client that trusts only <paramref name="ca"/>, presenting <paramref name="clientCertificate"/>; records the server certificate it saw.</summary>
    private static HttpClient Client(Uri address, X509Certificate2 ca, X509Certificate2? clientCertificate, List<string> seen)
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

    private static async Task<HttpStatusCode> PostAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/v1/events?type=tls", new StringContent("{\"msg\":\"over tls\"}\n", Encoding.UTF8, "application/x-ndjson"));
        return response.StatusCode;
    }

    [Fact]
    public async Task Ingress_serves_HTTPS_with_the_configured_certificate_and_takes_a_new_one_without_a_restart()
    {
        using var dir = new TempDir();
        using var ca = new TestCa("nwdp test CA");
        string cert = Path.Combine(dir.Path, "node.crt"), key = Path.Combine(dir.Path, "node.key");
        using (var first = ca.Issue("node-one", server: true)) WritePem(first, cert, key);
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = cert,
            ["nwdp.security.tls.key-file"] = key,
        });
        Assert.Equal("https", node.Http.Scheme);
        var seen = new List<string>();
        using var client = Client(node.Http, ca.Certificate, null, seen);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(client));
        Assert.Equal("CN=node-one", seen.Last());
        // Plain HTTP on the same port gets no answer it could take for one.
        using (var plain = new HttpClient { BaseAddress = new UriBuilder(node.Http) { Scheme = "http" }.Uri })
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/healthz/live"));

        // Rotation: new files in place, the next handshakes present the new certificate.
        using (var second = ca.Issue("node-two", server: true)) WritePem(second, cert, key);
        await Wait.UntilAsync(async () =>
        {
            Assert.Equal(HttpStatusCode.OK, await PostAsync(client));
            lock (seen) return seen.Last() == "CN=node-two";
        }, TimeSpan.FromSeconds(30), () => $"still presented: {seen.Last()}");
    }

    [Fact]
    public async Task A_PKCS12_file_with_a_password_serves_too_and_a_missing_key_stops_the_start()
    {
        using var dir = new TempDir();
        using var ca = new TestCa("nwdp test CA");
        var pfx = Path.Combine(dir.Path, "node.pfx");
        using (var server = ca.Issue("node-pfx", server: true)) await File.WriteAllBytesAsync(pfx, server.Export(X509ContentType.Pkcs12, "pw"));
        await using (var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = pfx,
            ["nwdp.security.tls.key-password"] = "pw",
        }))
        {
            var seen = new List<string>();
            using var client = Client(node.Http, ca.Certificate, null, seen);
            Assert.Equal(HttpStatusCode.OK, await PostAsync(client));
            Assert.Equal("CN=node-pfx", seen.Last());
        }
        var cert = Path.Combine(dir.Path, "node.crt");
        using (var server = ca.Issue("node", server: true)) await File.WriteAllTextAsync(cert, server.ExportCertificatePem());
        var e = await Assert.ThrowsAsync<ArgumentException>(() => InProcessNode.StartAsync(Path.Combine(dir.Path, "data2"), overrides: new() { ["nwdp.security.tls.cert-file"] = cert }));
        Assert.Contains("nwdp.security.tls.key-file", e.Message);
    }

    [Fact]
    public async Task With_a_client_CA_a_client_without_a_valid_certificate_is_refused()
    {
        using var dir = new TempDir();
        using var ca = new TestCa("nwdp test CA");
        using var otherCa = new TestCa("someone else");
        string cert = Path.Combine(dir.Path, "node.crt"), key = Path.Combine(dir.Path, "node.key"), cas = Path.Combine(dir.Path, "clients.pem");
        using (var server = ca.Issue("node", server: true)) WritePem(server, cert, key);
        await File.WriteAllTextAsync(cas, ca.Certificate.ExportCertificatePem());
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = cert,
            ["nwdp.security.tls.key-file"] = key,
            ["nwdp.security.tls.client-ca-file"] = cas,
        });
        var seen = new List<string>();
        using var valid = ca.Issue("sender", server: false);
        using (var client = Client(node.Http, ca.Certificate, valid, seen))
            Assert.Equal(HttpStatusCode.OK, await PostAsync(client));

        using var expired = ca.Issue("expired sender", server: false, notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var foreign = otherCa.Issue("foreign sender", server: false);
        foreach (var (what, certificate) in new (string, X509Certificate2?)[] { ("none", null), ("expired", expired), ("another CA's", foreign) })
        {
            using var client = Client(node.Http, ca.Certificate, certificate, seen);
            var refused = await Record.ExceptionAsync(() => PostAsync(client));
            Assert.True(refused is HttpRequestException or IOException, $"a client with {what} certificate was not refused: {refused}");
        }
    }
}
