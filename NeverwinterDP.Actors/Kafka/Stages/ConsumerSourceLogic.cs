using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>
/// What every consumer source stage shares: its consumer, its <see cref="IControl"/>, and the two ways it
/// ends — stopped through the control (the consumer lives on for commits until Shutdown) or otherwise
/// (downstream cancelled, failure: the consumer is shut down with the stage).
/// </summary>
internal abstract class ConsumerSourceLogic<TKey, TValue> : TimerGraphStageLogic, IConsumerPumpListener
{
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<Exception>? _onFailed;
    private Action? _onStop;
    private volatile bool _draining;

    protected ConsumerSourceLogic(Shape shape, ConsumerSettings<TKey, TValue> settings, ISubscription subscription) : base(shape)
    {
        Pump = new ConsumerPump<TKey, TValue>(settings, subscription, this, m => Log.Warning(m));
        Control = new ConsumerControl<TKey, TValue>(Pump, () =>
        {
            _onStop?.Invoke();
            return _stopped.Task;
        });
    }

    protected ConsumerPump<TKey, TValue> Pump { get; }

    public IControl Control { get; }

    public override void PreStart()
    {
        _onFailed = GetAsyncCallback<Exception>(FailStage);
        _onStop = GetAsyncCallback(() =>
        {
            _draining = true;
            CompleteStage();
        });
        CreateCallbacks();
        Pump.Start();
    }

    /// <summary>Creates the stage's own async callbacks (called in PreStart, before the consumer starts).</summary>
    protected abstract void CreateCallbacks();

    public override void PostStop()
    {
        if (!_draining) Pump.RequestShutdown();
        OnStopped();
        _stopped.TrySetResult();
    }

    /// <summary>Stages that schedule timers override this.</summary>
    protected override void OnTimer(object timerKey) { }

    /// <summary>Called when the stage stopped, before the control's Stop completes.</summary>
    protected virtual void OnStopped() { }

    // Called on the poll thread: implementations hand over to the stage through async callbacks.
    public virtual void OnRecords(TopicPartition partition) { }
    public virtual void OnAssigned(IReadOnlyList<TopicPartition> partitions) { }
    public virtual void OnRevoked(IReadOnlyList<TopicPartition> partitions) { }
    public virtual void OnRecordsLost(TopicPartition partition, long fromOffset, long toOffset) { }
    public virtual void OnFailed(Exception cause) => _onFailed?.Invoke(cause);
}
