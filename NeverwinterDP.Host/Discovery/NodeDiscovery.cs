using System.Net;
using System.Net.NetworkInformation;
using Akka.Actor;
using Akka.Cluster;
using NeverwinterDP.Protocol.Discovery;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Discovery;

/// <summary>
/// Zero-configuration discovery on a node (<c>nwdp.cluster.discovery</c>, docs/cluster.md#discovery). Once the node
/// listens: with <c>announce = on</c> it answers mDNS queries for its DNS-SD service (<see cref="NodeAnnouncement"/>:
/// SRV on its remoting port, TXT with its cluster address, ingress URL, roles and cluster name) and announces itself;
/// with a <c>method</c> and no seeds configured it looks for the cluster's nodes and joins them, or forms a cluster
/// of its own when none answered within <c>timeout</c> (with <c>join-self = on</c>). Stops first on shutdown: the
/// goodbye (TTL 0) goes out while the node still serves, so clients stop choosing it.
/// </summary>
public sealed class NodeDiscovery(NodeConfig config, ActorSystem system, IHostApplicationLifetime lifetime, Func<Uri> ingress, ILogger<NodeDiscovery> log)
    : IHostedService, IAsyncDisposable
{
    private readonly DiscoveryOptions _options = config.Discovery;
    private readonly CancellationTokenSource _stopping = new();
    private MdnsAnnouncer? _announcer;
    private Task _started = Task.CompletedTask;

    /// <summary>What this node announces; null until it does (or when <c>announce</c> is off).</summary>
    public NodeAnnouncement? Announcement { get; private set; }

    /// <summary>Whether the node looks for seeds: a method is set and no seeds are configured.</summary>
    public static bool FindsSeeds(NodeConfig config) => config.Discovery.Method is not null && config.Cluster.Seeds.Count == 0;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Method is not null && config.Cluster.Seeds.Count > 0)
            log.LogInformation("nwdp.cluster.discovery.method = {Method} is not used: nwdp.cluster.seeds are configured", _options.Method);
        if (!_options.Announce && !FindsSeeds(config)) return Task.CompletedTask;
        // Once the listeners are bound (their ports are known), not before: what is announced must answer.
        lifetime.ApplicationStarted.Register(() => _started = Task.Run(RunAsync));
        return Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        try
        {
            var self = Cluster.Get(system).SelfAddress;
            // Announced before looking: two nodes that start together find each other, and the one whose address
            // sorts first forms the cluster (Akka's first seed); the other joins it.
            if (_options.Announce)
            {
                try
                {
                    Announce(self);
                }
                catch (Exception e) when (e is InvalidOperationException or System.Net.Sockets.SocketException or ArgumentException)
                {
                    // Not announced (no multicast interface, port 5353 refused): the node still runs and still looks.
                    log.LogError(e, "discovery: cannot announce this node over mDNS; clients and new nodes will not find it that way");
                }
            }
            if (!FindsSeeds(config)) return;
            var found = await ClusterDiscovery.FindAsync(_options.Method!, _options.Timeout, _options.ClusterName, InterfaceFilter(_options.Interfaces), _stopping.Token);
            var others = found.Select(n => Address.Parse(n.Akka)).Where(a => a != self).ToList();
            if (others.Count == 0)
            {
                if (!config.Cluster.JoinSelf)
                {
                    log.LogWarning("discovery {Method}: no node answered within {Timeout}; waiting to be joined (nwdp.cluster.join-self = off)", _options.Method, _options.Timeout);
                    return;
                }
                log.LogInformation("discovery {Method}: no node answered within {Timeout}; forming a cluster of one", _options.Method, _options.Timeout);
                Cluster.Get(system).Join(self);
                return;
            }
            var seeds = others.Append(self).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();
            log.LogInformation("discovery {Method}: joining {Seeds}", _options.Method, string.Join(", ", others));
            Cluster.Get(system).JoinSeedNodes(seeds);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError(e, "discovery failed (announce {Announce}, method {Method}): set nwdp.cluster.seeds, or join the node with `nwdp cluster join`", _options.Announce ? "on" : "off", _options.Method?.ToString() ?? "off");
        }
    }

    private void Announce(Address self)
    {
        var instance = _options.Instance ?? $"{self.Host}-{self.Port}".Replace('.', '-');
        var url = ingress();
        var host = url.Host is "0.0.0.0" or "[::]" or "::" ? self.Host! : url.Host;
        var ingressUrl = new UriBuilder(url) { Host = host }.Uri.ToString().TrimEnd('/');
        Announcement = new NodeAnnouncement(instance, self.Host!, self.Port!.Value, self.ToString(), ingressUrl, _options.ClusterName, config.Cluster.Roles);
        var address = IPAddress.TryParse(self.Host, out var ip) && !ip.Equals(IPAddress.Any) ? ip : null;
        _announcer = new MdnsAnnouncer(Announcement, _options.ServiceType, address, InterfaceFilter(_options.Interfaces));
        log.LogInformation("discovery: announcing {Instance}.{Service}.local over mDNS (akka={Akka}, ingress={Ingress})", instance, _options.ServiceType, Announcement.Akka, ingressUrl);
    }

    /// <summary>The interfaces named in <c>interfaces</c>; null (every one) when it is empty.</summary>
    public static Func<IEnumerable<NetworkInterface>, IEnumerable<NetworkInterface>>? InterfaceFilter(IReadOnlyList<string> names) =>
        names.Count == 0 ? null : nics => nics.Where(n => names.Contains(n.Name, StringComparer.Ordinal));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _started.ConfigureAwait(false);
        Unannounce();
    }

    private void Unannounce()
    {
        if (Interlocked.Exchange(ref _announcer, null) is not { } announcer) return;
        announcer.Dispose(); // the goodbye: the records with TTL 0
        log.LogInformation("discovery: announcements stopped");
    }

    public ValueTask DisposeAsync()
    {
        Unannounce();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The node's hosting of <see cref="NodeDiscovery"/>.</summary>
public static class DiscoveryHosting
{
    /// <param name="ingress">The node's ingress base URL, read once the listeners are bound.</param>
    public static IServiceCollection AddNodeDiscovery(this IServiceCollection services, Func<IServiceProvider, Uri> ingress) =>
        services.AddSingleton(sp => new NodeDiscovery(sp.GetRequiredService<NodeConfig>(), sp.GetRequiredService<ActorSystem>(),
                sp.GetRequiredService<IHostApplicationLifetime>(), () => ingress(sp), sp.GetRequiredService<ILogger<NodeDiscovery>>()))
            .AddHostedService(sp => sp.GetRequiredService<NodeDiscovery>());
}
