namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>The materialized value of every consumer source: stop emitting, shut the consumer down, drain.</summary>
public interface IControl
{
    /// <summary>Completes the source (no more records) but keeps the consumer so commits still go through.</summary>
    Task Stop();

    /// <summary>Stops and closes the consumer (leaves the group). Completes when it is closed.</summary>
    Task Shutdown();

    /// <summary>Completes when the consumer is closed.</summary>
    Task IsShutdown { get; }

    /// <summary>Records held by the stage right now (bounded by max-buffered-per-partition per partition).</summary>
    long Buffered { get; }

    /// <summary>Bytes of keys and values held by the stage right now (bounded by max-buffered-bytes, when set).</summary>
    long BufferedBytes => 0;

    /// <summary>Per assigned partition, the next offset this consumer will take from Kafka.</summary>
    IReadOnlyDictionary<Confluent.Kafka.TopicPartition, long> Positions { get; }

    /// <summary>The most records the stage ever held at once.</summary>
    long MaxBuffered { get; }

    /// <summary>Records found missing from the log (offset gaps), e.g. dropped by broker retention before they were read.</summary>
    long LostRecords { get; }

    /// <summary>Stop, wait for <paramref name="streamCompletion"/> (the committer flushing), then shut down.</summary>
    async Task<T> DrainAndShutdown<T>(Task<T> streamCompletion)
    {
        await Stop().ConfigureAwait(false);
        try
        {
            return await streamCompletion.ConfigureAwait(false);
        }
        finally
        {
            await Shutdown().ConfigureAwait(false);
        }
    }
}

/// <summary>A consumer control paired with the stream's completion, as Akka.Streams.Kafka's DrainingControl.</summary>
public sealed class DrainingControl<T>
{
    private DrainingControl(IControl control, Task<T> streamCompletion)
    {
        Control = control;
        StreamCompletion = streamCompletion;
    }

    public IControl Control { get; }
    public Task<T> StreamCompletion { get; }

    /// <summary>Use as <c>.ToMaterialized(Committer.Sink(...), DrainingControl&lt;Done&gt;.Create)</c>.</summary>
    public static DrainingControl<T> Create(IControl control, Task<T> streamCompletion) => new(control, streamCompletion);

    public static DrainingControl<T> Create((IControl Control, Task<T> Completion) tuple) => new(tuple.Control, tuple.Completion);

    /// <summary>Stops the source, lets in-flight records finish and commit, then closes the consumer.</summary>
    public Task<T> DrainAndShutdown() => Control.DrainAndShutdown(StreamCompletion);
}
