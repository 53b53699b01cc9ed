namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>The <see cref="IControl"/> of a consumer source: stopping is the stage's, shutting down the consumer's.</summary>
internal sealed class ConsumerControl<TKey, TValue>(ConsumerPump<TKey, TValue> pump, Func<Task> stopStage) : IControl
{
    public Task Stop() => stopStage();

    public async Task Shutdown()
    {
        await Stop().ConfigureAwait(false);
        pump.RequestShutdown();
        await pump.Shutdown.ConfigureAwait(false);
    }

    public Task IsShutdown => pump.Shutdown;
    public long Buffered => pump.Buffered;
    public long BufferedBytes => pump.BufferedBytes;
    public IReadOnlyDictionary<Confluent.Kafka.TopicPartition, long> Positions => pump.Positions;
    public long MaxBuffered => pump.MaxBufferedSeen;
    public long LostRecords => pump.Lost;
}
