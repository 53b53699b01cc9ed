using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Actors.Sinks.Catalog;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// Runs the node's ingress pipeline to Kafka once the actor system is up (the pump runs in the sharded
/// sink-writer entities). Stops in order on shutdown (after Kestrel stopped taking requests): ingress answers
/// what it holds; on the embedded broker the local pumps deliver what is on it; the registry reports its last
/// counts. The sink writers then drain and commit when sharding hands their shards off.
/// </summary>
public sealed class NodeService(ActorSystem system, NodeConfig config, KafkaBus bus, LocalPumps pumps, SinkCatalog sinks, IServiceProvider services, ILogger<NodeService> log) : IHostedService
{
    private IngressPipeline? _ingress;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Text.RegularExpressions.Regex> _topicFilters = new();

    public IngressPipeline Ingress => _ingress ?? throw new InvalidOperationException("the node is not started");

    /// <summary>The ingress pipeline once started (the spillover entities replay through it).</summary>
    public IngressPipeline? IngressIfStarted => _ingress;

    /// <summary>The sink writers running in this process now.</summary>
    public IReadOnlyList<DataPump> Pumps => pumps.All;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<StateStoreStatus>()?.Report is { Healthy: false } damaged)
            log.LogError("The state store was damaged ({Problem}) and is quarantined at {Kept}: {Salvaged} rows salvaged and replayed, {Lost} unreadable",
                damaged.Detail, damaged.QuarantinedTo, damaged.Salvaged, damaged.Lost);
        if (bus.Embedded is not null)
            log.LogWarning("No Kafka cluster configured: using the EMBEDDED in-memory Kafka-protocol broker at {Bootstrap} " +
                           "(about 5 MB kept per partition, gone when the node stops). It is for trying NeverwinterDP out and for tests; " +
                           "give --kafka HOST:PORT for a real cluster.", bus.BootstrapServers);
        else
            log.LogInformation("Kafka cluster: {Bootstrap}", bus.BootstrapServers);

        var producer = ProducerSettings<byte[]?, byte[]>.Create(system, Serializers.ByteArray!, Serializers.ByteArray)
            .WithBootstrapServers(bus.BootstrapServers);
        // With spillover, a record Kafka has not taken within nwdp.spill.after is reported not persisted and spilled.
        if (config.Spill.Enabled) producer = producer.WithProperty("message.timeout.ms", ((long)config.Spill.After.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ingressOptions = config.Ingress;
        if (ingressOptions.MaxBusBacklog < 0)
            ingressOptions = ingressOptions with { MaxBusBacklog = bus.Embedded is not null && config.PumpEnabled ? config.EmbeddedMaxUnread : 0 };
        _ingress = new IngressPipeline(system, producer, ingressOptions, bus.Topics)
        {
            BusBacklog = BusBacklog,
        };
        if (ingressOptions.MaxBusBacklog > 0)
            log.LogInformation("Ingress answers 429 while more than {Backlog} acknowledged records of one partition wait for the pump", ingressOptions.MaxBusBacklog);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The most records on any one partition that ingress got acknowledged and the slowest local pump has not
    /// yet taken off the bus (what is taken is safe from the broker's retention). Per partition, because a
    /// partition is what the embedded broker bounds (~5 MB), and one sender's key puts all its events on one.
    /// Pumps of one sink share its partitions: a partition counts against the sink that reads it furthest.
    /// </summary>
    private long BusBacklog()
    {
        if (_ingress is null || !config.PumpEnabled) return 0;
        var running = pumps.All;
        long worst = 0;
        foreach (var sink in sinks.Sections)
        {
            // A sink whose writers are not running (yet) has taken nothing: all it must read counts.
            var positions = new Dictionary<TopicPartition, long>();
            foreach (var pump in running.Where(p => p.Sink.Name == sink.Name))
                foreach (var (tp, next) in pump.Positions)
                    positions[tp] = Math.Max(positions.GetValueOrDefault(tp), next);
            var topics = _topicFilters.GetOrAdd(sink.Topics, t => new System.Text.RegularExpressions.Regex(t, System.Text.RegularExpressions.RegexOptions.Compiled));
            foreach (var (tp, acked) in _ingress.AcknowledgedNextOffsets)
                if (topics.IsMatch(tp.Topic)) worst = Math.Max(worst, acked - positions.GetValueOrDefault(tp));
        }
        return worst;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_ingress is not null)
        {
            await _ingress.StopAsync();
            log.LogInformation("Ingress stopped; every accepted request was answered");
        }
        if (bus.Embedded is not null && _ingress is not null)
        {
            // The embedded broker dies with this process: acknowledged records still on it must reach the
            // sinks first, or they are lost. (A real cluster keeps them for the next start.)
            var deadline = DateTime.UtcNow + config.ShutdownTimeout;
            if (BusBacklog() > 0) log.LogInformation("Waiting for the pumps to deliver {Backlog} records from the embedded broker before it stops", BusBacklog());
            while (BusBacklog() > 0 && DateTime.UtcNow < deadline)
                await Task.Delay(50, CancellationToken.None);
            if (BusBacklog() > 0)
                log.LogError("{Backlog} acknowledged records were still on the embedded broker when the shutdown timeout ran out; they are lost", BusBacklog());
        }
        if (services.GetService<EmitterRegistry>() is { } registry)
        {
            try
            {
                await registry.FlushAsync();
            }
            catch (Exception e)
            {
                log.LogWarning("The emitter registry's last counts were not sent: {Error}", e.Message);
            }
        }
    }
}
