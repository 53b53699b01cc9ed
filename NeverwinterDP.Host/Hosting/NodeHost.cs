using System.Net;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Console;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Hosting;

/// <summary>Builds a node: Kestrel (ingress, health), the actor system, the bus, the data path.</summary>
public static class NodeHost
{
    /// <param name="configureServices">Extra registrations (tests add sinks here).</param>
    public static WebApplication Build(NodeConfig config, TimeProvider? clock = null, Action<IServiceCollection>? configureServices = null)
    {
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
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Endpoints enforce their own body limits (the ingress answers 413 with a JSON body).
            k.Limits.MaxRequestBodySize = Math.Max(config.Ingress.MaxRequestBytes, config.Ingress.MaxDecompressedBytes);
            k.Listen(host switch
            {
                "localhost" => IPAddress.Loopback,
                "*" or "0.0.0.0" or "" => IPAddress.Any,
                _ => IPAddress.Parse(host),
            }, port);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.ShutdownTimeout + TimeSpan.FromSeconds(60));

        builder.Services
            .AddSingleton(config)
            .AddSingleton(clock ?? TimeProvider.System)
            .AddSingleton(_ => KafkaBus.Create(config))
            .AddClusterEntityServices()
            .AddNodeActorSystem(config, clock ?? TimeProvider.System)
            .AddSinks()
            .AddNodeStats(config)
            .AddSingleton<NodeService>()
            .AddHostedService(sp => sp.GetRequiredService<NodeService>())
            .AddSingleton<NodeIdentity>()
            .AddSingleton<SourceSequences>()
            .AddSingleton(sp => new EventIngress(sp.GetRequiredService<NodeService>().Ingress, sp.GetServices<IIngressObserver>()))
            .AddSingleton<IngressEndpoint>();

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapPost("/v1/events", (HttpContext http, IngressEndpoint endpoint) => endpoint.HandleAsync(http));
        app.MapHealthEndpoints();
        app.MapNodeStats();
        return app;
    }

    /// <summary>The actor system from the node's HOCON; with no seed nodes it forms a cluster of its own.</summary>
    public static IServiceCollection AddNodeActorSystem(this IServiceCollection services, NodeConfig config, TimeProvider clock) =>
        services.AddAkka("nwdp", (akka, _) => akka
            .AddHocon(config.Hocon, HoconAddMode.Prepend)
            .AddHocon(config.Persistence.ToHocon(), HoconAddMode.Prepend)
            .AddHocon(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .WithEmitterRegistry()
            .WithWatchdog(config.Watchdog with { Clock = clock })
            .WithSinkWriters(config)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                if (config.Hocon.GetStringList("akka.cluster.seed-nodes").Count == 0) cluster.Join(cluster.SelfAddress);
            }));

    /// <summary>Registers a sink kind: one line per sink class. Instances come from <c>nwdp.sinks.&lt;name&gt;</c> with this <c>kind</c>.</summary>
    public static IServiceCollection AddSinkKind(this IServiceCollection services, string kind, Func<SinkSection, ISink> create) =>
        services.AddSingleton(new SinkKind(kind, create));

    /// <summary>The address Kestrel actually listens on (port 0 resolved).</summary>
    public static Uri HttpAddress(this WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("the HTTP server reports no address");
        return new Uri(addresses.First());
    }
}
