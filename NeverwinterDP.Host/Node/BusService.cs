using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The bus writer's lifetime. Started after the actor system (the writer is built when this service is); on
/// shutdown, after Kestrel stopped taking requests: the writer answers what it holds; on the embedded broker the
/// local sinks store what is on it. The emitter registry then reports its last counts and the sink writers
/// drain and commit, in the actor system's coordinated shutdown.
/// </summary>
public sealed class BusService(BusWriter writer, KafkaBus bus, NodeConfig config, StateStoreStatus store, ILogger<BusService> log)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.Report is { Healthy: false } damaged)
            log.LogError("The state store was damaged ({Problem}) and is quarantined at {Kept}: {Salvaged} rows salvaged and replayed, {Lost} unreadable",
                damaged.Detail, damaged.QuarantinedTo, damaged.Salvaged, damaged.Lost);
        if (bus.Embedded is not null)
            log.LogWarning("No Kafka cluster configured: using the EMBEDDED in-memory Kafka-protocol broker at {Bootstrap} " +
                           "(about 5 MB kept per partition, gone when the node stops). It is for trying NeverwinterDP out and for tests; " +
                           "give --kafka HOST:PORT for a real cluster. Bus epoch {Epoch} on this data directory: the sinks see Kafka offset + {Base} (docs/reliability.md).",
                bus.BootstrapServers, bus.Epoch, bus.SinkOffsetBase);
        else
            log.LogInformation("Kafka cluster: {Bootstrap}", bus.Clients); // the address and protocol, never a secret
        if (bus.Embedded is not null && !config.KafkaSecurity.IsPlaintext)
            log.LogWarning("nwdp.kafka.security.protocol = {Protocol} is ignored: the embedded broker speaks plaintext only", config.KafkaSecurity.Protocol);
        if (writer.Options.MaxBacklog > 0)
            log.LogInformation("Ingress answers 429 while more than {Backlog} acknowledged records of one partition wait for the pump", writer.Options.MaxBacklog);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync();
        log.LogInformation("Ingress stopped; every accepted request was answered");
        if (bus.Embedded is not null)
        {
            // The embedded broker dies with this process: acknowledged records still on it must be stored by the
            // sinks (and committed) first, or they are lost. Read is not enough: a pump may have read a record and
            // let it go (its partition revoked in a rebalance) for another writer to read again. (A real cluster
            // keeps them for the next start.)
            var deadline = DateTime.UtcNow + config.ShutdownTimeout;
            if (writer.Undelivered > 0) log.LogInformation("Waiting for the sinks to store {Undelivered} records from the embedded broker before it stops", writer.Undelivered);
            while (writer.Undelivered > 0 && DateTime.UtcNow < deadline)
                await Task.Delay(50, CancellationToken.None);
            if (writer.Undelivered > 0)
                log.LogError("{Undelivered} acknowledged records were still on the embedded broker when the shutdown timeout ran out; they are lost", writer.Undelivered);
        }
    }
}
