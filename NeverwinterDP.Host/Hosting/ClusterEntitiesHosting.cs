using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Spill;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Host.Hosting;

/// <summary>Actor registry keys of the node's shard regions and helpers.</summary>
public sealed class EmitterRegion;

public sealed class WatchdogRegion;

public sealed class SinkWriterRegion;

public sealed class SpilloverRegion;

/// <summary>
/// The sharded entities of a node, one hosting extension each (as Akka.Hosting's own): the emitter registry,
/// the watchdog and the sink writers. Their services come from the container through the dependency resolver.
/// </summary>
public static class ClusterEntitiesHosting
{
    /// <summary>Shards of the emitter and watchdog regions (10 per node of the largest cluster expected is plenty).</summary>
    public const int RegistryShards = 100;

    /// <summary>Emitter entities (one per <c>host/process</c>), persisted; not remembered (they only answer and record).</summary>
    public static AkkaConfigurationBuilder WithEmitterRegistry(this AkkaConfigurationBuilder akka) =>
        akka.WithShardRegion<EmitterRegion>(EmitterEntity.TypeName,
            (_, _, _) => EmitterEntity.PropsFor,
            new RegistryMessageExtractor(RegistryShards),
            new ShardOptions { RememberEntities = false, PassivateIdleEntityAfter = TimeSpan.FromMinutes(10) });

    /// <summary>
    /// Watchdog entities (one per host), persisted and remembered (event-sourced store in the journal): a host's
    /// deadline is checked again after a restart or a move, not only when its next beat arrives.
    /// </summary>
    public static AkkaConfigurationBuilder WithWatchdog(this AkkaConfigurationBuilder akka, WatchdogOptions options) =>
        akka.WithShardRegion<WatchdogRegion>(WatchdogEntity.TypeName,
            (_, _, resolver) => host => WatchdogEntity.PropsFor(host, options, resolver.GetService<IWatchdogPublisher>()),
            new RegistryMessageExtractor(RegistryShards),
            new ShardOptions
            {
                RememberEntities = true,
                RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                ShouldPassivateIdleEntities = false,
            });

    /// <summary>
    /// Sink writers (one per sink and slot) on the nodes with the <c>pump</c> role (a proxy elsewhere), kept
    /// running by a keeper on every node; hand-off drains and commits (<see cref="StopSinkWriter"/>).
    /// </summary>
    public static AkkaConfigurationBuilder WithSinkWriters(this AkkaConfigurationBuilder akka, NodeConfig config)
    {
        var options = new ShardOptions
        {
            Role = config.Roles.Count > 0 ? NodeConfig.PumpRole : null,
            RememberEntities = false,
            ShouldPassivateIdleEntities = false,
            HandOffStopMessage = StopSinkWriter.Instance,
        };
        akka = config.HasRole(NodeConfig.PumpRole) && config.PumpEnabled
            ? akka.WithShardRegion<SinkWriterRegion>(SinkWriterEntity.TypeName,
                (_, _, resolver) => id => SinkWriterEntity.PropsFor(id, resolver.GetService<SinkWriterContext>()),
                new SinkWriterMessageExtractor(), options)
            : akka.WithShardRegionProxy<SinkWriterRegion>(SinkWriterEntity.TypeName, NodeConfig.PumpRole, new SinkWriterMessageExtractor());
        if (!config.PumpEnabled) return akka;
        return akka.WithActors((system, registry, resolver) =>
        {
            var catalog = resolver.GetService<ISinkCatalog>();
            system.ActorOf(SinkWriterKeeper.PropsFor(catalog.EntityIds, registry.Get<SinkWriterRegion>(), config.SinkWriterKeepAlive), "sink-writer-keeper");
        });
    }

    /// <summary>
    /// Spillover entities (one per topic), persisted and remembered: a node that restarts with a backlog replays
    /// it without waiting for traffic. Not passivated while they hold batches.
    /// </summary>
    public static AkkaConfigurationBuilder WithSpillover(this AkkaConfigurationBuilder akka) =>
        akka.AddHocon(SpillSerializer.Hocon, HoconAddMode.Prepend)
            .WithShardRegion<SpilloverRegion>(SpilloverEntity.TypeName,
                (_, _, resolver) => topic => SpilloverEntity.PropsFor(topic, resolver.GetService<SpillContext>()),
                new RegistryMessageExtractor(RegistryShards),
                new ShardOptions
                {
                    RememberEntities = true,
                    RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                    ShouldPassivateIdleEntities = false,
                });

    /// <summary>The services the entities use.</summary>
    public static IServiceCollection AddClusterEntityServices(this IServiceCollection services) => services
        .AddSingleton<LocalPumps>()
        .AddSingleton(sp => new BusCircuit(sp.GetRequiredService<NodeConfig>().Spill.ProbeInterval, sp.GetRequiredService<TimeProvider>())
        {
            ReplayProbes = () => sp.GetRequiredService<SpillQuota>().Used > 0,
        })
        .AddSingleton(sp => new SpillQuota(sp.GetRequiredService<NodeConfig>().Spill.QuotaBytes))
        .AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<NodeService>();
            return new SpillContext(sp.GetRequiredService<NodeConfig>().Spill, sp.GetRequiredService<SpillQuota>(), sp.GetRequiredService<BusCircuit>(),
                () => node.IngressIfStarted, sp.GetServices<IIngressObserver>().ToList(), sp.GetRequiredService<TimeProvider>(),
                Path.Combine(sp.GetRequiredService<NodeConfig>().DataDir, "quarantine", "spill"))
            {
                Witness = sp.GetRequiredService<KafkaSpillWitness>(),
                Hook = sp.GetService<SpillReplayHook>(),
            };
        })
        .AddSingleton(sp => new KafkaSpillWitness(sp.GetRequiredService<KafkaBus>().BootstrapServers, sp.GetRequiredService<KafkaBus>().Topics))
        .AddSingleton(sp => new Spillover(sp.GetRequiredService<ActorRegistry>().Get<SpilloverRegion>(), TimeSpan.FromSeconds(30)))
        .AddSingleton<ISinkCatalog>(sp =>
        {
            var config = sp.GetRequiredService<NodeConfig>();
            return new SinkWriterCatalog(sp.GetRequiredService<SinkCatalog>(), config.Pump, config.WritersPerSink);
        })
        .AddSingleton(sp =>
        {
            var system = sp.GetRequiredService<ActorSystem>();
            var bus = sp.GetRequiredService<KafkaBus>();
            var producer = ProducerSettings<byte[]?, byte[]>.Create(system, Serializers.ByteArray!, Serializers.ByteArray).WithBootstrapServers(bus.BootstrapServers);
            return new KafkaDeadLetterQueue(producer.CreateKafkaProducer());
        })
        .AddSingleton(sp =>
        {
            var system = sp.GetRequiredService<ActorSystem>();
            var bus = sp.GetRequiredService<KafkaBus>();
            var consumer = ConsumerSettings<Ignore, byte[]>.Create(system, Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(bus.BootstrapServers);
            return new SinkWriterContext(sp.GetRequiredService<ISinkCatalog>(), consumer, sp.GetRequiredService<KafkaDeadLetterQueue>(), sp.GetRequiredService<LocalPumps>(),
                sp.GetService<IDeliveryObserver>() is { } observer ? new DeliveredOnceBySink(observer) : null);
        })
        .AddSingleton<IWatchdogPublisher>(sp =>
        {
            var system = sp.GetRequiredService<ActorSystem>();
            var bus = sp.GetRequiredService<KafkaBus>();
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watchdog");
            var producer = ProducerSettings<byte[]?, byte[]>.Create(system, Serializers.ByteArray!, Serializers.ByteArray).WithBootstrapServers(bus.BootstrapServers);
            return new KafkaWatchdogPublisher(producer.CreateKafkaProducer(), m => log.LogWarning("{Message}", m));
        })
        .AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<ActorRegistry>();
            var config = sp.GetRequiredService<NodeConfig>();
            return new EmitterRegistry(sp.GetRequiredService<ActorSystem>(), registry.Get<EmitterRegion>(), registry.Get<WatchdogRegion>(),
                config.RegistryFlushInterval, config.DefaultBeatInterval);
        })
        .AddSingleton<IIngressObserver>(sp => sp.GetRequiredService<EmitterRegistry>())
        .AddSingleton<IHeartbeatListener>(sp => sp.GetRequiredService<EmitterRegistry>())
        .AddSingleton<IRegistryQueries>(sp => sp.GetRequiredService<EmitterRegistry>());
}
