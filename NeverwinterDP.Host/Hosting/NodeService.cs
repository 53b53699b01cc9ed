using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Host.Hosting;

/// <summary>
/// Runs the node's data path once the actor system is up: the ingress pipeline to Kafka and one data pump
/// per sink. Stops them in order on shutdown (after Kestrel stopped taking requests): ingress answers what
/// it holds, then each pump drains, flushes and commits.
/// </summary>
public sealed class NodeService(ActorSystem system, NodeConfig config, KafkaBus bus, IEnumerable<SinkKind> kinds, ILogger<NodeService> log) : IHostedService
{
    private readonly List<DataPump> _pumps = new();
    private KafkaDeadLetterQueue? _deadLetters;
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
        // Every instance is built (and so validated) before any starts: a bad sink config stops the node at once.
        var sinks = SinkKind.CreateAll(kinds, config.Hocon.GetConfig("nwdp.sinks"), config.DataDir);
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(system, Deserializers.Ignore, Deserializers.ByteArray)
            .WithBootstrapServers(bus.BootstrapServers);
        _deadLetters = new KafkaDeadLetterQueue(producer.CreateKafkaProducer());
        foreach (var (section, sink) in sinks)
        {
            var pump = new DataPump(system, consumer, sink, config.Pump with { TopicPattern = section.Topics }, _deadLetters);
            await pump.StartAsync(cancellationToken);
            _pumps.Add(pump);
            log.LogInformation("Data pump for sink {Sink} ({Kind}, topics {Topics}) started", sink.Name, section.Kind, section.Topics);
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
        _deadLetters?.Dispose();
    }
}

/// <summary>A sink class the host can build, by <c>kind</c> (what <c>AddSinkKind</c> registers).</summary>
public sealed record SinkKind(string Kind, Func<SinkSection, ISink> Create)
{
    /// <summary>
    /// Builds every enabled instance under <c>nwdp.sinks</c>; throws <see cref="SinkConfigException"/> naming
    /// the key for an unknown kind or a bad option.
    /// </summary>
    public static List<(SinkSection Section, ISink Sink)> CreateAll(IEnumerable<SinkKind> kinds, Akka.Configuration.Config? sinks, string dataDir)
    {
        var byKind = kinds.ToDictionary(k => k.Kind, StringComparer.OrdinalIgnoreCase);
        var result = new List<(SinkSection, ISink)>();
        if (sinks is null || sinks.IsEmpty) return result;
        foreach (var name in sinks.AsEnumerable().Select(kv => kv.Key).Distinct())
        {
            var section = new SinkSection(name, sinks.GetConfig(name), dataDir);
            if (!section.Enabled) continue;
            if (!byKind.TryGetValue(section.Kind, out var kind))
                throw new SinkConfigException(section.Key("kind"), $"unknown sink kind '{section.Kind}'; this build knows {string.Join(", ", byKind.Keys.Order())}");
            result.Add((section, kind.Create(section)));
        }
        return result;
    }
}
