using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace NeverwinterDP.Actors.Journal;

/// <summary>What the guard does when this node's journal is not the one of the cluster it joined.</summary>
/// <param name="AllowPrivate"><c>nwdp.persistence.allow-private-journal</c>: only warn (tests and demos that accept split state).</param>
/// <param name="Retry">How long to wait for an answer, and between attempts, while the other node cannot answer yet.</param>
public sealed record JournalGuardOptions(bool AllowPrivate, TimeSpan Retry);

/// <summary>
/// Keeps a cluster on one journal. Sharded persistent entities (emitters, watchdog, spillover, the shard coordinators)
/// move between nodes and recover from the journal of the node they land on: nodes with different journals would split
/// the cluster's state silently. So every node answers <see cref="GetJournalIdentity"/>, and a node that finds an older
/// member (it joined a cluster: by seeds, discovery or <c>nwdp cluster join</c>) asks the oldest one; when the answer
/// differs it logs what to configure and refuses: <paramref name="refuse"/> (the host leaves the cluster and exits
/// non-zero). The oldest member never refuses: the cluster keeps the journal it has.
/// </summary>
public sealed class JournalGuardActor : ReceiveActor, IWithTimers
{
    public const string Name = "journal-guard";

    private readonly JournalGuardOptions _options;
    private readonly Action<string> _refuse;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _location;
    private JournalIdentity? _own;
    private bool _checked;
    private Address? _asked;

    public ITimerScheduler Timers { get; set; } = null!;

    public JournalGuardActor(Func<CancellationToken, Task<JournalIdentity>> read, string location, JournalGuardOptions options, Action<string> refuse)
    {
        _options = options;
        _refuse = refuse;
        _location = location;

        Receive<JournalIdentity>(identity =>
        {
            _own = identity;
            _log.Info("journal: {0}", identity);
            CheckAgainstOldest();
        });
        Receive<Status.Failure>(failure =>
        {
            _log.Warning("journal: cannot read the journal's identity yet ({0}); trying again in {1}", failure.Cause.Message, _options.Retry);
            Timers.StartSingleTimer("read", ReadAgain.Instance, _options.Retry);
        });
        Receive<ReadAgain>(_ => read(CancellationToken.None).PipeTo(Self));
        Receive<GetJournalIdentity>(_ => Sender.Tell(new JournalIdentityAnswer(_own?.Id, _own?.Location ?? _location)));
        Receive<ClusterEvent.IMemberEvent>(_ => CheckAgainstOldest());
        Receive<ClusterEvent.CurrentClusterState>(_ => CheckAgainstOldest());
        Receive<CheckAgain>(_ => { _asked = null; CheckAgainstOldest(); });
        Receive<JournalIdentityAnswer>(Compare);
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
        Self.Tell(ReadAgain.Instance);
        // Until checked: the events come first, the cluster's state view may follow them a little; and an unanswered
        // question is asked again. Cancelled once checked (a node alone keeps looking: one local read per tick).
        Timers.StartPeriodicTimer("check", CheckAgain.Instance, _options.Retry);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>The oldest Up member other than this node, when this node is not the oldest itself.</summary>
    private Member? OldestOther()
    {
        var up = _cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving).ToList();
        var self = up.FirstOrDefault(m => m.UniqueAddress.Equals(_cluster.SelfUniqueAddress));
        var others = up.Where(m => !m.UniqueAddress.Equals(_cluster.SelfUniqueAddress)).ToList();
        if (others.Count == 0) return null;
        var oldest = others.Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
        return self is not null && self.IsOlderThan(oldest) ? null : oldest;
    }

    private void CheckAgainstOldest()
    {
        if (_checked || _own is null || _asked is not null) return;
        if (OldestOther() is not { } oldest) return;
        _asked = oldest.Address;
        Context.ActorSelection(new RootActorPath(oldest.Address) / "user" / Name).Tell(GetJournalIdentity.Instance);
    }

    private void Compare(JournalIdentityAnswer answer)
    {
        if (_checked || _own is null || _asked is null || !Sender.Path.Address.Equals(_asked)) return;
        if (answer.Id is null) return; // it has not read its own yet: the next tick asks again
        Timers.Cancel("check");
        _checked = true;
        if (answer.Id == _own.Id)
        {
            _log.Info("journal: the same as the cluster's oldest member {0}", _asked);
            return;
        }
        var message = $"this node's journal is not the cluster's: it writes {_own}, the oldest member {_asked} writes {answer.Location} (journal id {answer.Id}). " +
            "Sharded entities (emitters, watchdog, spillover, shard coordinators) move between nodes and recover from the journal where they land, " +
            "so the cluster's state would split. Give every node one journal: nwdp.persistence.provider = postgresql (or mysql) with the same " +
            "nwdp.persistence.connection-string on every node, or, for nodes on one machine, one SQLite file: " +
            "nwdp.persistence.connection-string = \"Data Source=/same/absolute/path.db\" on every node (docs/cluster.md#one-journal-for-the-cluster).";
        if (_options.AllowPrivate)
        {
            _log.Warning("journal: {0} Kept in the cluster because nwdp.persistence.allow-private-journal = on.", message);
            return;
        }
        _log.Error("journal: {0} Leaving the cluster.", message);
        _refuse(message);
    }

    private sealed class ReadAgain
    {
        public static readonly ReadAgain Instance = new();
    }

    private sealed class CheckAgain
    {
        public static readonly CheckAgain Instance = new();
    }
}
