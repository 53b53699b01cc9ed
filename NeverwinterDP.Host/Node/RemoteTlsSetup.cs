using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Hands <c>nwdp.cluster.tls</c> to Akka.Remote's DotNetty transport. A setup rather than HOCON: the transport's HOCON
/// takes only a PKCS#12 path and trusts only the system's CAs, the setup takes the loaded certificate and our own check
/// (<see cref="RemoteTls.Accepts"/>, the configured CA), for the certificate of every node and client on both sides.
/// </summary>
public static class RemoteTlsSetup
{
    public static DotNettySslSetup ToSetup(this RemoteTls tls) =>
        new(tls.Certificate, suppressValidation: false, tls.RequireClientCertificate, tls.ValidateHostname,
            (certificate, chain, peer, errors, log) =>
            {
                if (tls.Accepts(certificate, chain, errors, out var reason)) return true;
                log.Warning("remoting TLS: refused {0} ({1}): {2}", peer, certificate?.Subject ?? "no certificate", reason);
                return false;
            });
}
