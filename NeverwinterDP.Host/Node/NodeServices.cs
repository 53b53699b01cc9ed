using NeverwinterDP.Actors.Schemas;
using Akka.Actor;
using Akka.Hosting;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The services of each part of a node, one extension per part, in the order <see cref="NodeHost"/> chains them.
/// Services that reach a shard region are built on first use, which is after the actor system started.
/// </summary>
public static class NodeServices
{
    /// <summary>The emitter registry (the node's door to the emitter and watchdog entities) and the watchdog's Kafka publisher.</summary>
    public static IServiceCollection AddRegistry(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton<IWatchdogPublisher>(sp =>
        {
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("watchdog");
            return new KafkaWatchdogPublisher(Producer(sp).CreateKafkaProducer(), m => log.LogWarning("{Message}", m));
        })
        .AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<ActorRegistry>();
            return new EmitterRegistry(sp.GetRequiredService<ActorSystem>(), registry.Get<EmitterRegion>(), registry.Get<WatchdogRegion>(),
                config.RegistryFlushInterval, config.DefaultBeatInterval);
        })
        .AddSingleton<IIngressObserver>(sp => sp.GetRequiredService<EmitterRegistry>())
        .AddSingleton<IHeartbeatListener>(sp => sp.GetRequiredService<EmitterRegistry>())
        .AddSingleton<IRegistryQueries>(sp => sp.GetRequiredService<EmitterRegistry>());

    /// <summary>What the sink writers share: the sinks configured, the consumer settings, the dead-letter topic, the pumps running here.</summary>
    public static IServiceCollection AddPump(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton<LocalPumps>()
        .AddSingleton<ISinkCatalog>(sp => new SinkWriterCatalog(sp.GetRequiredService<SinkCatalog>(),
            config.Pump with { SinkOffsetBase = sp.GetRequiredService<KafkaBus>().SinkOffsetBase }, config.WritersPerSink))
        .AddSingleton(sp => new KafkaDeadLetterQueue(Producer(sp).CreateKafkaProducer()))
        .AddSingleton(sp =>
        {
            var consumer = sp.GetRequiredService<KafkaBus>().Clients.Apply(
                ConsumerSettings<Ignore, byte[]>.Create(sp.GetRequiredService<ActorSystem>(), Deserializers.Ignore, Deserializers.ByteArray));
            return new SinkWriterContext(sp.GetRequiredService<ISinkCatalog>(), consumer, sp.GetRequiredService<KafkaDeadLetterQueue>(), sp.GetRequiredService<LocalPumps>(),
                sp.GetService<IDeliveryObserver>() is IDurableDeliveryObserver observer ? new DeliveredOnceBySink(observer, sp.GetService<StatsStore>()) : null,
                config.Watermarks.Enabled ? sp.GetRequiredService<Actors.Watermarks.WatermarkHub>() : null);
        })
        .AddSingleton(sp =>
        {
            // Every node answers for every sink instance (read from Kafka), whether or not it pumps.
            var sinks = sp.GetRequiredService<SinkCatalog>();
            var subjects = sinks.Sections.Select(s => new LagSubject(s.Name, $"{config.Pump.GroupId}.{s.Name}", s.Topics)).ToList();
            return new ConsumerLag(sp.GetRequiredService<KafkaBus>().Clients, () => subjects, config.Pump.LagInterval, config.Pump.LagTimeout,
                sp.GetService<TimeProvider>());
        });

    /// <summary>
    /// Replays of a range of a topic into a sink, and of the dead-letter topics (<c>/v1/admin/replay</c>, <c>/v1/admin/dlq</c>):
    /// the pump's consumer properties, sinks built from the catalog, the pump's dead-letter topic and retries, positions under
    /// <c>&lt;data&gt;/replay</c>.
    /// </summary>
    public static IServiceCollection AddReplay(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton(sp =>
        {
            var catalog = sp.GetRequiredService<SinkCatalog>();
            return new ReplayContext(sp.GetRequiredService<KafkaBus>().Clients,
                name => catalog.Names.Contains(name)
                    ? catalog.Create(name)
                    : throw new ReplayRequestException($"--sink {name}: no such sink is configured on this node (configured: {(catalog.Names.Count == 0 ? "none" : string.Join(", ", catalog.Names))})", notFound: true),
                sp.GetRequiredService<KafkaDeadLetterQueue>(), Path.Combine(config.DataDir, "replay"),
                new SinkRetryOptions { MinBackoff = config.Pump.RetryMinBackoff, MaxBackoff = config.Pump.RetryMaxBackoff, MaxAttempts = config.Pump.RetryMaxAttempts })
            {
                BatchSize = config.Pump.BatchSize,
                SinkOffsetBase = sp.GetRequiredService<KafkaBus>().SinkOffsetBase,
            };
        })
        .AddSingleton(sp => new ReplayJobs(sp.GetRequiredService<ReplayContext>()))
        .AddSingleton(sp => new DeadLetterReplay(sp.GetRequiredService<ReplayContext>()));

    /// <summary>
    /// The bus writer (every way into Kafka goes through it), the backlog guard over the local pumps, the circuit
    /// over the bus and the spillover store it falls back to; <see cref="BusService"/> runs the writer.
    /// </summary>
    public static IServiceCollection AddBus(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton<IBusBacklog, PumpBacklog>()
        .AddSingleton(sp =>
        {
            var bus = sp.GetRequiredService<KafkaBus>();
            var producer = Producer(sp);
            // akka's message.timeout.ms; with spillover on a request waits only nwdp.spill.after, then spills (see NodeConfig).
            producer = producer.WithProperty("message.timeout.ms", ((long)config.IngressMessageTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture))
                // At stop, what the producer still holds was spilled or answered 503 (BusWriter.StopAsync): it must not
                // reach the bus later from a producer that outlives the node, so it is dropped, not flushed for a minute.
                .WithCloseTimeout(TimeSpan.FromSeconds(2));
            // auto: guarded on the embedded broker (it keeps ~5 MB per partition) when this node pumps; a real cluster keeps days.
            var maxBacklog = config.Ingress.MaxBusBacklog >= 0 ? config.Ingress.MaxBusBacklog : bus.Embedded is not null && config.PumpEnabled ? config.EmbeddedMaxUnread : 0;
            return new BusWriter(sp.GetRequiredService<ActorSystem>(), producer,
                new BusWriterOptions(config.Ingress.QueueCapacity, config.Ingress.EnqueueTimeout, maxBacklog, config.Ingress.BacklogWait), bus.Topics,
                config.PumpEnabled ? sp.GetRequiredService<IBusBacklog>() : null,
                config.Watermarks.Enabled ? sp.GetRequiredService<HourCounts>() : null);
        })
        .AddHostedService<BusService>()
        .AddSingleton(new SpillQuota(config.Spill.QuotaBytes))
        .AddSingleton(sp => new BusCircuit(config.Spill.ProbeInterval, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SpillQuota>()))
        .AddSingleton(sp => new KafkaSpillWitness(sp.GetRequiredService<KafkaBus>().Clients, sp.GetRequiredService<KafkaBus>().Topics))
        .AddSingleton(sp => new SpillContext(config.Spill, sp.GetRequiredService<SpillQuota>(), sp.GetRequiredService<BusCircuit>(), sp.GetRequiredService<BusWriter>(),
            sp.GetServices<IIngressObserver>().ToList(), sp.GetRequiredService<TimeProvider>(), SpillQuarantine.DirectoryOf(config.DataDir))
        {
            Witness = sp.GetRequiredService<KafkaSpillWitness>(),
            Hook = sp.GetService<SpillReplayHook>(),
            StoreId = sp.GetRequiredService<SpillStoreInfo>().Id,
            JournalPluginId = sp.GetRequiredService<SpillStoreInfo>().JournalPluginId,
            ReadJournalPluginId = sp.GetRequiredService<SpillStoreInfo>().ReadJournalPluginId,
        })
        .AddSingleton(sp => new SpillWriter(sp.GetRequiredService<ActorRegistry>().Get<SpillStore>(), TimeSpan.FromSeconds(30),
            Path.GetDirectoryName(sp.GetRequiredService<SpillStoreInfo>().Path), config.Spill.After));

    /// <summary>The one way events enter the bus (<see cref="EventIngress"/>), what stamps their lineage, and its two doors: HTTP and Akka remote.</summary>
    public static IServiceCollection AddIngress(this IServiceCollection services) => services
        .AddSingleton<NodeIdentity>()
        .AddSingleton<INodeIdentity>(sp => sp.GetRequiredService<NodeIdentity>())
        .AddSingleton<SourceSequences>()
        .AddSingleton<IngressContexts>()
        .AddSingleton(sp =>
        {
            var config = sp.GetRequiredService<NodeConfig>();
            return new EventIngress(sp.GetRequiredService<BusWriter>(), config.Ingress, sp.GetServices<IIngressObserver>(),
                config.Spill.Enabled ? sp.GetRequiredService<SpillWriter>() : null, sp.GetRequiredService<BusCircuit>(), sp.GetService<TypedLogTypes>());
        })
        .AddSingleton(sp => new IngressBudget(sp.GetRequiredService<NodeConfig>().Ingress.MaxBytesInFlight))
        .AddSingleton<IngressEndpoint>()
        .AddSingleton<RemoteIngressMetrics>();

    /// <summary>A producer of raw records on the node's bus: <c>akka.kafka.producer</c> with the cluster's address and security.</summary>
    internal static ProducerSettings<byte[]?, byte[]> Producer(IServiceProvider sp) =>
        sp.GetRequiredService<KafkaBus>().Clients.Apply(
            ProducerSettings<byte[]?, byte[]>.Create(sp.GetRequiredService<ActorSystem>(), Serializers.ByteArray!, Serializers.ByteArray));
}
