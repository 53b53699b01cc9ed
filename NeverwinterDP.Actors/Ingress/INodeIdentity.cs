namespace NeverwinterDP.Actors.Ingress;

/// <summary>
/// This node's id in lineage, stats and answers: <c>nwdp.node.id</c>, else derived from the host name and the
/// ingress port (known once the listener is bound, so it is read, never set).
/// </summary>
public interface INodeIdentity
{
    string Id { get; }
}
