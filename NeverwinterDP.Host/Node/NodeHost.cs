using NeverwinterDP.Actors.Kafka.Embedded;
using Akka.Cluster;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Host.Search;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Dashboard;
using NeverwinterDP.Host.Discovery;
using NeverwinterDP.Host.Persistence;
using NeverwinterDP.Host.SpillTransfer;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Host.Syslog;
using NeverwinterDP.Host.ZeroMq;

namespace NeverwinterDP.Host.Node;

/// <summary>What the start-up check of the state store found (null: not SQLite).</summary>
public sealed record StateStoreStatus(StateStoreReport? Report);

/// <summary>
/// The composition root: builds a node as one chain, top to bottom. Hosted services start in the order they are
/// added and stop in reverse: the actor system, the graceful leave, stats, the bus writer, the remote ingress, the
/// syslog listeners, the ZeroMQ input — so ingress stops taking events first and the actor system goes last.
/// </summary>
public static class NodeHost
{
    /// <param name="configureServices">Extra registrations (tests add sinks here).</param>
    /// <exception cref="SpillKeyException">A configured spill key is missing or not a key (the message names its file or variable).</exception>
    public static WebApplication Build(NodeConfig config, TimeProvider? clock = null, Action<IServiceCollection>? configureServices = null)
    {
        // Before anything reads the journal: a missing key stops the start, its batches untouched.
        var spillKeys = SpillKeyRing.Load(config.Spill.Encryption, ("nwdp.spill.encryption.key-file", "nwdp.spill.encryption.key-variable"));
        // Before anything writes to the data directory (a new one is epoch 0): the embedded broker's incarnation on it.
        var busEpoch = config.KafkaBootstrap is null ? BusEpoch.Next(config.DataDir) : 0;
        Directory.CreateDirectory(config.DataDir);
        // Before anything opens it: a damaged SQLite state store is quarantined and salvaged, not fatal.
        var store = new StateStoreStatus(StateStoreCheck.Run(config));
        // The spill store: on this node's disk, its own file unless the node's journal is its own SQLite file.
        var spillStore = SpillStoreFile.Open(config);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "nwdp" });
        builder.Logging.AddNodeLogging();
        var listeners = builder.WebHost.AddNodeListeners(config);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.ShutdownTimeout + TimeSpan.FromSeconds(60));

        builder.Services
            .AddSingleton(config)
            .AddSingleton(store)
            .AddSingleton(spillStore)
            .AddSingleton<NodeExit>()
            .AddSingleton(spillKeys)
            .AddSingleton(listeners)
            .AddSingleton(clock ?? TimeProvider.System)
            .AddSingleton(_ => KafkaBus.Create(config, busEpoch))
            .AddHostedService<SpillStoreLock>() // first to start, last to stop: nwdp spill export/import see the node running
            .AddNodeStatsPublishing()     // publishes nwdp.stats; stops after the actor system (the pumps' last counts)
            .AddHostedService<MySqlJournalTables>() // MySQL/MariaDB: the journal's tables, made before the actor system uses them
            .AddNodeActorSystem(config)   // the actor system: shard regions, remote ingress (NodeActorSystem.cs)
            .AddHostedService<GracefulLeave>()
            .AddRegistry(config)          // emitter registry and watchdog
            .AddSinks(config.Sinks, config.DataDir, config.Watermarks.Enabled) // the sink kinds this build knows and the instances configured
            .AddPump(config)              // sink writers and the pumps they run
            .AddReplay(config)            // replay jobs and dead-letter replays (Replay/)
            .AddMirrors(config)           // mirrors of nwdp.mirrors: their entities' context, lag, board, metrics (MirrorServices.cs)
            .AddSingleton(sp => new SearchService(config.Search, sp.GetRequiredService<SinkCatalog>().Sections)) // log search over a sink (Search/)
            .AddNodeStats(config)         // per-minute stats, audit, /metrics
            .AddNodeCoverage(config)      // coverage and summary reports (nwdp report)
            .AddAlerts()                  // what the alert evaluator reads, its queries, reload on SIGHUP
            .AddBus(config)               // the bus writer, its backlog guard and circuit, spillover
            .AddWatermarks(config)        // hour markers on the log topics, hour completions (WatermarkHosting.cs)
            .AddSchemaRegistry(config)    // the schema registry this node serves (or the external one it registers with)
            .AddSingleton(new SenderKeys(config.SenderKeysFile, clock ?? TimeProvider.System)) // API keys of HTTP senders (Security/)
            .AddIngress()                 // HTTP and Akka-remote ingress
            .AddSingleton<RemoteIngressService>().AddHostedService(sp => sp.GetRequiredService<RemoteIngressService>())
            .AddSyslogInputs(sp => sp.GetRequiredService<NodeListeners>().Certificate) // syslog TCP/TLS/UDP and RELP listeners (Syslog/)
            .AddZeroMqInput()             // the ZeroMQ ROUTER input (ZeroMq/)
            .AddDashboard()               // the live dashboard's snapshots, served on the admin listener (Dashboard/)
            .AddNodeDiscovery(sp => IngressAddress(sp)); // mDNS announcements, seeds by mDNS or DNS SRV; stops first (Discovery/)

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapNodeEndpoints(config);
        if (config.Tls is null && !AdminOptions.IsLoopback(config.HttpEndpoint.Host)) // plaintext off loopback: say so (Security/)
            app.Logger.LogWarning("ingress listens on {Endpoint} without TLS: events and API keys cross the network in plain text; set nwdp.security.tls.cert-file (--tls-cert) or put a TLS proxy in front", $"{config.HttpEndpoint.Host}:{config.HttpEndpoint.Port}");
        if (config.Admin is { Endpoint: { } admin, Tls: null } && !AdminOptions.IsLoopback(admin.Host))
            app.Logger.LogWarning("the admin API listens on {Endpoint} without TLS: its token and answers cross the network in plain text; set nwdp.admin.tls.cert-file (or nwdp.admin.tls.ingress-certificate = on) or put a TLS proxy in front", $"{admin.Host}:{admin.Port}");
        foreach (var key in spillKeys.Keys.Where(k => k.FileReadableByOthers))
            app.Logger.LogWarning("spill key file {File} can be read by other users than its owner: chmod 600 it (the key decrypts every batch it sealed)", key.FilePath);
        return app;
    }

    private static Uri IngressAddress(IServiceProvider sp) =>
        new UriBuilder(sp.GetRequiredService<NodeListeners>().Certificate is null ? "http" : "https", sp.GetRequiredService<NodeConfig>().HttpEndpoint.Host, sp.GetRequiredService<NodeListeners>().HttpPort).Uri;

    /// <summary>The address the ingress listener actually listens on (port 0 resolved).</summary>
    public static Uri HttpAddress(this WebApplication app) =>
        new UriBuilder(app.Services.GetRequiredService<NodeListeners>().Certificate is null ? "http" : "https", app.Services.GetRequiredService<NodeConfig>().HttpEndpoint.Host, app.Services.GetRequiredService<NodeListeners>().HttpPort).Uri;

    /// <summary>The address of the admin API (port 0 resolved); null when it is off.</summary>
    public static Uri? AdminAddress(this WebApplication app) =>
        app.Services.GetRequiredService<NodeListeners>().AdminPort is { } port
            ? new UriBuilder(app.Services.GetRequiredService<NodeListeners>().AdminCertificate is null ? "http" : "https",
                app.Services.GetRequiredService<NodeConfig>().Admin.Endpoint!.Value.Host, port).Uri
            : null;

    /// <summary>This node's cluster address (the remoting port resolved), e.g. <c>akka.tcp://nwdp@127.0.0.1:41234</c>.</summary>
    public static Akka.Actor.Address ClusterAddress(this WebApplication app) =>
        Cluster.Get(app.Services.GetRequiredService<Akka.Actor.ActorSystem>()).SelfAddress;
}
