using Akka.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.Logging.Console;
using NeverwinterDP.Actors;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Remote;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Spill;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Hosting;

/// <summary>What the start-up check of the state store found (null: not SQLite).</summary>
public sealed record StateStoreStatus(StateStoreReport? Report);

/// <summary>Builds a node: Kestrel (ingress, health), the actor system, the bus, the data path.</summary>
public static class NodeHost
{
    /// <param name="configureServices">Extra registrations (tests add sinks here).</param>
    public static WebApplication Build(NodeConfig config, TimeProvider? clock = null, Action<IServiceCollection>? configureServices = null)
    {
        Directory.CreateDirectory(config.DataDir);
        // Before anything opens it: a damaged SQLite state store is quarantined and salvaged, not fatal.
        var store = StateStoreCheck.Run(config);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "nwdp" });
        builder.Logging.ClearProviders();
        // Standard output carries the ready line for scripts; logs go to standard error.
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var (host, port) = config.HttpEndpoint;
        var listeners = new NodeListeners();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Endpoints enforce their own body limits (the ingress answers 413 with a JSON body).
            k.Limits.MaxRequestBodySize = Math.Max(config.Ingress.MaxRequestBytes, config.Ingress.MaxDecompressedBytes);
            k.Listen(AdminOptions.ListenAddress(host), port, o => listeners.Http = o);
            if (config.Admin.Endpoint is { } admin)
                k.Listen(AdminOptions.ListenAddress(admin.Host), admin.Port, o => listeners.Admin = o);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.ShutdownTimeout + TimeSpan.FromSeconds(60));

        builder.Services
            .AddSingleton(config)
            .AddSingleton(new StateStoreStatus(store))
            .AddSingleton(listeners)
            .AddSingleton(clock ?? TimeProvider.System)
            .AddSingleton(_ => KafkaBus.Create(config))
            .AddClusterEntityServices()
            .AddNodeActorSystem(config, clock ?? TimeProvider.System)
            .AddHostedService<GracefulLeave>()
            .AddSinks()
            .AddNodeStats(config)
            .AddSingleton<NodeService>()
            .AddHostedService(sp => sp.GetRequiredService<NodeService>())
            .AddSingleton<NodeIdentity>()
            .AddSingleton<SourceSequences>()
            .AddSingleton(sp => new IngressContexts(() => sp.GetRequiredService<NodeIdentity>().Id, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<SourceSequences>().Next))
            .AddSingleton(sp => new EventIngress(sp.GetRequiredService<NodeService>().Ingress, sp.GetServices<IIngressObserver>(),
                config.Spill.Enabled ? sp.GetRequiredService<Spillover>() : null, sp.GetRequiredService<BusCircuit>()))
            .AddSingleton<IngressEndpoint>()
            // After NodeService: starts once the ingress runs, stops before it.
            .AddSingleton<RemoteIngressMetrics>()
            .AddSingleton<RemoteIngressService>()
            .AddHostedService(sp => sp.GetRequiredService<RemoteIngressService>());

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseRouting();
        app.UseListenerSeparation(app.Services.GetRequiredService<NodeListeners>().IsAdminConnection, config.Admin.Token);
        if (config.Cluster.HasRole(NodeRoles.Ingress))
            app.MapPost("/v1/events", (HttpContext http, IngressEndpoint endpoint) => endpoint.HandleAsync(http));
        else
            app.MapPost("/v1/events", () => Results.Json(
                new { error = $"this node does not have the '{NodeRoles.Ingress}' role (nwdp.cluster.roles = {string.Join(",", config.Cluster.Roles)}); send events to a node that has it" },
                statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapHealthEndpoints();
        if (config.Admin.Enabled) app.MapAdminApi();
        app.MapNodeStats();
        return app;
    }

    /// <summary>
    /// The actor system from the node's HOCON; with no seed nodes it forms a cluster of its own (unless
    /// <c>nwdp.cluster.join-self = off</c>: then it waits for <c>nwdp cluster join</c>).
    /// </summary>
    public static IServiceCollection AddNodeActorSystem(this IServiceCollection services, NodeConfig config, TimeProvider clock) =>
        services.AddAkka(ClusterOptions.SystemName, (akka, _) => akka
            .AddHocon(config.Hocon, HoconAddMode.Prepend)
            // GracefulLeave stops the data path in this phase when the cluster removes the node: give it the
            // time the host gives the data path.
            .AddHocon($"akka.coordinated-shutdown.phases.before-service-unbind.timeout = {(long)(config.ShutdownTimeout + TimeSpan.FromSeconds(30)).TotalMilliseconds}ms",
                HoconAddMode.Prepend)
            .AddHocon(config.Persistence.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            // Under the node's configuration: the emitter protocol's serializer and frames large enough for its batches.
            .AddHocon(RemoteIngressHocon.Node, HoconAddMode.Append)
            .WithEmitterRegistry()
            .WithWatchdog(config.Watchdog with { Clock = clock })
            .WithSinkWriters(config)
            .WithSpillover()
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                if (config.Cluster.Seeds.Count == 0 && config.Cluster.JoinSelf) cluster.Join(cluster.SelfAddress);
            }));

    /// <summary>Registers a sink kind: one line per sink class. Instances come from <c>nwdp.sinks.&lt;name&gt;</c> with this <c>kind</c>.</summary>
    public static IServiceCollection AddSinkKind(this IServiceCollection services, string kind, Func<SinkSection, ISink> create) =>
        services.AddSingleton(new SinkKind(kind, create));

    /// <summary>The address the ingress listener actually listens on (port 0 resolved).</summary>
    public static Uri HttpAddress(this WebApplication app) =>
        new UriBuilder("http", app.Services.GetRequiredService<NodeConfig>().HttpEndpoint.Host, app.Services.GetRequiredService<NodeListeners>().HttpPort).Uri;

    /// <summary>The address of the admin API (port 0 resolved); null when it is off.</summary>
    public static Uri? AdminAddress(this WebApplication app) =>
        app.Services.GetRequiredService<NodeListeners>().AdminPort is { } port
            ? new UriBuilder("http", app.Services.GetRequiredService<NodeConfig>().Admin.Endpoint!.Value.Host, port).Uri
            : null;

    /// <summary>This node's cluster address (the remoting port resolved), e.g. <c>akka.tcp://nwdp@127.0.0.1:41234</c>.</summary>
    public static Akka.Actor.Address ClusterAddress(this WebApplication app) =>
        Cluster.Get(app.Services.GetRequiredService<Akka.Actor.ActorSystem>()).SelfAddress;
}
