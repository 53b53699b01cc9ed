using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>
/// One consumer, all its partitions, one stream of batches: each batch holds up to <c>maxRecords</c> records (and
/// up to <c>maxWeight</c> by <c>weigh</c>) and the highest offset per partition, so downstream handles a record for
/// the price of a list slot and commits once per batch. A batch that is not full goes out <c>interval</c> after its
/// first record arrived. Records are taken from the consumer's bounded per-partition buffers on the stage's own
/// thread; the poll thread only fills those buffers. Records of a revoked partition not yet emitted are dropped.
/// </summary>
internal sealed class KafkaBatchSourceStage<TKey, TValue> : GraphStageWithMaterializedValue<SourceShape<CommittableBatch<TKey, TValue>>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly ISubscription _subscription;
    private readonly int _maxRecords;
    private readonly long _maxWeight;
    private readonly Func<ConsumeResult<TKey, TValue>, long>? _weigh;
    private readonly TimeSpan _interval;

    public KafkaBatchSourceStage(ConsumerSettings<TKey, TValue> settings, ISubscription subscription, int maxRecords, TimeSpan interval,
        long maxWeight = long.MaxValue, Func<ConsumeResult<TKey, TValue>, long>? weigh = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxWeight);
        _settings = settings;
        _subscription = subscription;
        _maxRecords = maxRecords;
        _maxWeight = maxWeight;
        _weigh = weigh;
        _interval = interval;
        Shape = new SourceShape<CommittableBatch<TKey, TValue>>(Out);
    }

    public Outlet<CommittableBatch<TKey, TValue>> Out { get; } = new("KafkaBatchSource.out");
    public override SourceShape<CommittableBatch<TKey, TValue>> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaBatchSource");

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this);
        return new LogicAndMaterializedValue<IControl>(logic, logic.Control);
    }

    private sealed class Logic : ConsumerSourceLogic<TKey, TValue>
    {
        private const string IntervalTimer = "interval";
        private readonly KafkaBatchSourceStage<TKey, TValue> _stage;
        private List<ConsumeResult<TKey, TValue>> _records;
        private long _weight;
        private bool _full;
        private bool _due;
        private Action? _onRecords;
        private Action<IReadOnlyList<TopicPartition>>? _onRevoked;

        public Logic(KafkaBatchSourceStage<TKey, TValue> stage) : base(stage.Shape, stage._settings, stage._subscription)
        {
            _stage = stage;
            _records = NewList();
            SetHandler(stage.Out, onPull: Deliver, onDownstreamFinish: _ => CompleteStage());
        }

        protected override void CreateCallbacks()
        {
            _onRecords = GetAsyncCallback(Deliver);
            _onRevoked = GetAsyncCallback<IReadOnlyList<TopicPartition>>(Drop);
        }

        private List<ConsumeResult<TKey, TValue>> NewList() => new(Math.Min(_stage._maxRecords, 8192));

        private void Deliver()
        {
            if (!_full) _full = Pump.TakeInto(_records, _stage._maxRecords, _stage._maxWeight, _stage._weigh, ref _weight);
            if (_records.Count == 0) return;
            if (!_full && !_due)
            {
                if (_stage._interval <= TimeSpan.Zero) _due = true;
                else if (!IsTimerActive(IntervalTimer)) ScheduleOnce(IntervalTimer, _stage._interval);
            }
            if ((_full || _due) && IsAvailable(_stage.Out)) Push(_stage.Out, TakeBatch());
        }

        protected override void OnTimer(object timerKey)
        {
            _due = true;
            Deliver();
        }

        private CommittableBatch<TKey, TValue> TakeBatch()
        {
            var records = _records;
            var offsets = CommittableOffsetBatch.Empty;
            // A batch is runs of one partition each: one offset per run.
            var runStart = 0;
            for (var i = 1; i <= records.Count; i++)
            {
                if (i < records.Count && SamePartition(records[i], records[runStart])) continue;
                var last = records[i - 1];
                offsets.Updated(Pump, last.TopicPartition, last.Offset.Value, i - runStart);
                runStart = i;
            }
            _records = NewList();
            _weight = 0;
            _full = false;
            _due = false;
            CancelTimer(IntervalTimer);
            return new CommittableBatch<TKey, TValue>(records, offsets);
        }

        private static bool SamePartition(ConsumeResult<TKey, TValue> a, ConsumeResult<TKey, TValue> b) =>
            a.Partition.Value == b.Partition.Value && string.Equals(a.Topic, b.Topic, StringComparison.Ordinal);

        private void Drop(IReadOnlyList<TopicPartition> partitions)
        {
            if (_records.RemoveAll(r => partitions.Contains(r.TopicPartition)) == 0) return;
            _weight = 0;
            if (_stage._weigh is { } weigh)
                foreach (var r in _records) _weight += weigh(r);
            _full = false;
            if (_records.Count == 0)
            {
                _due = false;
                CancelTimer(IntervalTimer);
            }
        }

        public override void OnRecords(TopicPartition partition) => _onRecords?.Invoke();
        public override void OnRevoked(IReadOnlyList<TopicPartition> partitions) => _onRevoked?.Invoke(partitions);
    }
}
