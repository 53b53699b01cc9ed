using Akka.Cluster.Sharding;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// Sink writers: one shard per slot (<c>files/2</c> → shard <c>2</c>), so the slots of a sink land on as many
/// different nodes as there are, instead of wherever their hashes collide.
/// </summary>
public sealed class SinkWriterMessageExtractor() : HashCodeMessageExtractor(1000)
{
    public override string? EntityId(object message) => message is EnsureSinkWriter e ? e.EntityId : null;

    public override string ShardId(string entityId, object? messageHint = null) => entityId[(entityId.LastIndexOf('/') + 1)..];
}
