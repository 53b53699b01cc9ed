using Akka.Event;
using Error = Confluent.Kafka.Error;
using Akka.Streams;
using Akka.Streams.Stage;
using Akka.Streams.Supervision;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>
/// Sends each envelope's records with <c>Produce</c> and a delivery handler (many in flight, far cheaper
/// than one ProduceAsync per record), and emits results in the order the envelopes arrived, each only when
/// all of its records are acknowledged. A failed delivery fails the stage, or — when the supervision
/// decider says Resume — is emitted as a <see cref="ProducerMessage.FailedResult{TKey,TValue,TPassThrough}"/>;
/// it is never dropped.
/// </summary>
internal sealed class ProducerStage<TKey, TValue, TPass> : GraphStage<FlowShape<IEnvelope<TKey, TValue, TPass>, IResults<TKey, TValue, TPass>>>
{
    private readonly ProducerSettings<TKey, TValue> _settings;
    private readonly IProducer<TKey, TValue>? _sharedProducer;

    public ProducerStage(ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? sharedProducer)
    {
        _settings = settings;
        _sharedProducer = sharedProducer;
        Shape = new FlowShape<IEnvelope<TKey, TValue, TPass>, IResults<TKey, TValue, TPass>>(In, Out);
    }

    public Inlet<IEnvelope<TKey, TValue, TPass>> In { get; } = new("KafkaProducer.in");
    public Outlet<IResults<TKey, TValue, TPass>> Out { get; } = new("KafkaProducer.out");
    public override FlowShape<IEnvelope<TKey, TValue, TPass>, IResults<TKey, TValue, TPass>> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaProducer");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this, inheritedAttributes);

    /// <summary>One envelope on its way: which records are sent, which acknowledged.</summary>
    private sealed class InFlight
    {
        public InFlight(IEnvelope<TKey, TValue, TPass> envelope, IReadOnlyList<ProducerRecord<TKey, TValue>> records)
        {
            Envelope = envelope;
            Records = records;
            Reports = new DeliveryReport<TKey, TValue>?[records.Count];
            _pending = records.Count;
        }

        public IEnvelope<TKey, TValue, TPass> Envelope { get; }
        public IReadOnlyList<ProducerRecord<TKey, TValue>> Records { get; }
        public DeliveryReport<TKey, TValue>?[] Reports { get; }
        public int NextToSend;
        public volatile bool Done;
        public Exception? Error;
        private int _pending;

        /// <summary>Called on librdkafka's delivery thread; true when this was the last outstanding record.</summary>
        public bool Acknowledge(int index, DeliveryReport<TKey, TValue> report)
        {
            // Reports may come without the message (dotnet.producer.delivery.report.fields): results carry the one sent.
            if (report.Message is null || report.Message.Value is null) report.Message = Records[index].Message;
            Reports[index] = report;
            return Interlocked.Decrement(ref _pending) == 0;
        }

        /// <summary>Records that will never be sent (local error) count as settled.</summary>
        public bool Abandon(int count) => Interlocked.Add(ref _pending, -count) == 0;
    }

    private sealed class Logic : TimerGraphStageLogic
    {
        private const string RetryTimer = "queue-full-retry";
        private readonly ProducerStage<TKey, TValue, TPass> _stage;
        private readonly Decider _decider;
        private readonly Queue<InFlight> _inFlight = new();
        private IProducer<TKey, TValue>? _producer;
        private Action<InFlight>? _onDone;
        private Action<Error>? _onFatal;
        private InFlight? _blocked;
        private bool _upstreamFinished;

        public Logic(ProducerStage<TKey, TValue, TPass> stage, Attributes attributes) : base(stage.Shape)
        {
            _stage = stage;
            _decider = attributes.GetAttribute<ActorAttributes.SupervisionStrategy>(null)?.Decider ?? Deciders.StoppingDecider;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: OnUpstreamFinish);
            SetHandler(stage.Out, onPull: TryPushHead);
        }

        public override void PreStart()
        {
            _onDone = GetAsyncCallback<InFlight>(_ =>
            {
                // Cleared with a full fence before looking at the envelopes: a delivery that found the wake still
                // pending set its Done before this, so the look below sees it.
                Interlocked.Exchange(ref _wakePending, 0);
                TryPushHead();
            });
            _onFatal = GetAsyncCallback<Error>(e => FailStage(new KafkaException(e)));
            _producer = _stage._sharedProducer ?? _stage._settings.CreateKafkaProducer(
                onError: (_, e) => { if (e.IsFatal) _onFatal(e); else Log.Warning("kafka producer: {0}", e.Reason); });
            Pull(_stage.In);
        }

        private void OnPush()
        {
            var envelope = Grab(_stage.In);
            var records = envelope switch
            {
                ProducerMessage.Message<TKey, TValue, TPass> m => new[] { m.Record },
                ProducerMessage.MultiMessage<TKey, TValue, TPass> m => m.Records,
                ProducerMessage.PassThroughMessage<TKey, TValue, TPass> => Array.Empty<ProducerRecord<TKey, TValue>>(),
                _ => throw new ArgumentException($"unknown envelope {envelope.GetType().Name}"),
            };
            var flight = new InFlight(envelope, records);
            _inFlight.Enqueue(flight);
            if (records.Count == 0) flight.Done = true;
            else Send(flight);
            TryPushHead();
        }

        private void Send(InFlight flight)
        {
            var producer = _producer!;
            while (flight.NextToSend < flight.Records.Count)
            {
                var index = flight.NextToSend;
                var record = flight.Records[index];
                try
                {
                    if (record.Partition is { } p)
                        producer.Produce(new TopicPartition(record.Topic, p), record.Message, r => Delivered(flight, index, r));
                    else
                        producer.Produce(record.Topic, record.Message, r => Delivered(flight, index, r));
                    flight.NextToSend++;
                }
                catch (ProduceException<TKey, TValue> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's local queue is full: wait, then continue with this record (order kept).
                    _blocked = flight;
                    ScheduleOnce(RetryTimer, _stage._settings.QueueFullRetryInterval);
                    return;
                }
                catch (Exception e) when (e is ProduceException<TKey, TValue> or KafkaException or ArgumentException)
                {
                    // Local failure (serialization, unknown topic, ...): the rest of this envelope is not sent.
                    flight.Error = e;
                    var unsent = flight.Records.Count - flight.NextToSend;
                    flight.NextToSend = flight.Records.Count;
                    if (flight.Abandon(unsent)) flight.Done = true;
                    return;
                }
            }
        }

        private void Delivered(InFlight flight, int index, DeliveryReport<TKey, TValue> report)
        {
            if (report.Error.IsError) flight.Error ??= new ProduceException<TKey, TValue>(report.Error, report);
            if (flight.Acknowledge(index, report))
            {
                flight.Done = true;
                // One wake of the stage for every delivery that completes an envelope while none is pending: an async
                // callback is a message to the stage's actor, and single-record envelopes complete one per record.
                if (Interlocked.Exchange(ref _wakePending, 1) == 0) _onDone!(flight);
            }
        }

        // 1 while a wake (_onDone) is on its way to the stage and has not looked at the envelopes yet.
        private int _wakePending;

        protected override void OnTimer(object timerKey)
        {
            if (_blocked is not { } flight) return;
            _blocked = null;
            Send(flight);
            TryPushHead();
        }

        private void TryPushHead()
        {
            while (_inFlight.Count > 0 && _inFlight.Peek().Done && IsAvailable(_stage.Out))
            {
                var flight = _inFlight.Dequeue();
                if (flight.Error is { } error)
                {
                    var directive = _decider(error);
                    if (directive == Directive.Stop)
                    {
                        FailStage(error);
                        return;
                    }
                    Push(_stage.Out, new ProducerMessage.FailedResult<TKey, TValue, TPass>(error, flight.Envelope.PassThrough));
                }
                else
                {
                    Push(_stage.Out, ToResult(flight));
                }
            }

            if (_upstreamFinished && _inFlight.Count == 0)
            {
                CompleteStage();
                return;
            }
            if (!_upstreamFinished && _blocked is null && _inFlight.Count < _stage._settings.Parallelism && !HasBeenPulled(_stage.In))
                Pull(_stage.In);
        }

        private static IResults<TKey, TValue, TPass> ToResult(InFlight flight) => flight.Envelope switch
        {
            ProducerMessage.Message<TKey, TValue, TPass> m => new ProducerMessage.Result<TKey, TValue, TPass>(flight.Reports[0]!, m.PassThrough),
            ProducerMessage.MultiMessage<TKey, TValue, TPass> m => new ProducerMessage.MultiResult<TKey, TValue, TPass>(flight.Reports!, m.PassThrough),
            _ => new ProducerMessage.PassThroughResult<TKey, TValue, TPass>(flight.Envelope.PassThrough),
        };

        private void OnUpstreamFinish()
        {
            _upstreamFinished = true;
            if (_inFlight.Count == 0) CompleteStage();
        }

        public override void PostStop()
        {
            if (_stage._sharedProducer is null && _producer is not null)
            {
                // Records still in librdkafka's queue either arrive or time out within close-timeout.
                _producer.Flush(_stage._settings.CloseTimeout);
                _producer.Dispose();
            }
        }
    }
}
