using Akka.Actor;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>The spill quota is used up: ingress answers 503 with Retry-After rather than take what it cannot keep.</summary>
public sealed class SpillRefusedException(string reason) : Exception(reason);

/// <summary>
/// Ingress's side of the spillover store: hands a request's records, per topic, to that topic's spillover entity
/// and reports durable once every entity wrote its share to the journal.
/// </summary>
public sealed class SpillWriter(IActorRef region, TimeSpan askTimeout)
{
    /// <param name="maybeOnBusFrom">
    /// For records a failed produce may have written all the same: per topic, the partitions' offsets they can
    /// have landed at the earliest (see <see cref="SpillBatch.MaybeOnBusFrom"/>). Null: they are not on the bus.
    /// </param>
    public async Task<(IngressOutcome Outcome, Exception? Error)> SpillAsync(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records, CancellationToken cancellation,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, long>>? maybeOnBusFrom = null)
    {
        var byTopic = records.GroupBy(r => r.Topic)
            .Select(g => new SpillBatch(g.Key, g.Select(r => new SpilledRecord(r.Message.Key, r.Message.Value)).ToList(), maybeOnBusFrom?.GetValueOrDefault(g.Key)));
        try
        {
            var answers = await Task.WhenAll(byTopic.Select(b => region.Ask<object>(b, askTimeout, cancellation))).ConfigureAwait(false);
            var refused = answers.OfType<SpillRefused>().FirstOrDefault();
            return refused is null ? (IngressOutcome.Durable, null) : (IngressOutcome.Failed, new SpillRefusedException(refused.Reason));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return (IngressOutcome.Failed, new TimeoutException($"the spillover store did not confirm within {askTimeout}", e));
        }
    }

    /// <summary>Every topic that ever spilled (the spillover entities in the journal).</summary>
    public Task<IReadOnlyList<string>> TopicsAsync(ActorSystem system, CancellationToken cancellation) =>
        Sharding.PersistentEntities.IdsAsync(system, SpilloverEntity.TypeName, cancellation);

    /// <summary>The backlog of the topics spilled so far (those whose entities know them).</summary>
    public async Task<IReadOnlyList<SpillStatus>> StatusAsync(IEnumerable<string> topics, CancellationToken cancellation)
    {
        var answers = await Task.WhenAll(topics.Select(t => region.Ask<SpillStatus>(new GetSpillStatus(t), askTimeout, cancellation))).ConfigureAwait(false);
        return answers.OrderBy(s => s.Topic, StringComparer.Ordinal).ToList();
    }
}
