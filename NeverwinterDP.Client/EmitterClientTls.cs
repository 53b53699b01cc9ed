using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Client;

/// <summary>
/// Hands <see cref="EmitterClientOptions.Tls"/> to Akka.Remote's DotNetty transport as a setup: the loaded certificate
/// and the check of the node's certificate (<see cref="RemoteTls.Accepts"/>: the configured CA), which the transport's
/// HOCON cannot express. The node's side is the same (NeverwinterDP.Host/Node/RemoteTlsSetup.cs).
/// </summary>
internal static class EmitterClientTls
{
    /// <summary>The setup for <paramref name="options"/>' TLS; null when it is off.</summary>
    /// <exception cref="ArgumentException">A file is missing or does not load, or the password is wrong (named).</exception>
    public static DotNettySslSetup? Setup(EmitterClientOptions options) =>
        RemoteTls.Load(options.Tls, RemoteTlsKeys.Client) is { } tls
            ? new DotNettySslSetup(tls.Certificate, suppressValidation: false, tls.RequireClientCertificate, tls.ValidateHostname,
                (certificate, chain, peer, errors, log) =>
                {
                    if (tls.Accepts(certificate, chain, errors, out var reason)) return true;
                    log.Warning("remoting TLS: refused {0} ({1}): {2}", peer, certificate?.Subject ?? "no certificate", reason);
                    return false;
                })
            : null;
}
