using NeverwinterDP.Client;
using NeverwinterDP.Protocol.Remote;
using Xunit;

namespace NeverwinterDP.Tests.Client;

/// <summary><see cref="EmitterClientOptions.Tls"/>: contact points of the right scheme, files that load, before anything starts.</summary>
public sealed class EmitterClientTlsOptionsTests
{
    private static EmitterClientOptions Options(string contact, RemoteTlsOptions tls) => new() { ContactPoints = [contact], Tls = tls };

    [Fact]
    public void Contact_points_must_be_akka_ssl_tcp_with_TLS_and_akka_tcp_without()
    {
        Options("akka.ssl.tcp://nwdp@10.0.0.5:4053/system/receptionist", new RemoteTlsOptions { Enabled = true }).Validate();
        Options("akka.tcp://nwdp@10.0.0.5:4053/system/receptionist", RemoteTlsOptions.Off).Validate();
        var withTls = Assert.Throws<ArgumentException>(() => Options("akka.tcp://nwdp@10.0.0.5:4053/system/receptionist", new RemoteTlsOptions { Enabled = true }).Validate());
        Assert.Contains("akka.ssl.tcp://nwdp@host:port/system/receptionist", withTls.Message);
        var without = Assert.Throws<ArgumentException>(() => Options("akka.ssl.tcp://nwdp@10.0.0.5:4053/system/receptionist", RemoteTlsOptions.Off).Validate());
        Assert.Contains("Tls.Enabled is False", without.Message);
    }

    [Fact]
    public void A_certificate_that_is_missing_fails_the_start_naming_the_option()
    {
        var options = Options("akka.ssl.tcp://nwdp@127.0.0.1:1/system/receptionist", new RemoteTlsOptions { Enabled = true, CertificateFile = "/nonexistent/client.p12" });
        var e = Assert.Throws<ArgumentException>(() => EmitterClient.Start(options));
        Assert.Contains("EmitterClientOptions.Tls.CertificateFile: /nonexistent/client.p12 does not exist", e.Message);
        var none = Assert.Throws<ArgumentException>(() => EmitterClient.Start(options with { Tls = new RemoteTlsOptions { Enabled = true } }));
        Assert.Contains("EmitterClientOptions.Tls.CertificateFile must be set", none.Message);
    }
}
