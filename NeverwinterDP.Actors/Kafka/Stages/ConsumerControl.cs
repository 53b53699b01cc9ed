namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>The <see cref="IControl"/> of a consumer source: stopping is the stage's, shutting down the consumer's.</summary>
internal sealed class ConsumerControl<TKey, TValue>(ConsumerPump<TKey, TValue> pump, Func<Task> stopStage) : IControl
{
    public Task Stop() => stopStage();

    // How long Shutdown waits for the stage to stop before it closes the consumer anyway.
    private static readonly TimeSpan StageStopWait = TimeSpan.FromSeconds(5);

    public async Task Shutdown()
    {
        // The stage stops first so that it emits nothing more. A stage whose materializer is gone (the actor system
        // terminated) never answers, and its consumer must close all the same: it would poll a gone broker for ever.
        var stopped = Stop();
        await Task.WhenAny(stopped, Task.Delay(StageStopWait)).ConfigureAwait(false);
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
