using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace NeverwinterDP.Host.Admin;

/// <summary>Shard regions of this node and their statistics: what <c>nwdp cluster-sharding ...</c> calls.</summary>
public static class ShardingAdmin
{
    /// <summary>How long a region (and, for shard-stats, every region of the cluster) has to answer.</summary>
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    /// <summary><c>GET /v1/sharding/regions</c>: every shard type started on this node with its local shards and entities.</summary>
    public static async Task<IResult> RegionsAsync(ActorSystem system, CancellationToken cancellation)
    {
        var sharding = ClusterSharding.Get(system);
        var regions = new List<RegionInfo>();
        foreach (var type in sharding.ShardTypeNames.Order(StringComparer.Ordinal))
        {
            var state = await sharding.ShardRegion(type).Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AskTimeout, cancellation);
            regions.Add(new RegionInfo(type, state.Shards.Count, state.Shards.Sum(s => s.EntityIds.Count)));
        }
        return AdminApi.Json(new RegionsResponse(regions), AdminJson.Default.RegionsResponse);
    }

    /// <summary><c>GET /v1/sharding/region-stats?type=T</c>: this node's shards of type T, entities per shard.</summary>
    public static async Task<IResult> RegionStatsAsync(ActorSystem system, string? type, CancellationToken cancellation)
    {
        if (!TryRegion(system, type, out var region, out var error)) return error;
        var stats = await region.Ask<ShardRegionStats>(GetShardRegionStats.Instance, AskTimeout, cancellation);
        var shards = new SortedDictionary<string, int>(stats.Stats.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        return AdminApi.Json(new RegionStatsResponse(type!, Cluster.Get(system).SelfAddress.ToString(), shards, shards.Values.Sum(), stats.Failed.Order().ToList()),
            AdminJson.Default.RegionStatsResponse);
    }

    /// <summary><c>GET /v1/sharding/shard-stats?type=T</c>: per member, its shards of type T and their entities.</summary>
    public static async Task<IResult> ShardStatsAsync(ActorSystem system, string? type, CancellationToken cancellation)
    {
        if (!TryRegion(system, type, out var region, out var error)) return error;
        var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(AskTimeout), AskTimeout + TimeSpan.FromSeconds(2), cancellation);
        var members = stats.Regions
            .OrderBy(kv => kv.Key, Member.AddressOrdering)
            .Select(kv =>
            {
                var shards = new SortedDictionary<string, int>(kv.Value.Stats.ToDictionary(s => s.Key, s => s.Value), StringComparer.Ordinal);
                return new MemberShards(kv.Key.ToString(), shards, shards.Values.Sum(), kv.Value.Failed.Order().ToList());
            })
            .ToList();
        return AdminApi.Json(new ShardStatsResponse(type!, members, members.Sum(m => m.Shards.Count), members.Sum(m => m.Entities)), AdminJson.Default.ShardStatsResponse);
    }

    private static bool TryRegion(ActorSystem system, string? type, out IActorRef region, out IResult error)
    {
        region = ActorRefs.Nobody;
        error = Results.Empty;
        var sharding = ClusterSharding.Get(system);
        var known = sharding.ShardTypeNames.Order(StringComparer.Ordinal).ToList();
        if (string.IsNullOrWhiteSpace(type))
        {
            error = AdminApi.Fail(400, $"missing 'type' (a shard type: {(known.Count == 0 ? "none started on this node" : string.Join(", ", known))})");
            return false;
        }
        if (!known.Contains(type))
        {
            error = AdminApi.Fail(404, $"no shard region '{type}' on this node; started here: {(known.Count == 0 ? "none" : string.Join(", ", known))}");
            return false;
        }
        region = sharding.ShardRegion(type);
        return true;
    }
}
