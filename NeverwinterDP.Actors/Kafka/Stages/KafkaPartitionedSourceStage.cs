using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>
/// One consumer; a substream per assigned partition, emitted on assignment and completed on revocation
/// (records of a revoked partition still in the buffer are dropped, the new owner reads them again).
/// </summary>
internal sealed class KafkaPartitionedSourceStage<TKey, TValue, TMessage>
    : GraphStageWithMaterializedValue<SourceShape<(TopicPartition, Source<TMessage, NotUsed>)>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly ISubscription _subscription;
    private readonly Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> _toMessage;

    public KafkaPartitionedSourceStage(ConsumerSettings<TKey, TValue> settings, ISubscription subscription,
        Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> toMessage)
    {
        _settings = settings;
        _subscription = subscription;
        _toMessage = toMessage;
        Shape = new SourceShape<(TopicPartition, Source<TMessage, NotUsed>)>(Out);
    }

    public Outlet<(TopicPartition, Source<TMessage, NotUsed>)> Out { get; } = new("KafkaPartitionedSource.out");
    public override SourceShape<(TopicPartition, Source<TMessage, NotUsed>)> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaPartitionedSource");

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this);
        return new LogicAndMaterializedValue<IControl>(logic, logic.Control);
    }

    private sealed class Logic : ConsumerSourceLogic<TKey, TValue>
    {
        private readonly KafkaPartitionedSourceStage<TKey, TValue, TMessage> _stage;
        private readonly List<TopicPartition> _pending = new();
        private Action<IReadOnlyList<TopicPartition>>? _onAssigned;
        private Action<IReadOnlyList<TopicPartition>>? _onRevoked;

        public Logic(KafkaPartitionedSourceStage<TKey, TValue, TMessage> stage) : base(stage.Shape, stage._settings, stage._subscription)
        {
            _stage = stage;
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
        }

        protected override void CreateCallbacks()
        {
            _onAssigned = GetAsyncCallback<IReadOnlyList<TopicPartition>>(partitions =>
            {
                _pending.AddRange(partitions);
                TryPush();
            });
            _onRevoked = GetAsyncCallback<IReadOnlyList<TopicPartition>>(partitions => _pending.RemoveAll(partitions.Contains));
        }

        private void TryPush()
        {
            while (_pending.Count > 0 && IsAvailable(_stage.Out))
            {
                var tp = _pending[0];
                _pending.RemoveAt(0);
                if (Pump.Assignment(tp) is not { } assignment) continue;
                var source = Source.FromGraph(new SubSourceStage(Pump, tp, assignment, _stage._toMessage));
                Push(_stage.Out, (tp, source));
            }
        }

        protected override void OnStopped() => Pump.CompleteSubstreams();

        // Records: substreams pick theirs up when they start.
        public override void OnAssigned(IReadOnlyList<TopicPartition> partitions) => _onAssigned?.Invoke(partitions);
        public override void OnRevoked(IReadOnlyList<TopicPartition> partitions) => _onRevoked?.Invoke(partitions);

        public override void OnFailed(Exception cause)
        {
            base.OnFailed(cause);
            Pump.FailSubstreams(cause);
        }
    }

    /// <summary>The records of one partition, until it is revoked or the consumer stops.</summary>
    private sealed class SubSourceStage : GraphStage<SourceShape<TMessage>>
    {
        private readonly ConsumerPump<TKey, TValue> _pump;
        private readonly TopicPartition _partition;
        private readonly object _assignment;
        private readonly Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> _toMessage;

        public SubSourceStage(ConsumerPump<TKey, TValue> pump, TopicPartition partition, object assignment,
            Func<ICommitterEndpoint, string, ConsumeResult<TKey, TValue>, TMessage> toMessage)
        {
            _pump = pump;
            _partition = partition;
            _assignment = assignment;
            _toMessage = toMessage;
            Shape = new SourceShape<TMessage>(Out);
        }

        public Outlet<TMessage> Out { get; } = new("KafkaPartitionSubSource.out");
        public override SourceShape<TMessage> Shape { get; }
        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new SubLogic(this);

        private sealed class SubLogic : GraphStageLogic, IConsumerPumpListener
        {
            private readonly SubSourceStage _stage;
            private Action? _onRecords;
            private Action? _onRevoked;
            private Action<Exception>? _onFailed;

            public SubLogic(SubSourceStage stage) : base(stage.Shape)
            {
                _stage = stage;
                SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ => CompleteStage());
            }

            public override void PreStart()
            {
                _onRecords = GetAsyncCallback(TryPush);
                _onRevoked = GetAsyncCallback(CompleteStage);
                _onFailed = GetAsyncCallback<Exception>(FailStage);
                // The partition may have been revoked (and even assigned here again) before this substream ran.
                if (!_stage._pump.RegisterPartitionListener(_stage._partition, _stage._assignment, this)) CompleteStage();
            }

            private void TryPush()
            {
                if (IsAvailable(_stage.Out) && _stage._pump.TryTake(_stage._partition, _stage._assignment, out var record))
                    Push(_stage.Out, _stage._toMessage(_stage._pump, _stage._pump.GroupId, record));
            }

            public override void PostStop() => _stage._pump.UnregisterPartitionListener(_stage._partition, this);

            void IConsumerPumpListener.OnRecords(TopicPartition partition) => _onRecords?.Invoke();
            void IConsumerPumpListener.OnAssigned(IReadOnlyList<TopicPartition> partitions) { }
            void IConsumerPumpListener.OnRevoked(IReadOnlyList<TopicPartition> partitions) => _onRevoked?.Invoke();
            void IConsumerPumpListener.OnRecordsLost(TopicPartition partition, long fromOffset, long toOffset) { }
            void IConsumerPumpListener.OnFailed(Exception cause) => _onFailed?.Invoke(cause);
        }
    }
}
