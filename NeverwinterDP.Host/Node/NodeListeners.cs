using Microsoft.AspNetCore.Server.Kestrel.Core;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The node's two Kestrel listeners: ingress/health and the admin API. Routes are bound to one of them
/// (see <c>AdminApi.MapAdminApi</c>): a request is told apart by the local port it arrived on, which is
/// why the two must use different ports.
/// </summary>
public sealed class NodeListeners
{
    internal ListenOptions? Http { get; set; }

    internal ListenOptions? Admin { get; set; }

    /// <summary>The port ingress listens on (port 0 resolved once started).</summary>
    public int HttpPort => Http?.IPEndPoint?.Port ?? throw new InvalidOperationException("the HTTP listener is not configured");

    /// <summary>The port of the admin API (port 0 resolved once started); null when it is off.</summary>
    public int? AdminPort => Admin?.IPEndPoint?.Port;

    /// <summary>The ingress listener's certificate when it serves HTTPS; null = plain HTTP.</summary>
    public ReloadingCertificate? Certificate { get; internal set; }

    /// <summary>The admin listener's certificate when it serves HTTPS (<c>nwdp.admin.tls</c>); null = plain HTTP.</summary>
    public ReloadingCertificate? AdminCertificate { get; internal set; }

    public bool IsAdminConnection(HttpContext http) => AdminPort is { } port && http.Connection.LocalPort == port;
}

public static class NodeListenersHosting
{
    /// <summary>Kestrel's two listeners: ingress (and health, metrics) and, unless off, the admin API.</summary>
    public static NodeListeners AddNodeListeners(this ConfigureWebHostBuilder web, NodeConfig config)
    {
        var listeners = new NodeListeners
        {
            Certificate = config.Tls is { } tls ? new ReloadingCertificate(tls) : null,
            AdminCertificate = config.Admin is { Enabled: true, Tls: { } adminTls } ? new ReloadingCertificate(adminTls) : null,
        };
        if (listeners.Certificate is not null || listeners.AdminCertificate is not null) web.UseKestrelHttpsConfiguration();
        var (host, port) = config.HttpEndpoint;
        web.ConfigureKestrel(k =>
        {
            // Endpoints enforce their own body limits (the ingress answers 413 with a JSON body).
            k.Limits.MaxRequestBodySize = Math.Max(config.Ingress.MaxRequestBytes, config.Ingress.MaxDecompressedBytes);
            config.HttpLimits.ApplyTo(k.Limits);
            k.Listen(AdminOptions.ListenAddress(host), port, o =>
            {
                listeners.Http = o;
                if (listeners.Certificate is { } certificate) o.UseHttps(certificate.HttpsOptions());
            });
            if (config.Admin.Endpoint is { } admin)
                k.Listen(AdminOptions.ListenAddress(admin.Host), admin.Port, o =>
                {
                    listeners.Admin = o;
                    if (listeners.AdminCertificate is { } certificate) o.UseHttps(certificate.HttpsOptions());
                });
        });
        return listeners;
    }
}
