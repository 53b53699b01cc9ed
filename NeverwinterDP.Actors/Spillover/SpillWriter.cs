using Akka.Actor;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>The spill quota is used up, or the store's disk is full: ingress answers 503 with Retry-After rather than take what it cannot keep.</summary>
public sealed class SpillRefusedException(string reason) : Exception(reason);

/// <summary>
/// Ingress's side of the spillover store: hands a request's records, per topic, to this node's spill store (its
/// topic's spillover entity) and reports durable once every entity wrote its share to the store.
/// </summary>
/// <param name="journalDirectory">
/// The directory the journal's database file is in (SQLite), whose free space is checked before a spill; null
/// when the journal is on a database server.
/// </param>
/// <param name="after">
/// <c>nwdp.spill.after</c>: how long a request waits for Kafka's acknowledgement before its records are spilled
/// (zero: until Kafka answers).
/// </param>
public sealed class SpillWriter(IActorRef store, TimeSpan askTimeout, string? journalDirectory = null, TimeSpan after = default)
{
    /// <summary><c>nwdp.spill.after</c>: how long a request waits for Kafka before its records are spilled (zero: until Kafka answers).</summary>
    public TimeSpan After => after;

    /// <summary>
    /// Space the journal's disk keeps free past what a spill needs (SQLite's rollback journal and pages, the other
    /// persistent actors' state): below it a spill is refused at once, with the reason, rather than failing inside
    /// the journal (a persist failure stops the entity; the request would wait the whole ask timeout).
    /// </summary>
    public const long DiskReserveBytes = 1L << 20;

    /// <param name="maybeOnBusFrom">
    /// For records a failed produce may have written all the same: per topic, the partitions' offsets they can
    /// have landed at the earliest (see <see cref="SpillBatch.MaybeOnBusFrom"/>). Null: they are not on the bus.
    /// </param>
    public async Task<(IngressOutcome Outcome, Exception? Error)> SpillAsync(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records, CancellationToken cancellation,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, long>>? maybeOnBusFrom = null)
    {
        if (NoSpace(records) is { } full) return (IngressOutcome.Failed, full);
        var byTopic = records.GroupBy(r => r.Topic)
            .Select(g => new SpillBatch(g.Key, g.Select(r => new SpilledRecord(r.Message.Key, r.Message.Value)).ToList(), maybeOnBusFrom?.GetValueOrDefault(g.Key)));
        try
        {
            var answers = await Task.WhenAll(byTopic.Select(b => store.Ask<object>(b, askTimeout, cancellation))).ConfigureAwait(false);
            var refused = answers.OfType<SpillRefused>().FirstOrDefault();
            return refused is null ? (IngressOutcome.Durable, null) : (IngressOutcome.Failed, new SpillRefusedException(refused.Reason));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return (IngressOutcome.Failed, new TimeoutException($"the spillover store did not confirm within {askTimeout}", e));
        }
    }

    /// <summary>Why the journal's disk cannot take <paramref name="records"/> now, or null (room enough, or not known).</summary>
    private SpillRefusedException? NoSpace(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records)
    {
        if (journalDirectory is null) return null;
        long free;
        try
        {
            free = new DriveInfo(journalDirectory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // not known: the journal says for itself
        }
        long bytes = 0;
        foreach (var r in records) bytes += (r.Message.Key?.Length ?? 0) + (r.Message.Value?.Length ?? 0);
        // A row costs about twice its payload while SQLite writes it (the page and its rollback copy).
        var needed = 2 * bytes + DiskReserveBytes;
        return free >= needed ? null : new SpillRefusedException(
            $"no space left on device for the spillover store: {journalDirectory} has {free} bytes free and this request needs about {needed}");
    }

    /// <summary>Every topic that ever spilled on this node, and every imported store's (<c>TOPIC@STORE</c>): the entities of the node's spill store.</summary>
    public async Task<IReadOnlyList<string>> TopicsAsync(ActorSystem system, CancellationToken cancellation) =>
        (await store.Ask<SpillTopics>(GetSpillTopics.Instance, askTimeout, cancellation).ConfigureAwait(false)).Names;

    /// <summary>The backlog of the topics spilled so far (those whose entities know them).</summary>
    public async Task<IReadOnlyList<SpillStatus>> StatusAsync(IEnumerable<string> topics, CancellationToken cancellation)
    {
        var answers = await Task.WhenAll(topics.Select(t => store.Ask<SpillStatus>(new GetSpillStatus(t), askTimeout, cancellation))).ConfigureAwait(false);
        return answers.OrderBy(s => s.Topic, StringComparer.Ordinal).ToList();
    }
}
