using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote;
using NeverwinterDP.Client;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol.Remote;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>
/// Akka remoting over TLS (<c>nwdp.cluster.tls</c>, <c>EmitterClientOptions.Tls</c>) with a CA and certificates made
/// by <c>openssl</c> for each test: nodes with the CA's certificates join, others are refused in the handshake.
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ClusterTlsSpecs
{
    private static Dictionary<string, string> Tls(OpenSslCa ca, (string Certificate, string Key) leaf) => new()
    {
        ["nwdp.cluster.tls.enabled"] = "on",
        ["nwdp.cluster.tls.certificate"] = leaf.Certificate,
        ["nwdp.cluster.tls.key"] = leaf.Key,
        ["nwdp.cluster.tls.ca"] = ca.CertificateFile,
    };

    /// <summary>Collects the remoting lifecycle events of a system: the probe that a connection was tried and failed.</summary>
    private sealed class Failures : ReceiveActor
    {
        public Failures(ConcurrentQueue<string> seen)
        {
            Receive<AssociationErrorEvent>(e => seen.Enqueue($"error {e.RemoteAddress}: {e.Cause?.Message}"));
            Receive<DisassociatedEvent>(e => seen.Enqueue($"disassociated {e.RemoteAddress}"));
        }
    }

    private static ConcurrentQueue<string> WatchFailures(ActorSystem system)
    {
        var seen = new ConcurrentQueue<string>();
        var actor = system.ActorOf(Props.Create(() => new Failures(seen)));
        system.EventStream.Subscribe(actor, typeof(AssociationErrorEvent));
        system.EventStream.Subscribe(actor, typeof(DisassociatedEvent));
        return seen;
    }

    /// <summary>A bare cluster member named like the nodes, with remoting over TLS as <paramref name="tls"/> says (null: plain TCP).</summary>
    private static ActorSystem Intruder(RemoteTlsOptions? tls)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.actor.provider = cluster
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, enable-ssl = {{(tls is null ? "off" : "on")}} }
            """);
        var setup = BootstrapSetup.Create().WithConfig(config);
        return tls is null
            ? ActorSystem.Create(ClusterOptions.SystemName, setup)
            : ActorSystem.Create(ClusterOptions.SystemName, ActorSystemSetup.Create(setup, RemoteTls.Load(tls, RemoteTlsKeys.Node)!.ToSetup()));
    }

    /// <summary>Tries to join <paramref name="node"/> from <paramref name="intruder"/> and waits until its connection failed; the node must not have let it in.</summary>
    private static async Task AssertRefusedAsync(InProcessNode node, ActorSystem intruder, Address target, int members)
    {
        var failures = WatchFailures(intruder);
        Cluster.Get(intruder).Join(target);
        await Wait.UntilAsync(() => failures.Any(f => f.Contains(target.Port!.Value.ToString(), StringComparison.Ordinal)), TimeSpan.FromSeconds(30),
            () => string.Join("; ", failures));
        var self = Cluster.Get(intruder).SelfAddress;
        Assert.Equal(members, node.Cluster.State.Members.Count);
        Assert.DoesNotContain(node.Cluster.State.Members, m => m.Address.Port == self.Port);
        Assert.NotEqual(MemberStatus.Up, Cluster.Get(intruder).SelfMember.Status);
    }

    [Fact]
    public async Task Two_nodes_with_the_CAs_certificates_join_over_TLS_and_a_node_with_another_CAs_certificate_none_or_no_TLS_cannot()
    {
        using var dir = new TempDir();
        var ca = new OpenSslCa(dir.Path, "nwdp cluster CA");
        var rogue = new OpenSslCa(dir.Path, "rogue CA");

        await using var n1 = await InProcessNode.StartAsync(Path.Combine(dir.Path, "n1"), overrides: Tls(ca, ca.Issue("n1")));
        Assert.Equal(RemoteTls.Scheme, n1.Cluster.SelfAddress.Protocol);
        var seed = n1.Cluster.SelfAddress;
        var second = Tls(ca, ca.Issue("n2"));
        second["nwdp.cluster.seeds"] = $"{seed.Host}:{seed.Port}"; // HOST:PORT becomes akka.ssl.tcp://nwdp@HOST:PORT
        await using var n2 = await InProcessNode.StartAsync(Path.Combine(dir.Path, "n2"), overrides: second);
        await Wait.UntilAsync(() => new[] { n1, n2 }.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 2), TimeSpan.FromSeconds(30));

        // Trusts the cluster's CA (so it accepts the node) but presents a certificate of another CA.
        var (rogueCert, rogueKey) = rogue.Issue("intruder");
        using (var intruder = Intruder(new RemoteTlsOptions { Enabled = true, CertificateFile = rogueCert, KeyFile = rogueKey, CaFile = ca.CertificateFile }))
            await AssertRefusedAsync(n1, intruder, seed, 2);

        // A certificate of the right CA, never presented (it does not do mutual TLS): the node requires one.
        var (cert, key) = ca.Issue("shy");
        using (var shy = Intruder(new RemoteTlsOptions { Enabled = true, CertificateFile = cert, KeyFile = key, CaFile = ca.CertificateFile, RequireClientCertificate = false }))
            await AssertRefusedAsync(n1, shy, seed, 2);

        // No TLS at all, to the same port.
        using (var plain = Intruder(null))
            await AssertRefusedAsync(n1, plain, new Address(RemoteTls.PlainScheme, ClusterOptions.SystemName, seed.Host, seed.Port), 2);
    }

    [Fact]
    public async Task An_EmitterClient_with_the_CAs_certificate_sends_over_TLS_and_one_with_another_CAs_certificate_or_without_TLS_cannot()
    {
        using var dir = new TempDir();
        var ca = new OpenSslCa(dir.Path, "nwdp cluster CA");
        var rogue = new OpenSslCa(dir.Path, "rogue CA");
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "node"), overrides: Tls(ca, ca.Issue("node")));
        var run = Guid.NewGuid().ToString("N")[..8];
        Assert.StartsWith("akka.ssl.tcp://", node.ContactPoint());

        // PKCS#12 with a password: the other form a certificate may take.
        var p12 = ca.IssuePkcs12("service", "s3cret");
        var options = ClientTestKit.Options(node) with
        {
            Tls = new RemoteTlsOptions { Enabled = true, CertificateFile = p12, Password = "s3cret", CaFile = ca.CertificateFile },
        };
        await using (var client = EmitterClient.Start(options))
        {
            await client.EmitAsync([ClientTestKit.Event(run, "tls-host", 1, "tls")]).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, client.Metrics.EventsAcked);
        }

        var (rogueCert, rogueKey) = rogue.Issue("intruder");
        var refused = new[]
        {
            options with { Tls = new RemoteTlsOptions { Enabled = true, CertificateFile = rogueCert, KeyFile = rogueKey, CaFile = ca.CertificateFile }, FlushTimeout = TimeSpan.FromSeconds(1) },
            options with
            {
                Tls = RemoteTlsOptions.Off,
                ContactPoints = [node.ContactPoint().Replace("akka.ssl.tcp://", "akka.tcp://", StringComparison.Ordinal)],
                FlushTimeout = TimeSpan.FromSeconds(1),
            },
        };
        foreach (var o in refused)
        {
            await using var client = EmitterClient.Start(o);
            var emit = client.EmitAsync([ClientTestKit.Event(run, "tls-host", 2, "tls")]);
            // The probe: the batch went unanswered for AckTimeout (3 s), or the client gave it up; the node never took it.
            await Wait.UntilAsync(() => client.Metrics.Timeouts > 0 || client.Metrics.EventsFailed > 0, TimeSpan.FromSeconds(30), () => client.Metrics.ToString());
            Assert.False(emit.IsCompletedSuccessfully);
            Assert.Equal(0, client.Metrics.EventsAcked);
        }
    }

    [Fact]
    public void A_certificate_that_does_not_load_stops_the_start_naming_its_key_and_the_password_may_come_from_the_environment()
    {
        using var dir = new TempDir();
        var ca = new OpenSslCa(dir.Path, "nwdp cluster CA");
        var p12 = ca.IssuePkcs12("node", "right");
        NodeConfig Load(Dictionary<string, string> settings)
        {
            settings["nwdp.node.data-dir"] = Path.Combine(dir.Path, "data");
            settings["nwdp.cluster.tls.enabled"] = "on";
            return NodeConfig.Load(null, settings);
        }

        var wrong = Assert.Throws<ArgumentException>(() => Load(new() { ["nwdp.cluster.tls.certificate"] = p12, ["nwdp.cluster.tls.password"] = "wrong" }));
        Assert.Contains("nwdp.cluster.tls.password", wrong.Message);
        Assert.DoesNotContain("wrong", wrong.Message.Replace("is wrong", "", StringComparison.Ordinal)); // the password itself is never in the error

        var (cert, _) = ca.Issue("pem");
        var noKey = Assert.Throws<ArgumentException>(() => Load(new() { ["nwdp.cluster.tls.certificate"] = cert, ["nwdp.cluster.tls.key"] = Path.Combine(dir.Path, "absent.key") }));
        Assert.Contains("nwdp.cluster.tls.key", noKey.Message);
        var badCa = Assert.Throws<ArgumentException>(() => Load(new() { ["nwdp.cluster.tls.certificate"] = p12, ["nwdp.cluster.tls.password"] = "right", ["nwdp.cluster.tls.ca"] = cert + ".missing" }));
        Assert.Contains("nwdp.cluster.tls.ca", badCa.Message);

        var saved = Environment.GetEnvironmentVariable("NWDP_CLUSTER_TLS_PASSWORD");
        try
        {
            Environment.SetEnvironmentVariable("NWDP_CLUSTER_TLS_PASSWORD", "right");
            var config = Load(new() { ["nwdp.cluster.tls.certificate"] = p12 });
            Assert.NotNull(config.ClusterTls);
            Assert.True(config.ClusterTls!.Certificate.HasPrivateKey);
            Assert.Null(config.ClusterTls.Cas);
        }
        finally
        {
            Environment.SetEnvironmentVariable("NWDP_CLUSTER_TLS_PASSWORD", saved);
        }
    }
}
