using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Kafka.Stages;

namespace NeverwinterDP.Actors.Kafka.Dsl;

/// <summary>Producer stages. Every stage acknowledges in order and only after Kafka did (acks=all by default).</summary>
public static class KafkaProducer
{
    /// <summary>
    /// Envelopes in (one, many or no records, each with a pass-through), results out in the same order once
    /// all records of an envelope are acknowledged. The stage owns its producer unless one is given.
    /// </summary>
    public static Flow<IEnvelope<TKey, TValue, TPass>, IResults<TKey, TValue, TPass>, NotUsed> FlexiFlow<TKey, TValue, TPass>(
        ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? producer = null) =>
        Flow.FromGraph(new ProducerStage<TKey, TValue, TPass>(settings, producer));

    /// <summary>Sends every record; the task completes when all are acknowledged, or fails with the first failure.</summary>
    public static Sink<ProducerRecord<TKey, TValue>, Task<Done>> PlainSink<TKey, TValue>(
        ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? producer = null) =>
        Flow.Create<ProducerRecord<TKey, TValue>>()
            .Select(r => (IEnvelope<TKey, TValue, NotUsed>)new ProducerMessage.Message<TKey, TValue, NotUsed>(r, NotUsed.Instance))
            .Via(FlexiFlow<TKey, TValue, NotUsed>(settings, producer))
            .ToMaterialized(Sink.Ignore<IResults<TKey, TValue, NotUsed>>(), Keep.Right);
}
