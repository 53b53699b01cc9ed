namespace NeverwinterDP.Actors.Sharding;

/// <summary>A message for one sharded entity, which it names (emitter: <c>host/process</c>; watchdog: host; spillover: topic).</summary>
public interface IShardedMessage
{
    string EntityId { get; }
}
