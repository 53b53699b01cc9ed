using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>TLS on the ingress listener (<c>nwdp.security.tls</c>), with a CA and certificates made here for each test.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TlsSpecs
{
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
        using (var first = ca.Issue("node-one", server: true)) TestCa.WritePem(first, cert, key);
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = cert,
            ["nwdp.security.tls.key-file"] = key,
        });
        Assert.Equal("https", node.Http.Scheme);
        var seen = new List<string>();
        using var client = TestCa.Client(node.Http, ca.Certificate, null, seen);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(client));
        Assert.Equal("CN=node-one", seen.Last());
        // Plain HTTP on the same port gets no answer it could take for one.
        using (var plain = new HttpClient { BaseAddress = new UriBuilder(node.Http) { Scheme = "http" }.Uri })
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/healthz/live"));

        // Rotation: new files in place, the next handshakes present the new certificate.
        using (var second = ca.Issue("node-two", server: true)) TestCa.WritePem(second, cert, key);
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
            using var client = TestCa.Client(node.Http, ca.Certificate, null, seen);
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
        using (var server = ca.Issue("node", server: true)) TestCa.WritePem(server, cert, key);
        await File.WriteAllTextAsync(cas, ca.Certificate.ExportCertificatePem());
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = cert,
            ["nwdp.security.tls.key-file"] = key,
            ["nwdp.security.tls.client-ca-file"] = cas,
        });
        var seen = new List<string>();
        using var valid = ca.Issue("sender", server: false);
        using (var client = TestCa.Client(node.Http, ca.Certificate, valid, seen))
            Assert.Equal(HttpStatusCode.OK, await PostAsync(client));

        using var expired = ca.Issue("expired sender", server: false, notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var foreign = otherCa.Issue("foreign sender", server: false);
        foreach (var (what, certificate) in new (string, X509Certificate2?)[] { ("none", null), ("expired", expired), ("another CA's", foreign) })
        {
            using var client = TestCa.Client(node.Http, ca.Certificate, certificate, seen);
            var refused = await Record.ExceptionAsync(() => PostAsync(client));
            Assert.True(refused is HttpRequestException or IOException, $"a client with {what} certificate was not refused: {refused}");
        }
    }
}
