namespace NeverwinterDP.Actors;

/// <summary>
/// The cluster roles a node can have (<c>nwdp.cluster.roles</c>, <c>nwdp run --roles</c>); a node has both by
/// default. Shard regions that must run on one kind of node name the role here.
/// </summary>
public static class NodeRoles
{
    /// <summary>Serves <c>POST /v1/events</c>; a node without it answers 503 naming the role.</summary>
    public const string Ingress = "ingress";

    /// <summary>Runs the data pump: sink writers.</summary>
    public const string Pump = "pump";

    public static IReadOnlyList<string> All { get; } = [Ingress, Pump];
}
