using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// This node's id: <c>nwdp.node.id</c>, else <c>MACHINE-PORT</c> with the ingress port as bound (so nodes on one
/// machine differ). Derived when first read, once the listener is bound; never set.
/// </summary>
public sealed class NodeIdentity(NodeConfig config, NodeListeners listeners) : INodeIdentity
{
    private string? _id;

    public string Id => _id ?? (listeners.HttpPort > 0 || !string.IsNullOrEmpty(config.NodeId)
        ? _id = config.ResolveNodeId(listeners.HttpPort)
        : config.ResolveNodeId(0)); // not bound yet: not kept
}
