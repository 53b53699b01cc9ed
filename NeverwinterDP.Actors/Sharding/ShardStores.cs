using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;

namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// Where every shard region keeps its coordinator's state and its remembered entities: the persistence journal
/// (<c>nwdp.persistence</c>), the one store the cluster shares, never distributed data. Why (docs/cluster.md,
/// "Shard coordinator and remembered entities"): ddata's remembered entities go to a durable LMDB store that each node
/// keeps in its working directory, in a directory named after the system, the replicator and the remoting port, and nodes run on a free port
/// (<c>nwdp.cluster.port = 0</c>), so a restarted node opens a new, empty directory and forgets what it remembered;
/// the store lives outside <c>--data</c> and is local to the node, not the cluster's. Set here and in
/// <c>akka.cluster.sharding</c> (the host's reference.conf) so that neither an Akka default nor a hosting default decides.
/// </summary>
public static class ShardStores
{
    /// <summary>The coordinator's state on the journal; with <paramref name="remember"/>, remembered entities too (event-sourced).</summary>
    public static ShardOptions OnJournal(this ShardOptions options, bool remember)
    {
        options.StateStoreMode = StateStoreMode.Persistence;
        options.RememberEntities = remember;
        if (remember) options.RememberEntitiesStore = RememberEntitiesStore.Eventsourced;
        return options;
    }
}
