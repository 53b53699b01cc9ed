using Confluent.Kafka;

namespace NeverwinterDP.Actors.Kafka.Messages;

/// <summary>One record to send: the topic (and optionally a fixed partition) plus the Kafka message.</summary>
public sealed record ProducerRecord<TKey, TValue>(string Topic, Message<TKey, TValue> Message, int? Partition = null);

/// <summary>What goes into <see cref="Dsl.KafkaProducer.FlexiFlow{TKey,TValue,TPassThrough}"/>: zero, one or many records plus a pass-through value.</summary>
public interface IEnvelope<TKey, TValue, out TPassThrough>
{
    TPassThrough PassThrough { get; }
}

/// <summary>What comes out of the flow, in the order the envelopes went in, once every record of the envelope is acknowledged.</summary>
public interface IResults<TKey, TValue, out TPassThrough>
{
    TPassThrough PassThrough { get; }
}

/// <summary>The envelopes and results of the producer stages (the Akka.Streams.Kafka vocabulary).</summary>
public static class ProducerMessage
{
    /// <summary>One record; its result is a <see cref="Result{TKey,TValue,TPassThrough}"/>.</summary>
    public sealed record Message<TKey, TValue, TPassThrough>(ProducerRecord<TKey, TValue> Record, TPassThrough PassThrough)
        : IEnvelope<TKey, TValue, TPassThrough>;

    /// <summary>Many records acknowledged together (one HTTP request, one batch); its result is a <see cref="MultiResult{TKey,TValue,TPassThrough}"/>.</summary>
    public sealed record MultiMessage<TKey, TValue, TPassThrough>(IReadOnlyList<ProducerRecord<TKey, TValue>> Records, TPassThrough PassThrough)
        : IEnvelope<TKey, TValue, TPassThrough>;

    /// <summary>No record: the pass-through value is emitted in order with the others (e.g. an offset to commit).</summary>
    public sealed record PassThroughMessage<TKey, TValue, TPassThrough>(TPassThrough PassThrough)
        : IEnvelope<TKey, TValue, TPassThrough>;

    public sealed record Result<TKey, TValue, TPassThrough>(DeliveryResult<TKey, TValue> Metadata, TPassThrough PassThrough)
        : IResults<TKey, TValue, TPassThrough>
    {
        public TopicPartitionOffset TopicPartitionOffset => Metadata.TopicPartitionOffset;
    }

    public sealed record MultiResult<TKey, TValue, TPassThrough>(IReadOnlyList<DeliveryResult<TKey, TValue>> Parts, TPassThrough PassThrough)
        : IResults<TKey, TValue, TPassThrough>;

    public sealed record PassThroughResult<TKey, TValue, TPassThrough>(TPassThrough PassThrough)
        : IResults<TKey, TValue, TPassThrough>;

    /// <summary>
    /// Emitted instead of failing the stage when the supervision decider says Resume: the envelope was not
    /// (wholly) acknowledged and the caller must treat it as not sent (retry, spill, answer 503). Never silent.
    /// </summary>
    public sealed record FailedResult<TKey, TValue, TPassThrough>(Exception Cause, TPassThrough PassThrough)
        : IResults<TKey, TValue, TPassThrough>;

    public static Message<TKey, TValue, TPassThrough> Single<TKey, TValue, TPassThrough>(string topic, TKey key, TValue value, TPassThrough passThrough) =>
        new(new ProducerRecord<TKey, TValue>(topic, new Message<TKey, TValue> { Key = key, Value = value }), passThrough);

    public static MultiMessage<TKey, TValue, TPassThrough> Multi<TKey, TValue, TPassThrough>(IReadOnlyList<ProducerRecord<TKey, TValue>> records, TPassThrough passThrough) =>
        new(records, passThrough);

    public static PassThroughMessage<TKey, TValue, TPassThrough> PassThrough<TKey, TValue, TPassThrough>(TPassThrough passThrough) => new(passThrough);
}
