using System.Net;
using System.Net.Http.Headers;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>TLS on the admin listener (<c>nwdp.admin.tls</c>) and the verbs over it, with a CA and certificates made here for each test.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AdminTlsSpecs
{
    [Fact]
    public async Task The_admin_API_serves_HTTPS_with_client_certificates_the_verbs_reach_it_with_the_CA_and_a_new_certificate_is_taken_without_a_restart()
    {
        using var dir = new TempDir();
        using var ca = new TestCa("nwdp admin CA");
        string cert = Path.Combine(dir.Path, "admin.crt"), key = Path.Combine(dir.Path, "admin.key"), caFile = Path.Combine(dir.Path, "ca.pem");
        string operatorCert = Path.Combine(dir.Path, "operator.crt"), operatorKey = Path.Combine(dir.Path, "operator.key");
        using (var first = ca.Issue("admin-one", server: true)) TestCa.WritePem(first, cert, key);
        await File.WriteAllTextAsync(caFile, ca.Certificate.ExportCertificatePem());
        using var operatorCertificate = ca.Issue("operator", server: false);
        TestCa.WritePem(operatorCertificate, operatorCert, operatorKey);
        var data = Path.Combine(dir.Path, "data");
        await using var node = await InProcessNode.StartAsync(data, overrides: new()
        {
            ["nwdp.admin.tls.cert-file"] = cert,
            ["nwdp.admin.tls.key-file"] = key,
            ["nwdp.admin.tls.client-ca-file"] = caFile,
        });
        var admin = node.App.AdminAddress()!;
        Assert.Equal("https", admin.Scheme);
        Assert.Equal("http", node.Http.Scheme); // the ingress listener keeps its own settings
        var token = AdminToken.Read(data)!;

        var seen = new List<string>();
        using var client = TestCa.Client(admin, ca.Certificate, operatorCertificate, seen);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using (var response = await client.GetAsync("/v1/cluster/status")) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CN=admin-one", seen.Last());

        // No client certificate, or plain HTTP: refused before any HTTP.
        using (var anonymous = TestCa.Client(admin, ca.Certificate, null, seen))
        {
            var refused = await Record.ExceptionAsync(() => anonymous.GetAsync("/v1/cluster/status"));
            Assert.True(refused is HttpRequestException or IOException, $"a client without a certificate was not refused: {refused}");
        }
        using (var plain = new HttpClient { BaseAddress = new UriBuilder(admin) { Scheme = "http" }.Uri })
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/v1/cluster/status"));

        // The verbs: https by URL or implied by --ca; the issuer is checked, never skipped.
        var https = $"https://127.0.0.1:{admin.Port}";
        var ok = await Nwdp.RunAsync("cluster", "status", "--node", https, "--data", data, "--ca", caFile, "--client-cert", operatorCert, "--client-key", operatorKey);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        var implied = await Nwdp.RunAsync("cluster", "show", "--node", $"127.0.0.1:{admin.Port}", "--data", data, "--ca", caFile, "--client-cert", operatorCert, "--client-key", operatorKey);
        Assert.True(implied.ExitCode == 0, implied.ToString());
        Assert.Equal("Count: 1 nodes", implied.Lines[^1]);
        var untrusted = await Nwdp.RunAsync("cluster", "status", "--node", https, "--data", data, "--client-cert", operatorCert, "--client-key", operatorKey);
        Assert.True(untrusted.ExitCode == 1, untrusted.ToString());
        Assert.Contains($"cannot reach node {https} over TLS", untrusted.Stderr);
        Assert.Contains("--ca", untrusted.Stderr);
        var withoutCertificate = await Nwdp.RunAsync("cluster", "status", "--node", https, "--data", data, "--ca", caFile);
        Assert.True(withoutCertificate.ExitCode == 1, withoutCertificate.ToString());
        Assert.Contains($"node {https}", withoutCertificate.Stderr);
        var missingCa = await Nwdp.RunAsync("cluster", "status", "--node", https, "--data", data, "--ca", Path.Combine(dir.Path, "nope.pem"));
        Assert.True(missingCa.ExitCode == 2 && missingCa.Stderr.Contains("--ca"), missingCa.ToString());

        // Rotation: the admin listener reloads its files as the ingress listener does (the same code, TlsSpecs).
        using (var second = ca.Issue("admin-two", server: true)) TestCa.WritePem(second, cert, key);
        await Wait.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/v1/cluster/status");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            lock (seen) return seen.Last() == "CN=admin-two";
        }, TimeSpan.FromSeconds(30), () => $"still presented: {seen.Last()}");
    }

    [Fact]
    public async Task With_ingress_certificate_on_the_admin_API_presents_the_ingress_certificate()
    {
        using var dir = new TempDir();
        using var ca = new TestCa("nwdp test CA");
        string cert = Path.Combine(dir.Path, "node.crt"), key = Path.Combine(dir.Path, "node.key");
        using (var server = ca.Issue("node", server: true)) TestCa.WritePem(server, cert, key);
        var without = Assert.Throws<ArgumentException>(() => NodeConfig.Load(null, new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = dir.Path,
            ["nwdp.admin.tls.ingress-certificate"] = "on",
        }));
        Assert.Contains("nwdp.security.tls.cert-file", without.Message);

        var data = Path.Combine(dir.Path, "data");
        await using var node = await InProcessNode.StartAsync(data, overrides: new()
        {
            ["nwdp.security.tls.cert-file"] = cert,
            ["nwdp.security.tls.key-file"] = key,
            ["nwdp.admin.tls.ingress-certificate"] = "on",
        });
        var admin = node.App.AdminAddress()!;
        Assert.Equal("https", admin.Scheme);
        var seen = new List<string>();
        using var client = TestCa.Client(admin, ca.Certificate, null, seen);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken.Read(data)!);
        using (var response = await client.GetAsync("/v1/cluster/status")) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CN=node", seen.Last());
    }
}
