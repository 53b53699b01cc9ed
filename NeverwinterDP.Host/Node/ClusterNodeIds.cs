using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using NeverwinterDP.Actors.Ingress;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Which node ids have left the cluster. Hour markers and lineage name a node by its id (<c>nwdp.node-id</c>, or the
/// host and HTTP port), the cluster by its member address, so each node writes its id and its member's unique address
/// into a replicated dictionary (Akka Distributed Data, gossiped to every member). An id whose last address this node
/// saw removed from the membership (left, or downed after a crash) is gone: the watermark trackers stop waiting for
/// its hour markers (docs/watermarks.md). A node restarted under the same id writes its new address and is alive again.
/// </summary>
/// <remarks>
/// A node that sees a member removed also writes it into the dictionary (the id's value becomes <c>gone:&lt;address&gt;</c>,
/// only if the id still names that address), so a node that joins or restarts later knows it too: without that, a pump
/// node restarted after a writer died would wait for the dead writer again and announce an hour it had announced
/// complete as a new, incomplete version. A node that finds its own id marked gone (its restart raced the removal of its
/// old incarnation) writes its address again. A node not known to be gone is presumed alive: the safe side, an hour is
/// never announced complete for want of knowledge.
/// </remarks>
public sealed class ClusterNodeIds(ActorSystem system, INodeIdentity identity, IHostApplicationLifetime lifetime, ILogger<ClusterNodeIds> log) : IHostedService
{
    private static readonly LWWDictionaryKey<string, string> Key = new("nwdp-node-ids");
    private const string GonePrefix = "gone:";

    private volatile IImmutableDictionary<string, string> _addressOf = ImmutableDictionary<string, string>.Empty; // id -> unique address
    private readonly ConcurrentDictionary<string, byte> _removed = new(StringComparer.Ordinal); // unique addresses removed
    private IActorRef? _watcher;
    private CancellationTokenRegistration _started;

    /// <summary>The node ids whose last member address left the cluster.</summary>
    public IReadOnlyCollection<string> Gone()
    {
        var gone = new List<string>();
        foreach (var (id, address) in _addressOf)
            if (address.StartsWith(GonePrefix, StringComparison.Ordinal) || _removed.ContainsKey(address)) gone.Add(id);
        return gone;
    }

    /// <summary>The ids known now, each with the unique address it last wrote (<c>gone:&lt;address&gt;</c> once that member was removed).</summary>
    public IReadOnlyDictionary<string, string> Known => _addressOf;

    /// <summary>Marks the ids of a removed member gone in the dictionary, for the nodes that join later.</summary>
    private void Removed(string address)
    {
        _removed[address] = 0;
        var cluster = Cluster.Get(system);
        if (address == cluster.SelfUniqueAddress.ToString()) return; // this node leaving: the others say so
        var ids = _addressOf.Where(e => e.Value == address).Select(e => e.Key).ToList();
        if (ids.Count == 0) return;
        // Conditional on the local replica: an id a restarted node already wrote its new address for is left alone.
        DistributedData.Get(system).Replicator.Tell(Dsl.Update(Key, LWWDictionary<string, string>.Empty, WriteLocal.Instance,
            d =>
            {
                foreach (var id in ids)
                    if (d.TryGetValue(id, out var current) && current == address) d = d.SetItem(cluster, id, GonePrefix + address);
                return d;
            }));
    }

    private void EntriesChanged(IImmutableDictionary<string, string> entries)
    {
        _addressOf = entries;
        // Our own id marked gone: a removal of this node's earlier incarnation raced its start. Say we are here.
        if (_published && entries.TryGetValue(identity.Id, out var mine) && mine.StartsWith(GonePrefix, StringComparison.Ordinal)
            && Cluster.Get(system).SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
        {
            Publish();
        }
    }

    private volatile bool _published;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _watcher = system.ActorOf(Props.Create(() => new Watcher(this)), "node-ids");
        // The id may take the HTTP port, known once the listeners are bound: published when the host has started.
        _started = lifetime.ApplicationStarted.Register(Publish);
        return Task.CompletedTask;
    }

    private void Publish()
    {
        try
        {
            var cluster = Cluster.Get(system);
            var self = cluster.SelfUniqueAddress.ToString();
            var id = identity.Id;
            DistributedData.Get(system).Replicator.Tell(Dsl.Update(Key, LWWDictionary<string, string>.Empty, WriteLocal.Instance,
                d => d.SetItem(cluster, id, self)));
            _published = true;
            log.LogDebug("node id {Id} is member {Address}", id, self);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            log.LogWarning("node id not published for the cluster ({Reason}): watermarks wait for this node's markers until the grace", e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _started.Dispose();
        if (_watcher is not null && !system.WhenTerminated.IsCompleted) system.Stop(_watcher);
        return Task.CompletedTask;
    }

    /// <summary>Follows the dictionary and the removals.</summary>
    private sealed class Watcher : ReceiveActor
    {
        private readonly ClusterNodeIds _owner;

        public Watcher(ClusterNodeIds owner)
        {
            _owner = owner;
            Receive<Changed>(c => c.Key.Equals(Key), c => _owner.EntriesChanged(c.Get(Key).Entries.ToImmutableDictionary(StringComparer.Ordinal)));
            Receive<ClusterEvent.MemberRemoved>(r => _owner.Removed(r.Member.UniqueAddress.ToString()));
            Receive<ClusterEvent.IMemberEvent>(_ => { });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart()
        {
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
            DistributedData.Get(Context.System).Replicator.Tell(Dsl.Subscribe(Key, Self));
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
