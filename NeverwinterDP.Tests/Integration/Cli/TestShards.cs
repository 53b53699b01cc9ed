using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Tests.Integration.Cli;

/// <summary>A message for the test's sharded entities: the entity answers with its id.</summary>
public sealed record Touch(string EntityId);

/// <summary>
/// A small sharded entity type started by the tests (the product's own entity types are not needed to test
/// the sharding verbs): 10 shards, the entity answers every message with its name.
/// </summary>
public static class TestShards
{
    public const string TypeName = "test-touch";

    public static Task<IActorRef> StartAsync(ActorSystem system) =>
        ClusterSharding.Get(system).StartAsync(TypeName, _ => Props.Create(() => new Entity()), ClusterShardingSettings.Create(system), new Extractor(),
            new NoRebalance(), PoisonPill.Instance);

    /// <summary>New shards go to the region with the fewest; none ever moves, so counts read at different moments agree.</summary>
    private sealed class NoRebalance : IShardAllocationStrategy
    {
        public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
            Task.FromResult(currentShardAllocations.OrderBy(kv => kv.Value.Count).ThenBy(kv => kv.Key.Path.ToString(), StringComparer.Ordinal).First().Key);

        public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
            Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
    }

    private sealed class Extractor() : HashCodeMessageExtractor(10)
    {
        public override string EntityId(object message) => ((Touch)message).EntityId;
    }

    private sealed class Entity : ReceiveActor
    {
        public Entity() => ReceiveAny(_ => Sender.Tell(Self.Path.Name));
    }
}

/// <summary>An emitter registry that knows one source and one (offline) host.</summary>
public sealed class FixedRegistry : IRegistryQueries
{
    public static readonly SourceInfo Source = new("web-1/nginx", "web-1", "nginx", 1_700_000_000_000, 1_700_000_060_000, "1.2.3",
        new Dictionary<string, long> { ["access"] = 40, ["error"] = 2 }, 42, 4200, 41);

    public static readonly HostStatus Host = new("web-1", false, 1_700_000_060_000, 1_700_000_090_000, 1_700_000_090_000, ["nginx"]);

    /// <summary>The ids to list as not answering (a shard on a crashed member).</summary>
    public List<string> Unavailable { get; } = [];

    public Task<RegistryListing<SourceInfo>> ListSourcesAsync(CancellationToken cancellation) => Task.FromResult(new RegistryListing<SourceInfo>([Source], Unavailable));

    public Task<RegistryListing<HostStatus>> ListHostsAsync(CancellationToken cancellation) => Task.FromResult(new RegistryListing<HostStatus>([Host], Unavailable));
}
