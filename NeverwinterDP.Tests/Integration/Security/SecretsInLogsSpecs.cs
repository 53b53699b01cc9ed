using System.Net;
using System.Net.Sockets;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>Issue 14, item 7: a node given secrets never writes them where an operator or a log shipper reads.</summary>
[Collection(Processes.ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class SecretsInLogsSpecs(ITestOutputHelper output)
{
    private const string Password = "Pw-Secret-4711";
    private const string HecToken = "hec-Secret-0815";
    private const string SaslPassword = "sasl-Secret-2323";
    private const string ClusterTlsPassword = "tls-Secret-9191";

    [Fact]
    public async Task Neither_a_sinks_password_a_HEC_token_a_SASL_password_nor_the_remoting_keys_password_appears_in_the_nodes_output_or_admin_answers_even_while_the_sink_fails()
    {
        using var dir = new TempDir();
        // Remoting over TLS with a PKCS#12 key behind a password: the node joins itself through it.
        var ca = new OpenSslCa(dir.Path, "nwdp cluster CA");
        var p12 = ca.IssuePkcs12("node", ClusterTlsPassword);
        // A port nothing listens on: the SQL sink fails, again and again, and says so in the log.
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var node = await NodeProcess.StartAsync("node", dir.Path, settings:
        [
            "nwdp.sinks.pg.kind=postgresql",
            $"nwdp.sinks.pg.connection-string=Host=127.0.0.1;Port={closed};Username=nwdp;Password={Password};Database=logs;Timeout=2",
            $"nwdp.inputs.hec.tokens={HecToken}",
            "nwdp.pump.batch-interval=50ms",
            // Read and checked, then ignored with a warning: the embedded broker speaks plaintext only.
            "nwdp.kafka.security.protocol=sasl_plaintext",
            "nwdp.kafka.security.sasl.mechanism=SCRAM-SHA-256",
            "nwdp.kafka.security.sasl.username=nwdp",
            $"nwdp.kafka.security.sasl.password={SaslPassword}",
            "nwdp.cluster.tls.enabled=on",
            $"nwdp.cluster.tls.certificate={p12}",
            $"nwdp.cluster.tls.password={ClusterTlsPassword}",
            $"nwdp.cluster.tls.ca={ca.CertificateFile}",
        ]);
        using var http = Ingress.NewClient();
        using (var response = await Ingress.PostAsync(http, node.Http, "secrets", Enumerable.Range(0, 20).Select(i => Ingress.Line($"s{i}", "h"))))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Until the sink's failure is in the log (it names the sink).
        await Poll.UntilAsync(() => Task.FromResult(node.Child.Stderr.Any(l => l.Contains("pg", StringComparison.Ordinal) &&
                (l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("refused", StringComparison.OrdinalIgnoreCase)))),
            Limits.PumpCatchUp, () => $"the failing sink 'pg' was never logged. {node.Child.Describe()}");

        using var admin = node.AdminClient();
        var answers = new List<string>();
        foreach (var route in new[] { "/v1/sinks", "/v1/lag", "/v1/cluster/status", "/v1/spill/status" })
        {
            using var response = await admin.GetAsync(route);
            answers.Add($"{route}: {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Equal(0, await node.StopGracefullyAsync());

        var everything = string.Join('\n', node.Child.Stdout.Concat(node.Child.Stderr).Concat(answers));
        output.WriteLine($"{everything.Length} characters of output and answers searched; the sink's failure: " +
            node.Child.Stderr.First(l => l.Contains("pg", StringComparison.Ordinal)));
        Assert.DoesNotContain(Password, everything);
        Assert.DoesNotContain(HecToken, everything);
        Assert.Contains("nwdp.kafka.security.protocol = sasl_plaintext is ignored", everything);
        Assert.DoesNotContain(SaslPassword, everything);
        Assert.DoesNotContain(ClusterTlsPassword, everything);
        // The node did run its remoting over TLS (the cluster status answer names its address).
        Assert.Contains("akka.ssl.tcp://", everything);
    }
}
