using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>
/// One consumer, all its partitions, one stream of messages (plain records or committable ones). The
/// stage pulls from the consumer's per-partition buffers; it never asks the consumer for more than the
/// buffers hold, so a slow downstream pauses partitions instead of growing memory.
/// </summary>
internal sealed class KafkaSourceStage<TKey, TValue, TMessage> : GraphStageWithMaterializedValue<SourceShape<TMessage>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly ISubscription _subscription;
    private readonly Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> _toMessage;

    public KafkaSourceStage(ConsumerSettings<TKey, TValue> settings, ISubscription subscription,
        Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> toMessage)
    {
        _settings = settings;
        _subscription = subscription;
        _toMessage = toMessage;
        Shape = new SourceShape<TMessage>(Out);
    }

    public Outlet<TMessage> Out { get; } = new("KafkaSource.out");
    public override SourceShape<TMessage> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaSource");

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this);
        return new LogicAndMaterializedValue<IControl>(logic, logic.Control);
    }

    private sealed class Logic : GraphStageLogic, IConsumerPumpListener
    {
        private readonly KafkaSourceStage<TKey, TValue, TMessage> _stage;
        private readonly ConsumerPump<TKey, TValue> _pump;
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Action? _onRecords;
        private Action<Exception>? _onFailed;
        private Action? _onStop;
        private volatile bool _draining;

        public Logic(KafkaSourceStage<TKey, TValue, TMessage> stage) : base(stage.Shape)
        {
            _stage = stage;
            _pump = new ConsumerPump<TKey, TValue>(stage._settings, stage._subscription, this, m => Log.Warning(m));
            Control = new ConsumerControl<TKey, TValue>(_pump, () =>
            {
                _onStop?.Invoke();
                return _stopped.Task;
            });
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
        }

        public IControl Control { get; }

        public override void PreStart()
        {
            _onRecords = GetAsyncCallback(TryPush);
            _onFailed = GetAsyncCallback<Exception>(FailStage);
            _onStop = GetAsyncCallback(() =>
            {
                _draining = true;
                CompleteStage();
            });
            _pump.Start();
        }

        private void TryPush()
        {
            if (IsAvailable(_stage.Out) && _pump.TryTakeAny(out var record))
                Push(_stage.Out, _stage._toMessage(_pump, _pump.GroupId, record));
        }

        public override void PostStop()
        {
            // Stopped through Control.Stop: the consumer lives on for commits until Shutdown.
            if (!_draining) _pump.RequestShutdown();
            _stopped.TrySetResult();
        }

        void IConsumerPumpListener.OnRecords(TopicPartition partition) => _onRecords?.Invoke();
        void IConsumerPumpListener.OnAssigned(IReadOnlyList<TopicPartition> partitions) { }
        void IConsumerPumpListener.OnRevoked(IReadOnlyList<TopicPartition> partitions) { }
        void IConsumerPumpListener.OnRecordsLost(TopicPartition partition, long fromOffset, long toOffset) { }
        void IConsumerPumpListener.OnFailed(Exception cause) => _onFailed?.Invoke(cause);
    }
}
