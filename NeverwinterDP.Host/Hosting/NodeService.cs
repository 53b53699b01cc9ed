using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// Runs the node's data path once the actor system is up: the ingress pipeline to Kafka and one data pump
/// per sink. Stops them in order on shutdown (after Kestrel stopped taking requests): ingress answers what
/// it holds, then each pump drains, flushes and commits.
/// </summary>
public sealed class NodeService(ActorSystem system, NodeConfig config, KafkaBus bus, IEnumerable<ISinkRegistration> sinks, ILogger<NodeService> log) : IHostedService
{
    private readonly List<DataPump> _pumps = new();
    private IngressPipeline? _ingress;

    public IngressPipeline Ingress => _ingress ?? throw new InvalidOperationException("the node is not started");

    public IReadOnlyList<DataPump> Pumps => _pumps;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (bus.Embedded is not null)
            log.LogWarning("No Kafka cluster configured: using the EMBEDDED in-memory Kafka-protocol broker at {Bootstrap} " +
                           "(about 5 MB kept per partition, gone when the node stops). It is for trying NeverwinterDP out and for tests; " +
                           "give --kafka HOST:PORT for a real cluster.", bus.BootstrapServers);
        else
            log.LogInformation("Kafka cluster: {Bootstrap}", bus.BootstrapServers);

        var producer = ProducerSettings<byte[]?, byte[]>.Create(system, Serializers.ByteArray!, Serializers.ByteArray)
            .WithBootstrapServers(bus.BootstrapServers);
        var ingressOptions = config.Ingress;
        if (ingressOptions.MaxBusBacklog < 0)
            ingressOptions = ingressOptions with { MaxBusBacklog = bus.Embedded is not null && config.PumpEnabled ? config.EmbeddedMaxUnread : 0 };
        _ingress = new IngressPipeline(system, producer, ingressOptions, bus.Topics)
        {
            BusBacklog = BusBacklog,
        };
        if (ingressOptions.MaxBusBacklog > 0)
            log.LogInformation("Ingress answers 429 while more than {Backlog} acknowledged records of one partition wait for the pump", ingressOptions.MaxBusBacklog);

        if (!config.PumpEnabled) return;
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(system, Deserializers.Ignore, Deserializers.ByteArray)
            .WithBootstrapServers(bus.BootstrapServers);
        foreach (var registration in sinks)
        {
            if (!registration.IsEnabled(config)) continue;
            var sink = registration.Create(config);
            var pump = new DataPump(system, consumer, sink, config.Pump);
            await pump.StartAsync(cancellationToken);
            _pumps.Add(pump);
            log.LogInformation("Data pump for sink {Sink} started", sink.Name);
        }
    }

    /// <summary>
    /// The most records on any one partition that ingress got acknowledged and the slowest pump has not yet
    /// taken off the bus (what taken is safe from the broker's retention). Per partition, because a
    /// partition is what the embedded broker bounds (~5 MB), and one sender's key puts all its events on one.
    /// </summary>
    private long BusBacklog()
    {
        if (_pumps.Count == 0 || _ingress is null) return 0;
        long worst = 0;
        foreach (var pump in _pumps)
        {
            var positions = pump.Positions;
            foreach (var (tp, acked) in _ingress.AcknowledgedNextOffsets)
                worst = Math.Max(worst, acked - positions.GetValueOrDefault(tp));
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
        if (bus.Embedded is not null && _pumps.Count > 0 && _ingress is not null)
        {
            // The embedded broker dies with this process: acknowledged records still on it must reach the
            // sinks first, or they are lost. (A real cluster keeps them for the next start.)
            var deadline = DateTime.UtcNow + config.ShutdownTimeout;
            long Backlog() => Math.Max(_ingress.Acknowledged - _pumps.Min(p => p.Stats.Delivered + p.Stats.Rejected), BusBacklog());
            if (Backlog() > 0) log.LogInformation("Waiting for the pumps to deliver {Backlog} records from the embedded broker before it stops", Backlog());
            while (Backlog() > 0 && DateTime.UtcNow < deadline && _pumps.All(p => p.IsRunning || p.Stats.Restarts > 0))
                await Task.Delay(50, CancellationToken.None);
            if (Backlog() > 0)
                log.LogError("{Backlog} acknowledged records were still on the embedded broker when the shutdown timeout ran out; they are lost", Backlog());
        }
        foreach (var pump in _pumps)
        {
            await pump.StopAsync();
            log.LogInformation("Data pump for sink {Sink} stopped: {Delivered} delivered, {Committed} committed", pump.Sink.Name, pump.Stats.Delivered, pump.Stats.Committed);
        }
    }
}

/// <summary>One line per sink kind: whether the config enables it, and how to build it.</summary>
public interface ISinkRegistration
{
    bool IsEnabled(NodeConfig config);
    ISink Create(NodeConfig config);
}

/// <summary>A sink registration from two delegates (what <c>AddSink</c> builds).</summary>
public sealed class SinkRegistration(Func<NodeConfig, bool> isEnabled, Func<NodeConfig, ISink> create) : ISinkRegistration
{
    public bool IsEnabled(NodeConfig config) => isEnabled(config);
    public ISink Create(NodeConfig config) => create(config);
}
