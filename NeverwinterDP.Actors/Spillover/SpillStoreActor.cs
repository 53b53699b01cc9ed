using Akka.Actor;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>Asks the node's spill store for the names of its entities (topics, and <c>TOPIC@STORE</c> for imported stores).</summary>
public sealed record GetSpillTopics
{
    public static readonly GetSpillTopics Instance = new();
}

public sealed record SpillTopics(IReadOnlyList<string> Names);

/// <summary>
/// The spillover store of this node: one <see cref="SpilloverEntity"/> per persistence id in the node's own spill
/// journal, started when the node starts (so a backlog is replayed after a restart without anyone asking) and kept
/// for the node's life. A per-node actor, not a shard region: the batches are on this node's disk, and only this
/// node can read them (a shard could move away from its bytes). Ingress on this node spills here; the admin API of
/// this node answers for it.
/// </summary>
public sealed class SpillStoreActor : ReceiveActor
{
    private readonly SpillContext _context;
    private readonly Dictionary<string, IActorRef> _entities = new(StringComparer.Ordinal);

    /// <param name="persistenceIds">The spillover persistence ids the store holds (its own topics and imported stores').</param>
    public SpillStoreActor(SpillContext context, IReadOnlyList<string> persistenceIds)
    {
        _context = context;
        foreach (var id in persistenceIds) Entity(SpilloverEntity.NameOf(id));

        Receive<SpillBatch>(b => Entity(b.Topic).Forward(b));
        Receive<GetSpillStatus>(g => Entity(g.Topic).Forward(g));
        Receive<GetSpillTopics>(_ => Sender.Tell(new SpillTopics(_entities.Keys.Order(StringComparer.Ordinal).ToList())));
    }

    public static Props PropsFor(SpillContext context, IReadOnlyList<string> persistenceIds) => Props.Create(() => new SpillStoreActor(context, persistenceIds));

    // Supervision: a failing entity restarts (recovers from the store) like a shard's entity did.
    private IActorRef Entity(string name)
    {
        if (_entities.TryGetValue(name, out var entity)) return entity;
        entity = Context.ActorOf(SpilloverEntity.PropsForId(SpilloverEntity.TypeName + "|" + name, _context), Uri.EscapeDataString(name));
        _entities[name] = entity;
        return entity;
    }
}
