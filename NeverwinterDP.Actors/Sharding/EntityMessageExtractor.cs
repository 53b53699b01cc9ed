using Akka.Cluster.Sharding;

namespace NeverwinterDP.Actors.Sharding;

/// <summary>Emitter, watchdog and spillover messages carry their entity id (<see cref="IShardedMessage"/>); shards by hash.</summary>
public sealed class EntityMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    // Sharding's own messages (StartEntity of remembered entities) are handled by the base class.
    public override string? EntityId(object message) => message is IShardedMessage e ? e.EntityId : null;
}
