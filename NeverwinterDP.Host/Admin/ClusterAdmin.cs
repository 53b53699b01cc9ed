using Akka.Actor;
using Akka.Cluster;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Host.Admin;

/// <summary>Membership queries and commands: what <c>nwdp cluster ...</c> calls.</summary>
public static class ClusterAdmin
{
    public static IResult Members(ActorSystem system) => AdminApi.Json(MembersOf(system), AdminJson.Default.MembersResponse);

    /// <summary>Every member this node knows (unreachable ones too), in address order: <c>GET /v1/cluster/members</c> and the dashboard.</summary>
    public static MembersResponse MembersOf(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var members = state.Members.Concat(state.Unreachable.Where(u => !state.Members.Contains(u)))
            .OrderBy(m => m.Address, Member.AddressOrdering)
            .Select(m => Describe(cluster, m))
            .ToList();
        return new MembersResponse(cluster.SelfAddress.ToString(), state.Leader?.ToString(), members);
    }

    public static IResult Status(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        return AdminApi.Json(new StatusResponse(Describe(cluster, cluster.SelfMember), state.Leader?.ToString(), state.Members.Count, state.Unreachable.Count,
            (long)system.Uptime.TotalSeconds), AdminJson.Default.StatusResponse);
    }

    public static IResult Leader(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var roles = state.AllRoles.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .ToDictionary(r => r, r => state.RoleLeader(r)?.ToString());
        return AdminApi.Json(new LeaderResponse(state.Leader?.ToString(), roles), AdminJson.Default.LeaderResponse);
    }

    /// <summary>
    /// <c>POST /v1/cluster/leave[?address=A]</c>: this node (the default) or a member leaves gracefully. This node
    /// leaves the way SIGTERM makes it: ingress and pumps stop first, then CoordinatedShutdown leaves the cluster.
    /// </summary>
    public static IResult Leave(HttpContext http, ActorSystem system, IHostApplicationLifetime lifetime, string? address)
    {
        var cluster = Cluster.Get(system);
        Address target;
        if (string.IsNullOrWhiteSpace(address)) target = cluster.SelfAddress;
        else if (!TryMember(cluster, address, out target, out var error)) return error;
        if (target == cluster.SelfAddress)
        {
            // Answer first: stopping the host stops this listener too.
            http.Response.OnCompleted(() =>
            {
                lifetime.StopApplication();
                return Task.CompletedTask;
            });
            return Command("leave", [target], $"{target} is leaving the cluster (stopping ingress and pumps, then leaving)");
        }
        cluster.Leave(target);
        return Command("leave", [target], $"{target} was asked to leave the cluster");
    }

    /// <summary><c>POST /v1/cluster/join?address=A</c>: this node joins the cluster of the node at A.</summary>
    public static IResult Join(ActorSystem system, string? address)
    {
        var cluster = Cluster.Get(system);
        if (!TryParse(address, cluster.SelfAddress.Protocol, out var target, out var error)) return error;
        cluster.Join(target);
        return Command("join", [target], $"{cluster.SelfAddress} was asked to join {target}");
    }

    /// <summary><c>POST /v1/cluster/down?address=A</c>: marks a member down (the leader then removes it).</summary>
    public static IResult Down(ActorSystem system, string? address)
    {
        var cluster = Cluster.Get(system);
        if (!TryMember(cluster, address, out var target, out var error)) return error;
        cluster.Down(target);
        return Command("down", [target], $"{target} was marked down");
    }

    /// <summary><c>POST /v1/cluster/down-unreachable</c>: downs every member this node sees as unreachable.</summary>
    public static IResult DownUnreachable(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var unreachable = cluster.State.Unreachable.Select(m => m.Address).OrderBy(a => a, Member.AddressOrdering).ToList();
        foreach (var address in unreachable) cluster.Down(address);
        return Command("down-unreachable", unreachable,
            unreachable.Count == 0 ? "no unreachable members" : $"{unreachable.Count} unreachable member(s) marked down");
    }

    public static MemberInfo Describe(Cluster cluster, Member m)
    {
        var state = cluster.State;
        return new MemberInfo(m.Address.ToString(), m.Roles.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList(),
            m.Status.ToString(), !state.Unreachable.Contains(m), UpNumber(state, m), state.Leader == m.Address, m.Address == cluster.SelfAddress);
    }

    /// <summary>
    /// The member's place in the order members came up, 1 = the oldest (Akka keeps its own up-number internal;
    /// this is the same order, as <see cref="Member.IsOlderThan"/> gives it); 0 for one not yet up.
    /// </summary>
    private static int UpNumber(ClusterEvent.CurrentClusterState state, Member m)
    {
        if (m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp) return 0;
        return 1 + state.Members.Concat(state.Unreachable).Distinct()
            .Count(o => o.Address != m.Address && o.Status is not (MemberStatus.Joining or MemberStatus.WeaklyUp) && o.IsOlderThan(m));
    }

    /// <summary>
    /// <c>akka.tcp://nwdp@HOST:PORT</c>, or <c>HOST:PORT</c> for a node of this cluster: the shorthand takes this node's
    /// <paramref name="protocol"/> (<c>akka.ssl.tcp</c> with remoting TLS), and a full address of the other is refused.
    /// </summary>
    public static bool TryParse(string? text, string protocol, out Address address, out IResult error)
    {
        address = Address.AllSystems;
        error = Results.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = AdminApi.Fail(400, "missing 'address' (akka.tcp://nwdp@HOST:PORT or HOST:PORT)");
            return false;
        }
        try
        {
            address = Address.Parse(ClusterOptions.SeedAddress(text.Trim(), protocol == RemoteTls.SchemeOf(true)));
            return true;
        }
        catch (ArgumentException e)
        {
            error = AdminApi.Fail(400, $"'{text}' is not a member address: {e.Message}");
            return false;
        }
    }

    private static bool TryMember(Cluster cluster, string? text, out Address address, out IResult error)
    {
        if (!TryParse(text, cluster.SelfAddress.Protocol, out address, out error)) return false;
        var state = cluster.State;
        var target = address;
        if (state.Members.Any(m => m.Address == target) || state.Unreachable.Any(m => m.Address == target)) return true;
        error = AdminApi.Fail(404, $"{address} is not a member of this cluster; members: {string.Join(", ", state.Members.Select(m => m.Address))}");
        return false;
    }

    private static IResult Command(string action, IEnumerable<Address> addresses, string message) =>
        AdminApi.Json(new CommandResponse(action, addresses.Select(a => a.ToString()).ToList(), message), AdminJson.Default.CommandResponse);
}
