using Akka;
using Akka.Streams.Dsl;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Dsl;

/// <summary>
/// Commits offsets after processing: the highest offset per partition (+1), batched by count and time,
/// and whatever is left when the stream completes.
/// </summary>
public static class Committer
{
    public static Flow<ICommittable, Done, NotUsed> Flow(CommitterSettings settings) =>
        Akka.Streams.Dsl.Flow.Create<ICommittable>()
            .GroupedWeightedWithin(settings.MaxBatch, int.MaxValue, settings.MaxInterval, c => c.BatchSize)
            .Select(group => group.Aggregate(CommittableOffsetBatch.Empty, (batch, c) => batch.Updated(c)))
            .SelectAsync(settings.Parallelism, async batch =>
            {
                await batch.Commit().ConfigureAwait(false);
                return Done.Instance;
            });

    /// <summary>The task completes when the stream completed and every offset it saw is committed.</summary>
    public static Sink<ICommittable, Task<Done>> Sink(CommitterSettings settings) =>
        Flow(settings).ToMaterialized(Akka.Streams.Dsl.Sink.Ignore<Done>(), Keep.Right);
}
