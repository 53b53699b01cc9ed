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

    private sealed class Logic : ConsumerSourceLogic<TKey, TValue>
    {
        private readonly KafkaSourceStage<TKey, TValue, TMessage> _stage;
        private Action? _onRecords;

        public Logic(KafkaSourceStage<TKey, TValue, TMessage> stage) : base(stage.Shape, stage._settings, stage._subscription)
        {
            _stage = stage;
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
        }

        protected override void CreateCallbacks() => _onRecords = GetAsyncCallback(TryPush);

        private void TryPush()
        {
            if (IsAvailable(_stage.Out) && Pump.TryTakeAny(out var record))
                Push(_stage.Out, _stage._toMessage(Pump, Pump.GroupId, record));
        }

        public override void OnRecords(TopicPartition partition) => _onRecords?.Invoke();
    }
}
