namespace NeverwinterDP.Actors.Sharding;

public static class EntityShards
{
    /// <summary>Shards of the emitter, watchdog and spillover regions (10 per node of the largest cluster expected is plenty).</summary>
    public const int Count = 100;
}
