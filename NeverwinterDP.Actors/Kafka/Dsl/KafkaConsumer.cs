using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Kafka.Stages;

namespace NeverwinterDP.Actors.Kafka.Dsl;

/// <summary>Consumer sources. Each materialization owns one consumer (one group member).</summary>
public static class KafkaConsumer
{
    /// <summary>Records without offset handling: nothing is committed (use for tools and replay with fixed assignments).</summary>
    public static Source<ConsumeResult<TKey, TValue>, IControl> PlainSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, ISubscription subscription) =>
        Source.FromGraph(new KafkaSourceStage<TKey, TValue, ConsumeResult<TKey, TValue>>(settings, subscription, (_, _, r) => r));

    /// <summary>Records with their offsets; commit them with <see cref="Committer"/> after processing (at-least-once).</summary>
    public static Source<CommittableMessage<TKey, TValue>, IControl> CommittableSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, ISubscription subscription) =>
        Source.FromGraph(new KafkaSourceStage<TKey, TValue, CommittableMessage<TKey, TValue>>(settings, subscription, ToCommittable));

    /// <summary>A substream per assigned partition, completed when the partition is revoked.</summary>
    public static Source<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>), IControl> CommittablePartitionedSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, ISubscription subscription) =>
        Source.FromGraph(new KafkaPartitionedSourceStage<TKey, TValue, CommittableMessage<TKey, TValue>>(settings, subscription, ToCommittable));

    /// <summary>Plain records, a substream per assigned partition.</summary>
    public static Source<(TopicPartition, Source<ConsumeResult<TKey, TValue>, NotUsed>), IControl> PlainPartitionedSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, ISubscription subscription) =>
        Source.FromGraph(new KafkaPartitionedSourceStage<TKey, TValue, ConsumeResult<TKey, TValue>>(settings, subscription, (_, _, r) => r));

    private static CommittableMessage<TKey, TValue> ToCommittable<TKey, TValue>(ICommitterEndpoint endpoint, string groupId, ConsumeResult<TKey, TValue> record) =>
        new(record, new CommittableOffset(endpoint, groupId, record.TopicPartitionOffset));
}
