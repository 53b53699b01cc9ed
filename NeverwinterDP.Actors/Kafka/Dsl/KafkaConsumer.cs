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

    /// <summary>
    /// Records in batches of up to <paramref name="maxRecords"/> (what the buffers hold, or what arrived within
    /// <paramref name="interval"/> of a batch's first record), each with one <see cref="CommittableOffsetBatch"/> for
    /// all its records: commit it with <see cref="Committer"/> or <see cref="ICommittable.Commit"/> after processing.
    /// The cheap way to read many records: no per-record message or offset object.
    /// </summary>
    /// <param name="maxWeight">A batch also ends before the record that would take the sum of <paramref name="weigh"/> past this (a batch holds at least one record).</param>
    public static Source<CommittableBatch<TKey, TValue>, IControl> CommittableBatchSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, ISubscription subscription, int maxRecords, TimeSpan interval,
        long maxWeight = long.MaxValue, Func<ConsumeResult<TKey, TValue>, long>? weigh = null) =>
        Source.FromGraph(new KafkaBatchSourceStage<TKey, TValue>(settings, subscription, maxRecords, interval, maxWeight, weigh));

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
